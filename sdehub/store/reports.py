"""The reports' aggregates, computed by the database (:mod:`sdehub.reports` says what they mean).

Both reports are one ``GROUP BY`` statement over an indexed time range of one account: the goal
tracker reads ``goal_events`` by ``(account_id, reached_ms)`` and looks up, per goal reached, the
SDE that reached it (by its key), the assisting conversation (the visitor's conversations, by
``ix_conversations_visit``) and its last assigned agent (by the participants' key); the SDE
activity report reads only the index ``ix_sde_events_day``. Rows come back unordered
(SQLite and PostgreSQL sort NULLs differently): the domain sorts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, NamedTuple

from sqlalchemy.engine import Connection

from sdehub.store.sql import Sql, rows

DAY_MS: Final = 86_400_000

GoalDimension = Literal["day", "campaign", "skill", "agent"]
SdeDimension = Literal["day", "type", "source", "authenticated"]

_GOAL_COLUMNS: Final[dict[str, str]] = {
    "day": "t.day",
    "campaign": "t.campaign_id",
    "skill": "t.skill_id",
    "agent": "t.agent_id",
}

# g (materialized: its subqueries run once per goal reached, however often t refers to them):
# the counted goals reached in the range, each with who reported it (the reporting SDE is looked
# up by its key, for agent-reported goals only) and the conversation that assisted it: the
# goal's own (attributed by the goal engine), else the conversation the agent reported it in,
# else the visitor's latest conversation started at or before the reach, in the same visit or at
# most :window_ms earlier. t: that conversation's skill and last assigned agent (the reporting
# agent for agent-reported goals).
_GOALS_CTE: Final = """
WITH g AS MATERIALIZED (
  SELECT g.reached_ms / 86400000 AS day, g.goal_type, g.campaign_id, g.value, g.currency,
    CASE WHEN g.source = 'agent' THEN 'agent' ELSE 'consumer' END AS reported_by,
    CASE WHEN g.source = 'agent' THEN
      (SELECT e.actor FROM sde_events e WHERE e.seq = g.seq AND e.account_id = g.account_id)
    END AS reporter,
    COALESCE(
      g.conversation_id,
      CASE WHEN g.source = 'agent' THEN
        (SELECT e.conversation_id FROM sde_events e
          WHERE e.seq = g.seq AND e.account_id = g.account_id)
      END,
      (SELECT c.conversation_id FROM conversations c
        WHERE c.account_id = g.account_id AND c.visitor_id = g.visitor_id
          AND c.created_ms <= g.reached_ms
          AND (c.session_id = g.session_id OR c.created_ms >= g.reached_ms - :window_ms)
        ORDER BY c.created_ms DESC, c.conversation_id DESC LIMIT 1)
    ) AS assist
  FROM goal_events g
  WHERE g.account_id = :account_id AND g.reached_ms >= :since_ms AND g.reached_ms < :until_ms
    AND g.duplicate = :duplicate
), t AS (
  SELECT g.*, c.skill_id,
    COALESCE(g.reporter,
      (SELECT p.participant_id FROM participants p
        WHERE p.account_id = :account_id AND p.conversation_id = g.assist
          AND p.role = 'ASSIGNED_AGENT'
        ORDER BY p.joined_ms DESC, p.participant_id DESC LIMIT 1)
    ) AS agent_id
  FROM g
  LEFT JOIN conversations c ON c.account_id = :account_id AND c.conversation_id = g.assist
)
"""
_GOAL_METRICS: Final = """
  COUNT(*),
  COUNT(t.assist),
  COUNT(CASE WHEN t.goal_type = 'purchase' THEN 1 END),
  SUM(CASE WHEN t.goal_type = 'purchase' THEN t.value END),
  COUNT(CASE WHEN t.goal_type = 'lead' THEN 1 END),
  SUM(CASE WHEN t.goal_type = 'lead' THEN t.value END),
  COUNT(CASE WHEN t.goal_type = 'serviceActivity' THEN 1 END)
"""
_GOAL_SQL: dict[tuple[str, ...], Sql] = {}
# The same expression as the index's, so both databases use it.
_DAY = "(server_ms / 86400000)"
_SDE_SQL: Final = Sql(
    f"SELECT {_DAY}, wire_type, source, authenticated, COUNT(*) FROM sde_events"
    f" WHERE account_id = :account_id AND {_DAY} >= :first_day AND {_DAY} <= :last_day"
    f" GROUP BY {_DAY}, wire_type, source, authenticated"
)


class GoalAggregate(NamedTuple):
    dimensions: tuple[Any, ...]
    """The values of the group-by dimensions, in the order asked (day: days since the epoch)."""
    reported_by: str
    """``agent`` or ``consumer``."""
    reporter: str | None
    currency: str | None
    goals: int
    assisted: int
    transactions: int
    transaction_value: float | None
    leads: int
    lead_value: float | None
    service_activities: int


class SdeAggregate(NamedTuple):
    dimensions: tuple[Any, ...]
    """(day, type, source, authenticated)"""
    events: int


def goal_tracker(
    conn: Connection,
    account_id: str,
    since_ms: int,
    until_ms: int,
    *,
    group_by: Sequence[GoalDimension] = ("day",),
    window_ms: int = 31 * DAY_MS,
) -> list[GoalAggregate]:
    """The counted (not duplicate) goals reached in ``[since_ms, until_ms)``, aggregated by the
    dimensions, the reporter (agent or consumer, and which agent) and the currency."""
    key = tuple(group_by)
    sql = _GOAL_SQL.get(key)
    if sql is None:
        columns = [_GOAL_COLUMNS[d] for d in key]
        grouped = ", ".join([*columns, "t.reported_by", "t.reporter", "t.currency"])
        sql = _GOAL_SQL[key] = Sql(
            f"{_GOALS_CTE} SELECT {grouped}, {_GOAL_METRICS} FROM t GROUP BY {grouped}"
        )
    params = {
        "account_id": account_id,
        "since_ms": since_ms,
        "until_ms": until_ms,
        "window_ms": window_ms,
        "duplicate": False,
    }
    if conn.dialect.name == "postgresql":
        # The correlated lookups make the planner's estimate large enough to compile the query
        # (JIT), which costs more than running it: 0.9 of 1.6 s for 50,000 goals reached.
        conn.exec_driver_sql("SET LOCAL jit = off")
    n = len(key)
    return [
        GoalAggregate(
            tuple(r[:n]),
            str(r[n]),
            r[n + 1],
            r[n + 2],
            int(r[n + 3]),
            int(r[n + 4]),
            int(r[n + 5]),
            None if r[n + 6] is None else float(r[n + 6]),
            int(r[n + 7]),
            None if r[n + 8] is None else float(r[n + 8]),
            int(r[n + 9]),
        )  # fmt: skip
        for r in rows(conn, sql, params)
    ]


def sde_activity(
    conn: Connection, account_id: str, since_ms: int, until_ms: int
) -> list[SdeAggregate]:
    """How many SDEs the account's APIs accepted on each UTC day touching ``[since_ms,
    until_ms)``, by day, type, source and authenticated (the dimensions in that order, the day as
    days since the epoch): ``ix_sde_events_day`` holds exactly these, in this order, so the
    database counts them as it reads the range, without sorting. Coarser groupings are sums of
    these rows (:mod:`sdehub.reports`)."""
    params = {
        "account_id": account_id,
        "first_day": since_ms // DAY_MS,
        "last_day": (until_ms - 1) // DAY_MS,
    }
    return [SdeAggregate(tuple(r[:4]), int(r[4])) for r in rows(conn, _SDE_SQL, params)]
