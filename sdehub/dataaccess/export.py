"""``export_hour``: one account's hour of events, written as the four Data Access files.

A pure function of the database and its arguments (time comes in as ``hour_ms``); the scheduler
and ``sdehub export`` both call it. Every hour produces all four files, empty ones included, so a
downloader can tell "nothing happened" from "not produced yet".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from sdehub.dataaccess import avrotext, files, sessions
from sdehub.dataaccess.avrotext import VisitText
from sdehub.store import engagementlines, exports

Body = tuple[dict[str, Any], list[int]]


def hour_lines(conn: Connection, account_id: str, hour_ms: int) -> dict[str, list[str]]:
    """The Avro JSON lines of each data type for the hour starting at ``hour_ms``, as text.

    WebSession and Engagement, most of the bytes, are written as text (``avrotext``): a
    WebSession line from its SDEs' and pages' items, which the store keeps as they are recorded
    and the query joins per visit; an Engagement line as the store kept it when its conversation
    closed; the other two go through records and the generic encoder."""
    found = _other_lines(conn, account_id, hour_ms)
    found["WebSession"] = web_session_lines(conn, account_id, hour_ms)
    return {
        kind: [line.decode() if isinstance(line, bytes) else line for line in found[kind]]
        for kind in files.KINDS
    }


def _other_lines(conn: Connection, account_id: str, hour_ms: int) -> dict[str, files.Lines]:
    """The lines of the hour's files but WebSession's (Engagement's as bytes)."""
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
        "Engagement": engagement_lines(conn, account_id, hour_ms),
        "Survey": encode("Survey", account_id, surveys),
    }


Texts = Iterable[VisitText]


def _web_texts(conn: Connection, account_id: str, hour_ms: int) -> tuple[Texts, Texts, Texts]:
    """The hour's visits' SDE, page and goal items as the store keeps them, joined per visit by
    the queries; the SDEs' last, read as the lines are written."""
    pages = exports.web_page_texts(conn, account_id, hour_ms)
    goals = exports.web_goal_texts(conn, account_id, hour_ms)
    return exports.web_sde_texts(conn, account_id, hour_ms), pages, goals


def web_session_lines(conn: Connection, account_id: str, hour_ms: int) -> list[bytes]:
    """The hour's WebSession lines as UTF-8 bytes (what the file holds)."""
    return avrotext.web_session_lines_from_texts(account_id, *_web_texts(conn, account_id, hour_ms))


def web_session_file(conn: Connection, account_id: str, hour_ms: int) -> bytes:
    """The hour's WebSession file: :func:`web_session_lines` gzipped, the lines' text written
    straight into the chunks gzip takes."""
    sdes, pages, goals = _web_texts(conn, account_id, hour_ms)
    return files.gzip_text(
        avrotext.web_session_text_from_texts(account_id, sdes, pages, goals, files.GZIP_CHUNK)
    )


def engagement_lines(conn: Connection, account_id: str, hour_ms: int) -> list[bytes]:
    """The hour's Engagement lines, one per conversation closed in it, as UTF-8 bytes: each as
    written when it closed (``engagementlines``); those of conversations closed before lines
    were kept (migration 0020) written now from their rows, as before."""
    until = hour_ms + files.HOUR_MS
    # The conversations first: a conversation's line is written in its close's transaction, so
    # every one of them closed since lines are kept is among the lines read next.
    closed = exports.closed_between(conn, account_id, hour_ms, until)
    kept = engagementlines.between(conn, account_id, hour_ms, until)
    if len(kept) == len(closed) and all(k[1] == c[1] for k, c in zip(kept, closed, strict=True)):
        return [k[2] for k in kept]
    lines = {k[1]: k[2] for k in kept}
    found = exports.engagement_rows(conn, account_id, hour_ms, until)
    rows = exports.EngagementRows(
        [r for r in found.conversations if r[0] not in lines],
        [r for r in found.agents if r[0] not in lines],
        [r for r in found.messages if r[0] not in lines],
    )
    for row, line in zip(
        rows.conversations, avrotext.engagement_lines_from_rows(account_id, rows), strict=True
    ):
        lines[row[0]] = line.encode()
    # In the file's order; a line of a conversation that closed into the hour after the first
    # read (only while the hour is open, on PostgreSQL) comes last.
    ordered = [lines.pop(cid) for _, cid in closed if cid in lines]
    return ordered + [k[2] for k in kept if k[1] in lines]


def encode(kind: str, account_id: str, lines: list[list[Body]]) -> list[str]:
    """The Avro JSON text of each line."""
    return [files.encode_line(files.document(kind, account_id, line)) for line in lines]


def export_hour(conn: Connection, account_id: str, hour_ms: int, root: Path) -> list[Path]:
    """Write (or rewrite, atomically) the hour's four files; return their paths."""
    if hour_ms % files.HOUR_MS:
        raise ValueError(f"{hour_ms} is not the start of an hour")
    found = _other_lines(conn, account_id, hour_ms)
    written = []
    for kind in files.KINDS:
        if kind == "WebSession":
            data = web_session_file(conn, account_id, hour_ms)
        else:
            data = files.gzip_lines(found[kind])
        path = files.folder(root, account_id, kind) / files.file_name(kind, hour_ms)
        files.write_atomic(path, data)
        written.append(path)
    return written
