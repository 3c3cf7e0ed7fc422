"""An account's targeting set-up, one document per revision (every revision kept), and the
goals reached in its visits."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from sdehub.dataaccess.avrotext.goals import goal_item
from sdehub.store.exports import visit_item
from sdehub.store.sql import Sql, TableSql, from_json, one, rows, run
from sdehub.store.tables import catalogs, goal_avro_texts, goal_events


class Revision(msgspec.Struct, kw_only=True):
    account_id: str
    revision: int
    document: dict[str, Any]
    created_ms: int
    author: str | None = None
    note: str | None = None


class GoalEvent(msgspec.Struct, kw_only=True):
    account_id: str
    visitor_id: str
    session_id: str
    goal_id: str
    goal_type: str
    dedup_key: str
    duplicate: bool
    source: str
    reached_ms: int
    campaign_id: str | None = None
    engagement_id: str | None = None
    conversation_id: str | None = None
    value: float | None = None
    currency: str | None = None
    seq: int | None = None
    details: dict[str, Any] | None = None
    id: int | None = None


CATALOGS = TableSql(catalogs)
GOALS = TableSql(goal_events)
GOAL_TEXTS = TableSql(goal_avro_texts)

_LATEST = CATALOGS.select("account_id = :account_id", "ORDER BY revision DESC LIMIT 1")
_LATEST_NUMBER = Sql("SELECT MAX(revision) FROM catalogs WHERE account_id = :account_id")
_REVISION = CATALOGS.select("account_id = :account_id AND revision = :revision")
_REVISIONS = CATALOGS.select(
    "account_id = :account_id AND revision < :before",
    "ORDER BY revision DESC LIMIT :limit",
    columns=("account_id", "revision", "created_ms", "author", "note"),
)
_ADD = CATALOGS.insert()
_ADD_GOAL = GOALS.insert(returning="id")
# The details come back as stored: the WebSession item is written from what the export used to
# read back (PostgreSQL's jsonb writes some numbers differently from what it was given).
_ADD_FIRST_GOAL = Sql(_ADD_GOAL.source + ", {text:details}")
_ADD_GOAL_TEXT = GOAL_TEXTS.insert()
_GOALS_OF_VISIT = GOALS.select(
    "account_id = :account_id AND visitor_id = :visitor_id AND session_id = :session_id",
    "ORDER BY id",
)
_GOALS = GOALS.select(
    "account_id = :account_id AND reached_ms >= :since_ms AND reached_ms < :until_ms",
    "ORDER BY reached_ms, id LIMIT :limit",
)


def latest(conn: Connection, account_id: str) -> Revision | None:
    row = one(conn, _LATEST, {"account_id": account_id})
    return None if row is None else Revision(**CATALOGS.decode(row))


def latest_number(conn: Connection, account_id: str) -> int:
    """The current revision number (0: nothing configured yet)."""
    row = one(conn, _LATEST_NUMBER, {"account_id": account_id})
    return int(row[0] or 0) if row is not None else 0


def get_revision(conn: Connection, account_id: str, revision: int) -> Revision | None:
    row = one(conn, _REVISION, {"account_id": account_id, "revision": revision})
    return None if row is None else Revision(**CATALOGS.decode(row))


def revisions(
    conn: Connection, account_id: str, *, before: int = 2**31 - 1, limit: int = 50
) -> list[Revision]:
    """Revision history, newest first, without the documents."""
    params = {"account_id": account_id, "before": before, "limit": limit}
    columns = ("account_id", "revision", "created_ms", "author", "note")
    return [
        Revision(**CATALOGS.decode(r, columns), document={}) for r in rows(conn, _REVISIONS, params)
    ]


def add_revision(conn: Connection, revision: Revision) -> None:
    run(conn, _ADD, CATALOGS.encode(msgspec.structs.asdict(revision)))


def add_goal_event(conn: Connection, event: GoalEvent) -> int:
    values = msgspec.structs.asdict(event)
    values.pop("id")
    if event.duplicate:  # not an achievement: not exported
        return int(one(conn, _ADD_GOAL, GOALS.encode(values))[0])
    goal_id, details = one(conn, _ADD_FIRST_GOAL, GOALS.encode(values))
    stored = {**values, "id": int(goal_id), "details": from_json(details)}
    run(conn, _ADD_GOAL_TEXT, goal_text_row(stored))
    return int(goal_id)


def goal_text_row(goal: dict[str, Any]) -> dict[str, Any]:
    """The ``goal_avro_texts`` row of a goal reached first (a ``goal_events`` row, details
    decoded): its item of the Data Access WebSession line."""
    reached = goal["reached_ms"]
    return visit_item(goal, reached, reached_ms=reached, id=goal["id"], avro=goal_item(goal))


def goals_of_visit(
    conn: Connection, account_id: str, visitor_id: str, session_id: str
) -> list[GoalEvent]:
    params = {"account_id": account_id, "visitor_id": visitor_id, "session_id": session_id}
    return [GoalEvent(**GOALS.decode(r)) for r in rows(conn, _GOALS_OF_VISIT, params)]


def goal_events_between(
    conn: Connection, account_id: str, since_ms: int, until_ms: int, *, limit: int = 10_000
) -> list[GoalEvent]:
    params = {"account_id": account_id, "since_ms": since_ms, "until_ms": until_ms, "limit": limit}
    return [GoalEvent(**GOALS.decode(r)) for r in rows(conn, _GOALS, params)]
