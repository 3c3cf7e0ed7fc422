"""Consumers, conversations, their dialogs, participants and messages."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.tables import consumers, conversations, dialogs, messages, participants
from sdehub.store.upsert import upsert


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


def _as(cls: type[Any], row: Any) -> Any:
    return cls(**row._mapping)


# Statements of the messaging hot path, built once with bound parameters: building a statement
# and computing its cache key costs more than running it on SQLite. Same SQL, same results.
# (Parameter names of an UPDATE must not be column names, hence the ``p_`` prefix.)
_GET_CONSUMER = sa.select(consumers).where(
    consumers.c.account_id == sa.bindparam("account_id"),
    consumers.c.consumer_id == sa.bindparam("consumer_id"),
)
_INSERT_CONVERSATION = sa.insert(conversations)
_GET_CONVERSATION = sa.select(conversations).where(
    conversations.c.account_id == sa.bindparam("account_id"),
    conversations.c.conversation_id == sa.bindparam("conversation_id"),
)
_OPEN_CONVERSATION_OF = sa.select(conversations).where(
    conversations.c.account_id == sa.bindparam("account_id"),
    conversations.c.consumer_id == sa.bindparam("consumer_id"),
    conversations.c.state == "OPEN",
)
_NEXT_SEQUENCE = (
    sa.update(conversations)
    .where(
        conversations.c.account_id == sa.bindparam("p_account_id"),
        conversations.c.conversation_id == sa.bindparam("p_conversation_id"),
    )
    .values(last_sequence=conversations.c.last_sequence + 1)
    .returning(conversations.c.last_sequence)
)
_INSERT_DIALOG = sa.insert(dialogs)
_INSERT_MESSAGE = sa.insert(messages)
_attributable: dict[tuple[bool, bool], Any] = {}


def _attributable_statement(by_consumer: bool, by_visit: bool) -> Any:
    stmt = _attributable.get((by_consumer, by_visit))
    if stmt is None:
        t = conversations
        who = []
        if by_consumer:
            who.append(t.c.consumer_id == sa.bindparam("consumer_id"))
        if by_visit:
            who.append(
                sa.and_(
                    t.c.visitor_id == sa.bindparam("visitor_id"),
                    t.c.session_id == sa.bindparam("session_id"),
                )
            )
        stmt = _attributable[(by_consumer, by_visit)] = sa.select(t.c.conversation_id).where(
            t.c.account_id == sa.bindparam("account_id"),
            sa.or_(*who),
            sa.or_(t.c.state == "OPEN", t.c.closed_ms >= sa.bindparam("closed_since_ms")),
        )
    return stmt


# --- consumers -----------------------------------------------------------------------------


def get_consumer(conn: Connection, account_id: str, consumer_id: str) -> Consumer | None:
    params = {"account_id": account_id, "consumer_id": consumer_id}
    row = conn.execute(_GET_CONSUMER, params).first()
    return None if row is None else _as(Consumer, row)


def put_consumer(conn: Connection, consumer: Consumer, *, update: tuple[str, ...]) -> None:
    """Create a consumer, or update the named columns of an existing one."""
    upsert(
        conn,
        consumers,
        [msgspec.structs.asdict(consumer)],
        keys=("account_id", "consumer_id"),
        update=(*update, "updated_ms"),
    )


# --- conversations -------------------------------------------------------------------------


def add_conversation(conn: Connection, conversation: Conversation) -> None:
    conn.execute(_INSERT_CONVERSATION, msgspec.structs.asdict(conversation))


def get_conversation(
    conn: Connection, account_id: str, conversation_id: str
) -> Conversation | None:
    params = {"account_id": account_id, "conversation_id": conversation_id}
    row = conn.execute(_GET_CONVERSATION, params).first()
    return None if row is None else _as(Conversation, row)


def open_conversation_of(
    conn: Connection, account_id: str, consumer_id: str
) -> Conversation | None:
    params = {"account_id": account_id, "consumer_id": consumer_id}
    row = conn.execute(_OPEN_CONVERSATION_OF, params).first()
    return None if row is None else _as(Conversation, row)


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
    params = {"account_id": account_id, "closed_since_ms": closed_since_ms}
    if by_consumer:
        params["consumer_id"] = consumer_id
    if by_visit:
        params.update(visitor_id=visitor_id, session_id=session_id)
    rows = conn.execute(_attributable_statement(by_consumer, by_visit), params)
    return [r.conversation_id for r in rows]


def update_conversation(
    conn: Connection, account_id: str, conversation_id: str, **values: Any
) -> None:
    t = conversations
    conn.execute(
        sa.update(t)
        .where(t.c.account_id == account_id, t.c.conversation_id == conversation_id)
        .values(**values)
    )


def next_sequence(conn: Connection, account_id: str, conversation_id: str) -> int:
    """Take the conversation's next message sequence number (0, 1, 2, ...)."""
    params = {"p_account_id": account_id, "p_conversation_id": conversation_id}
    return int(conn.execute(_NEXT_SEQUENCE, params).scalar_one())


def list_conversations(
    conn: Connection,
    account_id: str,
    *,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Conversation]:
    t = conversations
    q = sa.select(t).where(t.c.account_id == account_id)
    if state is not None:
        q = q.where(t.c.state == state)
    q = q.order_by(t.c.created_ms.desc(), t.c.conversation_id).limit(limit).offset(offset)
    return [_as(Conversation, r) for r in conn.execute(q)]


# --- dialogs, participants, messages -------------------------------------------------------


def add_dialog(conn: Connection, dialog: Dialog) -> None:
    conn.execute(_INSERT_DIALOG, msgspec.structs.asdict(dialog))


def close_dialogs(conn: Connection, account_id: str, conversation_id: str, closed_ms: int) -> None:
    t = dialogs
    conn.execute(
        sa.update(t)
        .where(
            t.c.account_id == account_id,
            t.c.conversation_id == conversation_id,
            t.c.state == "OPEN",
        )
        .values(state="CLOSE", closed_ms=closed_ms)
    )


def dialogs_of(conn: Connection, account_id: str, conversation_id: str) -> list[Dialog]:
    t = dialogs
    q = sa.select(t).where(t.c.account_id == account_id, t.c.conversation_id == conversation_id)
    return [_as(Dialog, r) for r in conn.execute(q.order_by(t.c.created_ms))]


def add_participant(conn: Connection, participant: Participant) -> None:
    upsert(
        conn,
        participants,
        [msgspec.structs.asdict(participant)],
        keys=("account_id", "conversation_id", "participant_id", "role"),
        update=(),
    )


def participants_of(conn: Connection, account_id: str, conversation_id: str) -> list[Participant]:
    t = participants
    q = sa.select(t).where(t.c.account_id == account_id, t.c.conversation_id == conversation_id)
    return [_as(Participant, r) for r in conn.execute(q.order_by(t.c.joined_ms))]


def add_message(conn: Connection, message: Message) -> None:
    conn.execute(_INSERT_MESSAGE, msgspec.structs.asdict(message))


def messages_of(
    conn: Connection, account_id: str, conversation_id: str, *, after: int = -1
) -> list[Message]:
    t = messages
    q = sa.select(t).where(
        t.c.account_id == account_id, t.c.conversation_id == conversation_id, t.c.sequence > after
    )
    return [_as(Message, r) for r in conn.execute(q.order_by(t.c.sequence))]
