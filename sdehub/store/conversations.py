"""Consumers, conversations, their dialogs, participants and messages.

The messaging hot path lives here, so these queries run as plain SQL on the driver connection
(:mod:`sdehub.store.sql`); the statements are generated from the table definitions.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from sdehub.store import engagementlines, transcripts
from sdehub.store.sql import RowSql, Sql, TableSql, one, rows, run
from sdehub.store.tables import consumers, conversations, dialogs, messages, participants


class Consumer(msgspec.Struct, kw_only=True):
    account_id: str
    consumer_id: str
    ext_consumer_id: str | None
    acr: str
    claims: dict[str, Any] | None
    profile: dict[str, Any] | None
    created_ms: int
    updated_ms: int


class Conversation(msgspec.Struct, kw_only=True):
    account_id: str
    conversation_id: str
    consumer_id: str
    state: str
    created_ms: int
    closed_ms: int | None = None
    close_reason: str | None = None
    app_id: str | None = None
    skill_id: str | None = None
    campaign_id: str | None = None
    engagement_id: str | None = None
    visitor_id: str | None = None
    session_id: str | None = None
    context: dict[str, Any] | None = None
    ttr: str | None = None
    channel_type: str = "MESSAGING"
    client_properties: dict[str, Any] | None = None
    last_sequence: int = -1
    chat_state: str | None = None
    csat: dict[str, Any] | None = None


class Dialog(msgspec.Struct, kw_only=True):
    account_id: str
    dialog_id: str
    conversation_id: str
    dialog_type: str
    state: str
    created_ms: int
    closed_ms: int | None = None


class Participant(msgspec.Struct, kw_only=True):
    account_id: str
    conversation_id: str
    participant_id: str
    role: str
    joined_ms: int
    left_ms: int | None = None


class Message(msgspec.Struct, kw_only=True):
    account_id: str
    conversation_id: str
    sequence: int
    dialog_id: str
    participant_id: str
    role: str
    event_type: str
    event: dict[str, Any]
    server_ms: int


CONSUMERS = TableSql(consumers)
CONVERSATIONS = TableSql(conversations)
DIALOGS = TableSql(dialogs)
PARTICIPANTS = TableSql(participants)
MESSAGES = TableSql(messages)

_GET_CONSUMER = CONSUMERS.select("account_id = :account_id AND consumer_id = :consumer_id")
# Rows go in by position (RowSql): the hot path's inserts.
_PUT_CONSUMER: dict[tuple[str, ...], RowSql] = {}
_FIRST_PROFILE = RowSql(
    CONSUMERS,
    Consumer,
    CONSUMERS.on_conflict(("account_id", "consumer_id"), ("profile", "updated_ms"))
    + " WHERE consumers.profile IS NULL",
)
_INSERT_CONVERSATION = RowSql(CONVERSATIONS, Conversation)
_GET_CONVERSATION = CONVERSATIONS.select(
    "account_id = :account_id AND conversation_id = :conversation_id"
)
_OPEN_CONVERSATION_OF = CONVERSATIONS.select(
    "account_id = :account_id AND consumer_id = :consumer_id AND state = 'OPEN'"
)
_OPEN_CONVERSATION_OF_VISIT = CONVERSATIONS.select(
    "account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id"
    " AND state = 'OPEN'",
    "ORDER BY created_ms DESC LIMIT 1",
)
_CONVERSATIONS_OF_VISIT = CONVERSATIONS.select(
    "account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id",
    "ORDER BY created_ms, conversation_id",
)
# One indexed lookup per way of belonging (consumer; visit), joined with UNION ALL: an OR across
# them makes SQLite scan every conversation of the account.
_BY_CONSUMER = "account_id = :account_id AND consumer_id = :consumer_id"
_BY_VISIT = "account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id"
_IN_WINDOW = "(state = 'OPEN' OR closed_ms >= :closed_since_ms)"
_ATTRIBUTABLE = {
    (True, False): Sql(f"SELECT conversation_id FROM conversations WHERE {_BY_CONSUMER}"
                       f" AND {_IN_WINDOW}"),
    (False, True): Sql(f"SELECT conversation_id FROM conversations WHERE {_BY_VISIT}"
                       f" AND {_IN_WINDOW}"),
    (True, True): Sql(f"SELECT conversation_id FROM conversations WHERE {_BY_CONSUMER}"
                      f" AND {_IN_WINDOW} UNION ALL SELECT conversation_id FROM conversations"
                      f" WHERE {_BY_VISIT} AND {_IN_WINDOW}"),
}  # fmt: skip
_UPDATE_CONVERSATION: dict[tuple[str, ...], Sql] = {}
_NEXT_SEQUENCE = Sql(
    "UPDATE conversations SET last_sequence = last_sequence + 1"
    " WHERE account_id = :account_id AND conversation_id = :conversation_id"
    " RETURNING last_sequence"
)
_OWNED_OPEN = (
    " WHERE account_id = :account_id AND conversation_id = :conversation_id"
    " AND consumer_id = :consumer_id AND state = 'OPEN'"
)
_TAKE_SEQUENCE = Sql(
    f"UPDATE conversations SET last_sequence = last_sequence + 1{_OWNED_OPEN}"
    " RETURNING last_sequence"
)
_SET_CHAT_STATE = Sql(f"UPDATE conversations SET chat_state = :chat_state{_OWNED_OPEN}")
_LIST_CONVERSATIONS = {
    by_state: CONVERSATIONS.select(
        "account_id = :account_id" + (" AND state = :state" if by_state else ""),
        "ORDER BY created_ms DESC, conversation_id LIMIT :limit OFFSET :offset",
    )
    for by_state in (False, True)
}
_INSERT_DIALOG = RowSql(DIALOGS, Dialog)
_CLOSE_DIALOGS = Sql(
    "UPDATE dialogs SET state = 'CLOSE', closed_ms = :closed_ms WHERE account_id = :account_id"
    " AND conversation_id = :conversation_id AND state = 'OPEN'"
)
_DIALOGS_OF = DIALOGS.select(
    "account_id = :account_id AND conversation_id = :conversation_id", "ORDER BY created_ms"
)
_ADD_PARTICIPANT = RowSql(
    PARTICIPANTS,
    Participant,
    PARTICIPANTS.on_conflict(("account_id", "conversation_id", "participant_id", "role"), ()),
)
_PARTICIPANTS_OF = PARTICIPANTS.select(
    "account_id = :account_id AND conversation_id = :conversation_id", "ORDER BY joined_ms"
)
_INSERT_MESSAGE = RowSql(MESSAGES, Message)
_MESSAGES_OF = MESSAGES.select(
    "account_id = :account_id AND conversation_id = :conversation_id AND sequence > :after",
    "ORDER BY sequence",
)


# --- consumers -----------------------------------------------------------------------------


def get_consumer(conn: Connection, account_id: str, consumer_id: str) -> Consumer | None:
    row = one(conn, _GET_CONSUMER, {"account_id": account_id, "consumer_id": consumer_id})
    return None if row is None else Consumer(**CONSUMERS.decode(row))


def put_consumer(conn: Connection, consumer: Consumer, *, update: tuple[str, ...]) -> None:
    """Create a consumer, or update the named columns of an existing one."""
    columns = (*update, "updated_ms")
    sql = _PUT_CONSUMER.get(columns)
    if sql is None:
        conflict = CONSUMERS.on_conflict(("account_id", "consumer_id"), columns)
        sql = _PUT_CONSUMER[columns] = RowSql(CONSUMERS, Consumer, conflict)
    run(conn, sql, sql.params(consumer))


def first_profile(conn: Connection, consumer: Consumer) -> bool:
    """Create the consumer, or give an existing one without a profile this one (its profile and
    ``updated_ms``, nothing else); False when it already has a profile, then left unchanged.
    One statement for the consumer a CONVERSATION brings most often (new, or just registered),
    where reading it first and then writing takes two."""
    cursor = run(conn, _FIRST_PROFILE, _FIRST_PROFILE.params(consumer))
    return int(cursor.rowcount) == 1


# --- conversations -------------------------------------------------------------------------


def add_conversation(conn: Connection, conversation: Conversation) -> None:
    run(conn, _INSERT_CONVERSATION, _INSERT_CONVERSATION.params(conversation))


def get_conversation(
    conn: Connection, account_id: str, conversation_id: str
) -> Conversation | None:
    params = {"account_id": account_id, "conversation_id": conversation_id}
    row = one(conn, _GET_CONVERSATION, params)
    return None if row is None else Conversation(**CONVERSATIONS.decode(row))


def open_conversation_of(
    conn: Connection, account_id: str, consumer_id: str
) -> Conversation | None:
    row = one(conn, _OPEN_CONVERSATION_OF, {"account_id": account_id, "consumer_id": consumer_id})
    return None if row is None else Conversation(**CONVERSATIONS.decode(row))


def open_conversation_of_visit(
    conn: Connection, account_id: str, visitor_id: str, session_id: str
) -> Conversation | None:
    params = {"account_id": account_id, "visitor_id": visitor_id, "session_id": session_id}
    row = one(conn, _OPEN_CONVERSATION_OF_VISIT, params)
    return None if row is None else Conversation(**CONVERSATIONS.decode(row))


def conversations_of_visit(
    conn: Connection, account_id: str, visitor_id: str, session_id: str
) -> list[Conversation]:
    params = {"account_id": account_id, "visitor_id": visitor_id, "session_id": session_id}
    return [
        Conversation(**CONVERSATIONS.decode(r)) for r in rows(conn, _CONVERSATIONS_OF_VISIT, params)
    ]


def attributable(
    conn: Connection,
    account_id: str,
    *,
    consumer_id: str | None,
    visitor_id: str | None,
    session_id: str | None,
    closed_since_ms: int,
) -> list[str]:
    """Conversations an SDE reported now belongs to: the consumer's (or the visit's) open ones
    and those closed at or after ``closed_since_ms``."""
    by_consumer = consumer_id is not None
    by_visit = visitor_id is not None and session_id is not None
    if not by_consumer and not by_visit:
        return []
    params: dict[str, Any] = {"account_id": account_id, "closed_since_ms": closed_since_ms}
    if by_consumer:
        params["consumer_id"] = consumer_id
    if by_visit:
        params.update(visitor_id=visitor_id, session_id=session_id)
    found = rows(conn, _ATTRIBUTABLE[(by_consumer, by_visit)], params)
    return sorted({r[0] for r in found})  # UNION ALL: a conversation may match both ways


def update_conversation(
    conn: Connection, account_id: str, conversation_id: str, **values: Any
) -> None:
    columns = tuple(sorted(values))
    sql = _UPDATE_CONVERSATION.get(columns)
    if sql is None:
        unknown = set(columns) - set(CONVERSATIONS.columns)
        if unknown:
            raise ValueError(f"conversations has no column {sorted(unknown)}")
        assignments = ", ".join(
            f"{c} = {{json:{c}}}" if c in CONVERSATIONS.json else f"{c} = :{c}" for c in columns
        )
        sql = _UPDATE_CONVERSATION[columns] = Sql(
            f"UPDATE conversations SET {assignments}"
            " WHERE account_id = :w_account_id AND conversation_id = :w_conversation_id"
        )
    params = CONVERSATIONS.encode(values)
    params.update(w_account_id=account_id, w_conversation_id=conversation_id)
    run(conn, sql, params)


def close(
    conn: Connection, account_id: str, conversation_id: str, closed_ms: int, reason: str
) -> None:
    """Close the conversation and its open dialogs, and write its Data Access Engagement line
    (``engagementlines.keep``): a closed conversation takes no more messages, participants or
    changes (the services refuse them), so its line is final."""
    update_conversation(
        conn, account_id, conversation_id, state="CLOSE", closed_ms=closed_ms, close_reason=reason
    )
    close_dialogs(conn, account_id, conversation_id, closed_ms)
    engagementlines.keep(conn, account_id, conversation_id)


def next_sequence(conn: Connection, account_id: str, conversation_id: str) -> int:
    """Take the conversation's next message sequence number (0, 1, 2, ...)."""
    row = one(conn, _NEXT_SEQUENCE, {"account_id": account_id, "conversation_id": conversation_id})
    if row is None:
        raise LookupError(f"no conversation {conversation_id!r}")
    return int(row[0])


