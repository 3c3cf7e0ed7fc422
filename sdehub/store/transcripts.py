"""The transcript items of the Data Access Engagement lines, kept as messages are written.

A message of a conversation's transcript (a ContentEvent or a RichContentEvent) gets its item of
the Engagement line (``avrotext.transcript_item``) when it is stored, in ``transcript_texts``; the
export's query joins a conversation's items (``exports.engagement_rows``). Messages are never
updated, so an item never changes after it is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import msgspec
from sqlalchemy.engine import Connection

from sdehub.dataaccess.avrotext.engagement import transcript_item
from sdehub.store.history import AGENT_ROLES
from sdehub.store.sql import RowSql, Sql, TableSql, one, run
from sdehub.store.tables import transcript_texts

if TYPE_CHECKING:
    from sdehub.store.conversations import Message

_KINDS: Final = {"ContentEvent": True, "RichContentEvent": False}  # the transcript's


class Item(msgspec.Struct):
    """A row of ``transcript_texts``, in its columns' order."""

    account_id: str
    conversation_id: str
    sequence: int
    consumer: bool
    avro: str


_INSERT = RowSql(TableSql(transcript_texts), Item)
_STORED_EVENT = Sql(
    "SELECT {text:event} FROM messages WHERE account_id = :account_id"
    " AND conversation_id = :conversation_id AND sequence = :sequence"
)


def add_item(conn: Connection, message: Message) -> None:
    """Keep ``message``'s transcript item, if it has one (called by ``conversations.add_message``
    once the message is inserted)."""
    content = _KINDS.get(message.event_type)
    if content is None:
        return
    event: Any = message.event
    text = event.get("message")
    if text is not None and type(text) is not str:
        # The export writes what it reads back, and PostgreSQL's jsonb writes some values its
        # own way (``-0.0`` as ``0.0``, ``1e16`` as digits): an item of anything but a string is
        # made from the event as stored. (A str or null reads back as it was.)
        stored = one(
            conn,
            _STORED_EVENT,
            {
                "account_id": message.account_id,
                "conversation_id": message.conversation_id,
                "sequence": message.sequence,
            },
        )
        event = msgspec.json.decode(stored[0])
        text = event.get("message")
    agent = message.role in AGENT_ROLES
    avro = transcript_item(
        message.conversation_id,
        message.sequence,
        message.dialog_id,
        message.participant_id,
        agent,
        content,
        event.get("contentType", "text/plain"),
        text,
        message.server_ms,
    )
    item = Item(message.account_id, message.conversation_id, message.sequence, not agent, avro)
    run(conn, _INSERT, _INSERT.params(item))
