"""``export_hour``: one account's hour of events, written as the four Data Access files.

A pure function of the database and its arguments (time comes in as ``hour_ms``); the scheduler
and ``sdehub export`` both call it. Every hour produces all four files, empty ones included, so a
downloader can tell "nothing happened" from "not produced yet".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from sdehub.dataaccess import avrotext, files, sessions
from sdehub.store import exports

Body = tuple[dict[str, Any], list[int]]
Lines = list[str] | list[bytes]


def hour_lines(conn: Connection, account_id: str, hour_ms: int) -> dict[str, list[str]]:
    """The Avro JSON lines of each data type for the hour starting at ``hour_ms``, as text."""
    return {
        kind: [line.decode() if isinstance(line, bytes) else line for line in lines]
        for kind, lines in _hour_files(conn, account_id, hour_ms).items()
    }


def _hour_files(conn: Connection, account_id: str, hour_ms: int) -> dict[str, Lines]:
    """The lines of each data type's file for the hour starting at ``hour_ms``: WebSession's as
    UTF-8 bytes (its queries give the items' bytes), the others as text.

    WebSession and Engagement, most of the bytes, are written as text (``avrotext``): a
    WebSession line from its SDEs' and pages' items, which the store keeps as they are recorded
    and the query joins per visit; the other two go through records and the generic encoder."""
    until = hour_ms + files.HOUR_MS
    agent = [
        [sessions.agent_body(s, hour_ms, until)]
        for s in exports.agent_sessions_between(conn, account_id, hour_ms, until)
    ]
    surveys = [
        [sessions.survey_body(s)]
        for s in exports.surveys_submitted_between(conn, account_id, hour_ms, until)
    ]
    return {
        "AgentActivity": encode("AgentActivity", account_id, agent),
        "WebSession": web_session_lines(conn, account_id, hour_ms),
        "Engagement": engagement_lines(conn, account_id, hour_ms),
        "Survey": encode("Survey", account_id, surveys),
    }


def web_session_lines(conn: Connection, account_id: str, hour_ms: int) -> list[bytes]:
    """The hour's WebSession lines as UTF-8 bytes (what the file holds): its visits' SDE, page
    and goal items as the store keeps them, joined per visit by the queries."""
    return avrotext.web_session_lines_from_texts(
        account_id,
        exports.web_sde_texts(conn, account_id, hour_ms),
        exports.web_page_texts(conn, account_id, hour_ms),
        exports.web_goal_texts(conn, account_id, hour_ms),
    )


def engagement_lines(conn: Connection, account_id: str, hour_ms: int) -> list[str]:
    """The hour's Engagement lines: one per conversation closed in it."""
    until = hour_ms + files.HOUR_MS
    return avrotext.engagement_lines_from_rows(
        account_id, exports.engagement_rows(conn, account_id, hour_ms, until)
    )


def encode(kind: str, account_id: str, lines: list[list[Body]]) -> list[str]:
    """The Avro JSON text of each line."""
    return [files.encode_line(files.document(kind, account_id, line)) for line in lines]


def export_hour(conn: Connection, account_id: str, hour_ms: int, root: Path) -> list[Path]:
    """Write (or rewrite, atomically) the hour's four files; return their paths."""
    if hour_ms % files.HOUR_MS:
        raise ValueError(f"{hour_ms} is not the start of an hour")
    written = []
    for kind, lines in _hour_files(conn, account_id, hour_ms).items():
        path = files.folder(root, account_id, kind) / files.file_name(kind, hour_ms)
        files.write_atomic(path, files.gzip_lines(lines))
        written.append(path)
    return written