def take_sequence(
    conn: Connection, account_id: str, conversation_id: str, consumer_id: str
) -> int | None:
    """The next sequence of the consumer's conversation if it is open; else None (one statement
    that checks ownership and state while it counts)."""
    params = {
        "account_id": account_id,
        "conversation_id": conversation_id,
        "consumer_id": consumer_id,
    }
    row = one(conn, _TAKE_SEQUENCE, params)
    return None if row is None else int(row[0])


def set_chat_state(
    conn: Connection, account_id: str, conversation_id: str, consumer_id: str, chat_state: str
) -> bool:
    """Record the consumer's chat state on its open conversation; False if there is none."""
    params = {
        "account_id": account_id,
        "conversation_id": conversation_id,
        "consumer_id": consumer_id,
        "chat_state": chat_state,
    }
    return int(run(conn, _SET_CHAT_STATE, params).rowcount) == 1


def list_conversations(
    conn: Connection,
    account_id: str,
    *,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Conversation]:
    params: dict[str, Any] = {"account_id": account_id, "limit": limit, "offset": offset}
    if state is not None:
        params["state"] = state
    found = rows(conn, _LIST_CONVERSATIONS[state is not None], params)
    return [Conversation(**CONVERSATIONS.decode(r)) for r in found]


# --- dialogs, participants, messages -------------------------------------------------------


