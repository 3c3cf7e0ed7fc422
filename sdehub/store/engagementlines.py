"""Closed conversations' Data Access Engagement lines, written when they close.

A closed conversation takes no more messages, participants or changes (the messaging and agent
services refuse them), so its Engagement line is final when it closes: :func:`keep` writes it then
(``conversations.close`` calls it), from the rows the hourly export would read
(``exports.engagement_rows_of``), into ``engagement_lines``, and removes the conversation's
transcript items, which the line holds. The export reads an hour's lines as they lie
(:func:`between`), in the file's order, as bytes: no query joins, no line is written, no text is
decoded and encoded again (docs/benchmarks.md, "Export"). The text is the export's own
(``avrotext.engagement_lines_from_rows``): a change to it needs a migration that rewrites the
table, as for the other stored items.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from sdehub.dataaccess.avrotext.engagement import engagement_lines_from_rows
from sdehub.store import exports
from sdehub.store.sql import Sql, rows, run

# Kept once: a second call (the items gone) would write an empty transcript.
_INSERT = Sql(
    "INSERT INTO engagement_lines (account_id, closed_ms, conversation_id, line)"
    " VALUES (:account_id, :closed_ms, :conversation_id, :line) ON CONFLICT DO NOTHING"
)
_ITEMS_KEPT = Sql(
    "DELETE FROM transcript_texts"
    " WHERE account_id = :account_id AND conversation_id = :conversation_id"
)
# The lines as bytes: the file is bytes, and the text is a few MB an hour.
_BETWEEN = {
    dialect: Sql(
        f"SELECT closed_ms, conversation_id, {line} FROM engagement_lines"
        " WHERE account_id = :account_id AND closed_ms >= :since_ms AND closed_ms < :until_ms"
        " ORDER BY closed_ms, conversation_id",
        binary=True,
    )
    for dialect, line in (
        ("sqlite", "CAST(line AS BLOB)"),
        ("postgresql", "convert_to(line, 'UTF8')"),
    )
}


def keep(conn: Connection, account_id: str, conversation_id: str) -> None:
    """Write the closed conversation's Engagement line, and remove its transcript items (the
    line holds them). Nothing for a conversation that does not exist or is not closed, or whose
    line is kept already."""
    found = exports.engagement_rows_of(conn, account_id, conversation_id)
    if not found.conversations or found.conversations[0][3] is None:
        return
    (line,) = engagement_lines_from_rows(account_id, found)
    params = {"account_id": account_id, "conversation_id": conversation_id}
    run(conn, _INSERT, {**params, "closed_ms": found.conversations[0][3], "line": line})
    run(conn, _ITEMS_KEPT, params)


def between(conn: Connection, account_id: str, since_ms: int, until_ms: int) -> list[Any]:
    """``(closed_ms, conversation_id, line as UTF-8 bytes)`` of the lines of the conversations
    closed in ``[since_ms, until_ms)``, in the file's order."""
    params = {"account_id": account_id, "since_ms": since_ms, "until_ms": until_ms}
    return rows(conn, _BETWEEN[conn.dialect.name], params)
