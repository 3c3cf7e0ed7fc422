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


# --- consumers -----------------------------------------------------------------------------


def get_consumer(conn: Connection, account_id: str, consumer_id: str) -> Consumer | None:
    t = consumers
    row = conn.execute(
        sa.select(t).where(t.c.account_id == account_id, t.c.consumer_id == consumer_id)
    ).first()
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
    conn.execute(sa.insert(conversations).values(**msgspec.structs.asdict(conversation)))


def get_conversation(
    conn: Connection, account_id: str, conversation_id: str
) -> Conversation | None:
    t = conversations
    row = conn.execute(
        sa.select(t).where(t.c.account_id == account_id, t.c.conversation_id == conversation_id)
    ).first()
    return None if row is None else _as(Conversation, row)


def open_conversation_of(
    conn: Connection, account_id: str, consumer_id: str
) -> Conversation | None:
    t = conversations
    row = conn.execute(
        sa.select(t).where(
            t.c.account_id == account_id, t.c.consumer_id == consumer_id, t.c.state == "OPEN"
        )
    ).first()
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
    t = conversations
    who = []
    if consumer_id is not None:
        who.append(t.c.consumer_id == consumer_id)
    if visitor_id is not None and session_id is not None:
        who.append(sa.and_(t.c.visitor_id == visitor_id, t.c.session_id == session_id))
    if not who:
        return []
    rows = conn.execute(
        sa.select(t.c.conversation_id).where(
            t.c.account_id == account_id,
            sa.or_(*who),
            sa.or_(t.c.state == "OPEN", t.c.closed_ms >= closed_since_ms),
        )
    )
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
    t = conversations
    return int(
        conn.execute(
            sa.update(t)
            .where(t.c.account_id == account_id, t.c.conversation_id == conversation_id)
            .values(last_sequence=t.c.last_sequence + 1)
            .returning(t.c.last_sequence)
        ).scalar_one()
    )


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
    conn.execute(sa.insert(dialogs).values(**msgspec.structs.asdict(dialog)))


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
    conn.execute(sa.insert(messages).values(**msgspec.structs.asdict(message)))


def messages_of(
    conn: Connection, account_id: str, conversation_id: str, *, after: int = -1
) -> list[Message]:
    t = messages
    q = sa.select(t).where(
        t.c.account_id == account_id, t.c.conversation_id == conversation_id, t.c.sequence > after
    )
    return [_as(Message, r) for r in conn.execute(q.order_by(t.c.sequence))]