def add_dialog(conn: Connection, dialog: Dialog) -> None:
    run(conn, _INSERT_DIALOG, _INSERT_DIALOG.params(dialog))


def close_dialogs(conn: Connection, account_id: str, conversation_id: str, closed_ms: int) -> None:
    params = {"account_id": account_id, "conversation_id": conversation_id, "closed_ms": closed_ms}
    run(conn, _CLOSE_DIALOGS, params)


def dialogs_of(conn: Connection, account_id: str, conversation_id: str) -> list[Dialog]:
    params = {"account_id": account_id, "conversation_id": conversation_id}
    return [Dialog(**DIALOGS.decode(r)) for r in rows(conn, _DIALOGS_OF, params)]


def add_participant(conn: Connection, participant: Participant) -> None:
    run(conn, _ADD_PARTICIPANT, _ADD_PARTICIPANT.params(participant))


def participants_of(conn: Connection, account_id: str, conversation_id: str) -> list[Participant]:
    params = {"account_id": account_id, "conversation_id": conversation_id}
    return [Participant(**PARTICIPANTS.decode(r)) for r in rows(conn, _PARTICIPANTS_OF, params)]


def add_message(conn: Connection, message: Message) -> None:
    run(conn, _INSERT_MESSAGE, _INSERT_MESSAGE.params(message))
    transcripts.add_item(conn, message)  # its Data Access transcript item, if it has one


def messages_of(
    conn: Connection, account_id: str, conversation_id: str, *, after: int = -1
) -> list[Message]:
    params = {"account_id": account_id, "conversation_id": conversation_id, "after": after}
    return [Message(**MESSAGES.decode(r)) for r in rows(conn, _MESSAGES_OF, params)]
