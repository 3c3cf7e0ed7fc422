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

from sdehub.dataaccess import files, records, sessions
from sdehub.store import exports
from sdehub.store.exports import Row

Body = tuple[dict[str, Any], list[int]]


def _web_sessions(conn: Connection, account_id: str, since: int, until: int) -> list[list[Body]]:
    return web_sessions(
        exports.sdes_between(conn, account_id, since, until),
        exports.pages_between(conn, account_id, since, until),
        exports.goals_between(conn, account_id, since, until),
    )


def web_sessions(
    sde_rows: Iterable[Row], page_rows: Iterable[Row], goal_rows: Iterable[Row]
) -> list[list[Body]]:
    """The WebSession lines' records: one line per visit, its SDEs, pages and goals."""
    sdes = records.by_visit(sde_rows)
    pages = records.by_visit(page_rows)
    goals = records.by_visit(goal_rows)
    lines = []
    for visit in sorted({*sdes, *pages, *goals}):
        bodies = []
        if visit in sdes:
            bodies.append(records.eng_attrs_body(visit, sdes[visit]))
        if visit in pages:
            bodies.append(records.navigation_body(visit, pages[visit]))
        if visit in goals:
            bodies.append(records.goals_body(visit, goals[visit]))
        lines.append(bodies)
    return lines


def hour_lines(conn: Connection, account_id: str, hour_ms: int) -> dict[str, list[str]]:
    """The Avro JSON lines of each data type for the hour starting at ``hour_ms``."""
    until = hour_ms + files.HOUR_MS
    grouped: dict[str, list[list[Body]]] = {
        "AgentActivity": [
            [sessions.agent_body(s, hour_ms, until)]
            for s in exports.agent_sessions_between(conn, account_id, hour_ms, until)
        ],
        "WebSession": _web_sessions(conn, account_id, hour_ms, until),
        "Engagement": [
            [sessions.conversation_body(c)]
            for c in exports.conversations_closed_between(conn, account_id, hour_ms, until)
        ],
        "Survey": [
            [sessions.survey_body(s)]
            for s in exports.surveys_submitted_between(conn, account_id, hour_ms, until)
        ],
    }
    return {kind: encode(kind, account_id, lines) for kind, lines in grouped.items()}


def encode(kind: str, account_id: str, lines: list[list[Body]]) -> list[str]:
    """The Avro JSON text of each line."""
    return [files.encode_line(files.document(kind, account_id, line)) for line in lines]


def export_hour(conn: Connection, account_id: str, hour_ms: int, root: Path) -> list[Path]:
    """Write (or rewrite, atomically) the hour's four files; return their paths."""
    if hour_ms % files.HOUR_MS:
        raise ValueError(f"{hour_ms} is not the start of an hour")
    written = []
    for kind, lines in hour_lines(conn, account_id, hour_ms).items():
        path = files.folder(root, account_id, kind) / files.file_name(kind, hour_ms)
        files.write_atomic(path, files.gzip_lines(lines))
        written.append(path)
    return written
