"""What one hour of Data Access files is made of, and which hours have been exported.

Each read returns plain mappings for the hour ``[since_ms, until_ms)``, ordered so that the same
rows always come back in the same order: the exported bytes depend on nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Final, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.history import AGENT_ROLES
from sdehub.store.sql import Sql, TableSql, rows, run
from sdehub.store.tables import (
    agent_survey_states,
    agent_surveys,
    conversations,
    export_runs,
    goal_events,
    messages,
    participants,
    sde_events,
    sessions,
    users,
    visit_pages,
)

Row = dict[str, Any]
HOUR_MS: Final = 3_600_000


def visit_item(row: Mapping[str, Any], at_ms: int, **item: Any) -> Row:
    """A row of the stored WebSession items (``sde_avro_pending``, ``page_avro_texts``,
    ``goal_avro_texts``): keyed by ``row``'s account and visit and the hour of ``at_ms``, then
    the ``item`` columns."""
    return {
        "account_id": row["account_id"],
        "hour_ms": at_ms - at_ms % HOUR_MS,
        "visitor_id": row["visitor_id"],
        "session_id": row["session_id"],
        **item,
    }


def _all(conn: Connection, query: sa.Select[Any]) -> list[Row]:
    return [dict(r._mapping) for r in conn.execute(query)]


def sdes_between(conn: Connection, account_id: str, since_ms: int, until_ms: int) -> list[Row]:
    """SDEs reported in a web session (they carry a visitor and a session), by arrival; the
    payload as its stored JSON text (the export keys its cache on it and decodes each once)."""
    t = sde_events.c
    return _all(
        conn,
        sa.select(
            t.seq,
            t.wire_type,
            sa.cast(t.payload, sa.Text).label("payload"),
            t.authenticated,
            t.visitor_id,
            t.session_id,
            t.server_ms,
        )  # fmt: skip
        .where(t.account_id == account_id, t.server_ms >= since_ms, t.server_ms < until_ms)
        .where(t.visitor_id.is_not(None), t.session_id.is_not(None))
        .order_by(t.seq),
    )


# An hour's stored WebSession items (``sde_avro_texts``, ``page_avro_texts``,
# ``goal_avro_texts``), one row per visit: its items joined in their order, and the first and
# last time of those. PostgreSQL orders the aggregate as told. SQLite 3.40 has no ORDER BY in
# group_concat; it concatenates in the order it reads, which is the primary key's here (the
# hour's rows, visit by visit, each in the order wanted): it reads the key's range and groups as
# it passes, with no sort, and the visits come out in the key's (binary: code point) order, so
# its ORDER BY costs nothing (a test checks the plan). PostgreSQL's come in its collation's
# order; :func:`web_sde_texts` sorts them (3,000 rows: 1 ms in Python, 7 ms in PostgreSQL,
# which spills the sort to disk). The items come back as UTF-8 bytes, as the file holds them:
# the driver does not decode an hour's text (12 MB) for the export to encode it again.
_AGGREGATE = (
    "SELECT visitor_id, session_id, {concat}, MIN({at}), MAX({at}) FROM {table}"
    " WHERE account_id = :account_id AND hour_ms = :hour_ms GROUP BY visitor_id, session_id"
)
_VISIT = itemgetter(0, 1)
_OF_HOUR = " WHERE account_id = :account_id AND hour_ms = :hour_ms"
_SDE_AT = "CASE WHEN avro IS NOT NULL THEN server_ms END"


def _visit_texts(table: str, at: str, order: str) -> dict[str, Sql]:
    """The query of one item table, per dialect (``order``: PostgreSQL's of a visit's items)."""
    return {
        # group_concat's separator is a comma unless given one (one argument less per row)
        "sqlite": Sql(
            _AGGREGATE.format(concat="CAST(group_concat(avro) AS BLOB)", at=at, table=table)
            + " ORDER BY visitor_id, session_id"
        ),
        "postgresql": Sql(
            _AGGREGATE.format(
                concat=f"convert_to(string_agg(avro, ',' ORDER BY {order}), 'UTF8')",
                at=at,
                table=table,
            ),
            binary=True,
        ),
    }


WEB_SDE_TEXTS = _visit_texts("sde_avro_texts", _SDE_AT, "seq")
WEB_PAGE_TEXTS = _visit_texts("page_avro_texts", "first_ms", "first_ms, page_id")
WEB_GOAL_TEXTS = _visit_texts("goal_avro_texts", "reached_ms", "reached_ms, id")


_ITEM_ROWS = "SELECT seq, visitor_id, session_id, server_ms, avro FROM {table}" + _OF_HOUR
_PENDING_ROWS = Sql(_ITEM_ROWS.format(table="sde_avro_pending"))
_CLUSTERED_ROWS = Sql(_ITEM_ROWS.format(table="sde_avro_texts"))
_COLUMNS = "account_id, hour_ms, visitor_id, session_id, seq, server_ms, avro"
_CLOSED = " WHERE account_id = :account_id AND hour_ms < :before_ms"
_CLUSTER = Sql(
    f"INSERT INTO sde_avro_texts ({_COLUMNS}) SELECT {_COLUMNS} FROM sde_avro_pending{_CLOSED}"
    " ORDER BY hour_ms, visitor_id, session_id, seq"
)
_CLUSTERED = Sql("DELETE FROM sde_avro_pending" + _CLOSED)


def cluster_sde_texts(conn: Connection, account_id: str, before_ms: int) -> None:
    """Move the items of SDEs reported before ``before_ms`` (whole hours: the exporter gives the
    current hour's start) from ``sde_avro_pending`` to ``sde_avro_texts``, in the order an
    export reads them: one statement, appending each hour's range in key order."""
    params = {"account_id": account_id, "before_ms": before_ms}
    run(conn, _CLUSTER, params)
    run(conn, _CLUSTERED, params)


def web_sde_texts(conn: Connection, account_id: str, hour_ms: int) -> Iterable[Any]:
    """Per visit with SDEs in the hour starting at ``hour_ms``, in visit order (visitor then
    session, by code point): ``(visitor_id, session_id, items, first_ms, last_ms)``, the items of
    the SDEs Data Access carries in log order, as UTF-8 bytes (None if it carries none of the
    visit's).

    The query joins them when the hour's items have all been moved to ``sde_avro_texts``
    (:func:`cluster_sde_texts`, which the exporter runs first), and its rows are read as the
    caller goes (an hour's items are 8 MB: held all at once, they cost more in fresh memory than
    in copying); otherwise (an hour not closed, or exported without the move) its rows are
    joined here."""
    params = {"account_id": account_id, "hour_ms": hour_ms}
    waiting = rows(conn, _PENDING_ROWS, params)
    if not waiting:
        found = run(conn, WEB_SDE_TEXTS[conn.dialect.name], params)
        if conn.dialect.name == "postgresql":
            return sorted(found.fetchall(), key=_VISIT)
        return found  # type: ignore[no-any-return]
    # By seq, once each: a move committing between the two reads shows its rows in both.
    by_seq = {r[0]: r for r in (*rows(conn, _CLUSTERED_ROWS, params), *waiting)}
    visits: dict[tuple[str, str], tuple[list[str], list[int]]] = {}
    for seq in sorted(by_seq):
        _, visitor_id, session_id, server_ms, avro = by_seq[seq]
        items, times = visits.setdefault((visitor_id, session_id), ([], []))
        if avro is not None:
            items.append(avro)
            times.append(server_ms)
    return [
        (
            v,
            s,
            ",".join(items).encode() if items else None,
            min(times, default=None),
            max(times, default=None),
        )
        for (v, s), (items, times) in sorted(visits.items())
    ]


def web_page_texts(conn: Connection, account_id: str, hour_ms: int) -> list[Any]:
    """Per visit with pages first seen in the hour: ``(visitor_id, session_id, items,
    first_ms, last_ms)``, the pages by first view then id."""
    params = {"account_id": account_id, "hour_ms": hour_ms}
    return rows(conn, WEB_PAGE_TEXTS[conn.dialect.name], params)


def web_goal_texts(conn: Connection, account_id: str, hour_ms: int) -> list[Any]:
    """Per visit with goals first reached in the hour: ``(visitor_id, session_id, items,
    first_ms, last_ms)``, the goals by time reached then id."""
    params = {"account_id": account_id, "hour_ms": hour_ms}
    return rows(conn, WEB_GOAL_TEXTS[conn.dialect.name], params)


def goals_between(conn: Connection, account_id: str, since_ms: int, until_ms: int) -> list[Row]:
    """Goals reached (first reach only: duplicates are not achievements)."""
    t = goal_events.c
    return _all(
        conn,
        sa.select(goal_events)
        .where(t.account_id == account_id, t.reached_ms >= since_ms, t.reached_ms < until_ms)
        .where(t.duplicate.is_(False))
        .order_by(t.reached_ms, t.id),
    )


def pages_between(conn: Connection, account_id: str, since_ms: int, until_ms: int) -> list[Row]:
    t = visit_pages.c
    return _all(
        conn,
        sa.select(visit_pages)
        .where(t.account_id == account_id, t.first_ms >= since_ms, t.first_ms < until_ms)
        .order_by(t.visitor_id, t.session_id, t.first_ms, t.page_id),
    )


# The hour's closed conversations, then the participants and the messages of all of them, each
# in one query joined back to the conversations' range (a query per conversation grew with the
# hour). The conversations come from ix_conversations_closed (the hour's range, not every
# conversation of the account) in its order, time closed then id; the rows joined to them are
# ordered as their conversations first, so a conversation's rows come together and one pass
# groups them, and within it as the export has always ordered them. Ordered by the
# conversations' columns, SQLite sorts only within each conversation's rows (closed_ms can be
# NULL, so it cannot take the index's entries as distinct), never all of them at once.
_CONVERSATIONS = TableSql(conversations)
_PARTICIPANTS = TableSql(participants)
_MESSAGES = TableSql(messages)
_CLOSED_CONVERSATIONS = _CONVERSATIONS.select(
    "account_id = :account_id AND closed_ms >= :since_ms AND closed_ms < :until_ms",
    "ORDER BY closed_ms, conversation_id",
)


# Which conversations an Engagement read is of: those closed in the range (the hour's file), or
# one (its line, written when it closes: ``engagementlines.keep``).
_IN_RANGE = "c.account_id = :account_id AND c.closed_ms >= :since_ms AND c.closed_ms < :until_ms"
_ONE = "c.account_id = :account_id AND c.conversation_id = :conversation_id"


def _of_closed(
    table: TableSql,
    order: str,
    columns: str | None = None,
    where: str = "",
    of: str = _IN_RANGE,
) -> Sql:
    """Rows of ``table`` belonging to the conversations closed in the range (or ``of`` others):
    the conversations are the outer loop (CROSS JOIN keeps SQLite from driving the join from the
    other table, all of whose rows in the account it would then read)."""
    if columns is None:
        columns = ", ".join(
            f"{{text:t.{c}}}" if c in table.json else f"t.{c}" for c in table.columns
        )
    return Sql(
        f"SELECT {columns} FROM conversations c CROSS JOIN {table.name} t WHERE {of}"
        f" AND t.account_id = :account_id AND t.conversation_id = c.conversation_id{where}"
        f" ORDER BY {order}"
    )


_CLOSED_PARTICIPANTS = _of_closed(
    _PARTICIPANTS, "c.closed_ms, c.conversation_id, t.joined_ms, t.participant_id, t.role"
)
_CLOSED_MESSAGES = _of_closed(_MESSAGES, "c.closed_ms, c.conversation_id, t.sequence")

# The export's own reads of the same rows (since migration 0020 only for the conversations closed
# before it, and for one conversation as it closes): only the columns an Engagement line takes,
# only the agents and the transcript's messages, flags instead of the role and kind texts, NULL
# for a dialog that is the conversation itself (each a string object fewer per row, in Python).
# The transcript is the conversation's items as stored with its messages (``transcript_texts``),
# joined by the query: a subquery per conversation reading its key's range, in sequence order
# (SQLite's group_concat joins in the order it reads; a test checks the plan). Only the
# conversations that had messages before the items were kept (``transcripts_unstored``) have
# their transcript messages read, and written in Python as before.
_AGENTS = "('" + "', '".join(AGENT_ROLES) + "')"
_ITEMS_OF = (
    " FROM transcript_texts t WHERE t.account_id = :account_id"
    " AND t.conversation_id = c.conversation_id"
)
# The hour's conversations in the file's order (the index's: no sort), to tell those with a
# line kept when they closed (``engagementlines``) from those closed before lines were kept.
_CLOSED_IDS = Sql(
    "SELECT c.closed_ms, c.conversation_id FROM conversations c"
    f" WHERE {_IN_RANGE} ORDER BY c.closed_ms, c.conversation_id"
)
# SQLite's rows are ordered in Python (by time closed, then id: its BINARY collation is Python's
# order of str): its ORDER BY sorted the rows with their transcripts in them, 0.7 ms of 15 for the
# bench's hour. PostgreSQL orders them by its collation, as the other reads do.
_CLOSED_THEN_ID = itemgetter(3, 0)


def _engagement_sql(of: str) -> tuple[dict[str, Sql], Sql, Sql]:
    """The three reads of the Engagement lines of the conversations ``of`` (a condition on
    ``c``): the conversations with their stored transcript items joined, their agents, and the
    transcript messages of those stored before the items were kept."""
    conversations = {
        dialect: Sql(
            "SELECT c.conversation_id, c.consumer_id, c.created_ms, c.closed_ms, c.close_reason,"
            " c.skill_id, c.campaign_id, c.engagement_id, c.visitor_id, c.session_id,"
            f" c.channel_type, (SELECT {concat}{_ITEMS_OF}),"
            f" EXISTS (SELECT 1{_ITEMS_OF} AND t.consumer) FROM conversations c WHERE {of}{order}"
        )
        for dialect, concat, order in (
            ("sqlite", "group_concat(t.avro, ',')", ""),
            (
                "postgresql",
                "string_agg(t.avro, ',' ORDER BY t.sequence)",
                " ORDER BY c.closed_ms, c.conversation_id",
            ),
        )
    }
    agents = _of_closed(
        _PARTICIPANTS,
        "c.closed_ms, c.conversation_id, t.joined_ms, t.participant_id, t.role",
        "t.conversation_id, t.participant_id, t.joined_ms",
        f" AND t.role IN {_AGENTS}",
        of,
    )
    messages = Sql(
        "SELECT t.conversation_id, t.sequence,"
        " CASE WHEN t.dialog_id = t.conversation_id THEN NULL ELSE t.dialog_id END,"
        f" t.participant_id, t.role IN {_AGENTS}, t.event_type = 'ContentEvent',"
        " {text:t.event}, t.server_ms"
        " FROM conversations c CROSS JOIN transcripts_unstored u CROSS JOIN messages t"
        f" WHERE {of} AND u.account_id = :account_id AND u.conversation_id = c.conversation_id"
        " AND t.account_id = :account_id AND t.conversation_id = c.conversation_id"
        " AND t.event_type IN ('ContentEvent', 'RichContentEvent')"
        " ORDER BY c.closed_ms, c.conversation_id, t.sequence"
    )
    return conversations, agents, messages


_ENGAGEMENT_CONVERSATIONS, _ENGAGEMENT_AGENTS, _ENGAGEMENT_MESSAGES = _engagement_sql(_IN_RANGE)
_ENGAGEMENT_OF_ONE = _engagement_sql(_ONE)


def conversations_closed_between(
    conn: Connection, account_id: str, since_ms: int, until_ms: int
) -> list[Row]:
    """Closed conversations with their participants and messages (a conversation is exported
    once, in the hour it closed, as LivePerson waits for the session to close): three queries
    whatever the number of conversations."""
    params = {"account_id": account_id, "since_ms": since_ms, "until_ms": until_ms}
    found = [_CONVERSATIONS.decode(r) for r in rows(conn, _CLOSED_CONVERSATIONS, params)]
    of: dict[str, Row] = {}
    for conv in found:
        conv["participants"] = []
        conv["messages"] = []
        of[conv["conversation_id"]] = conv
    # Each statement may read its own snapshot: the rows of a conversation that closed into the
    # range after the first are skipped, as that conversation is.
    for r in rows(conn, _CLOSED_PARTICIPANTS, params):
        participant = _PARTICIPANTS.decode(r)
        owner = of.get(participant["conversation_id"])
        if owner is not None:
            owner["participants"].append(participant)
    for r in rows(conn, _CLOSED_MESSAGES, params):
        message = _MESSAGES.decode(r)
        owner = of.get(message["conversation_id"])
        if owner is not None:
            owner["messages"].append(message)
    return found


class EngagementRows(NamedTuple):
    """The rows of an hour's Engagement file, as the driver returns them."""

    conversations: list[Any]
    """``(conversation_id, consumer_id, created_ms, closed_ms, close_reason, skill_id,
    campaign_id, engagement_id, visitor_id, session_id, channel_type, transcript, interactive)``
    by time closed, then id: ``transcript`` its stored items joined with commas (None if it has
    none), ``interactive`` whether one of them is not by an agent (0 / 1 on SQLite)."""
    agents: list[Any]
    """``(conversation_id, participant_id, joined_ms)`` of their agents (``AGENT_ROLES``), by
    conversation (in the conversations' order), then time joined, participant, role."""
    messages: list[Any]
    """Of the conversations in ``transcripts_unstored`` only (their items are not all stored):
    ``(conversation_id, sequence, dialog_id or None when it is the conversation's id,
    participant_id, by an agent, a ContentEvent (else a RichContentEvent), event as JSON text,
    server_ms)`` of their transcript messages, by conversation (in the conversations'
    order), then sequence."""


def engagement_rows(
    conn: Connection, account_id: str, since_ms: int, until_ms: int
) -> EngagementRows:
    """What the Engagement lines of the conversations closed in ``[since_ms, until_ms)`` are
    written from (:func:`conversations_closed_between`'s rows, cut to that, the transcripts as
    stored): three queries."""
    params = {"account_id": account_id, "since_ms": since_ms, "until_ms": until_ms}
    found = rows(conn, _ENGAGEMENT_CONVERSATIONS[conn.dialect.name], params)
    if conn.dialect.name == "sqlite":
        found.sort(key=_CLOSED_THEN_ID)
    return EngagementRows(
        found,
        rows(conn, _ENGAGEMENT_AGENTS, params),
        rows(conn, _ENGAGEMENT_MESSAGES, params),
    )


def engagement_rows_of(conn: Connection, account_id: str, conversation_id: str) -> EngagementRows:
    """:func:`engagement_rows` of one conversation (none if it does not exist)."""
    params = {"account_id": account_id, "conversation_id": conversation_id}
    conversations, agents, messages = _ENGAGEMENT_OF_ONE
    return EngagementRows(
        rows(conn, conversations[conn.dialect.name], params),
        rows(conn, agents, params),
        rows(conn, messages, params),
    )


def closed_between(conn: Connection, account_id: str, since_ms: int, until_ms: int) -> list[Any]:
    """``(closed_ms, conversation_id)`` of the conversations closed in ``[since_ms, until_ms)``,
    in the order of the Engagement file (from ``ix_conversations_closed`` alone)."""
    params = {"account_id": account_id, "since_ms": since_ms, "until_ms": until_ms}
    return rows(conn, _CLOSED_IDS, params)


def surveys_submitted_between(
    conn: Connection, account_id: str, since_ms: int, until_ms: int
) -> list[Row]:
    """Agent surveys whose last submission falls in the hour, with the survey's name."""
    s, v = agent_survey_states.c, agent_surveys.c
    return _all(
        conn,
        sa.select(
            agent_survey_states,
            v.name.label("survey_name"),
            conversations.c.visitor_id,
            conversations.c.session_id,
        )  # fmt: skip
        .outerjoin(agent_surveys, sa.and_(v.account_id == s.account_id, v.survey_id == s.survey_id))
        .outerjoin(
            conversations,
            sa.and_(
                conversations.c.account_id == s.account_id,
                conversations.c.conversation_id == s.conversation_id,
            ),
        )
        .where(s.account_id == account_id, s.status == "submitted")
        .where(s.last_action_ms >= since_ms, s.last_action_ms < until_ms)
        .order_by(s.last_action_ms, s.conversation_id),
    )


def agent_sessions_between(
    conn: Connection, account_id: str, since_ms: int, until_ms: int
) -> list[Row]:
    """Agent login sessions that began or expired in the hour, with the agent's names."""
    t, u = sessions.c, users.c
    began = sa.and_(t.created_ms >= since_ms, t.created_ms < until_ms)
    ended = sa.and_(t.expires_ms >= since_ms, t.expires_ms < until_ms)
    return _all(
        conn,
        sa.select(sessions, u.login_name, u.nickname, u.full_name)
        .outerjoin(users, sa.and_(u.account_id == t.account_id, u.user_id == t.user_id))
        .where(t.account_id == account_id, sa.or_(began, ended))
        .order_by(t.created_ms, t.session_id),
    )


def exported_hours(conn: Connection, account_id: str, since_ms: int, until_ms: int) -> list[int]:
    t = export_runs.c
    query = (
        sa.select(t.hour_ms)
        .where(t.account_id == account_id, t.hour_ms >= since_ms, t.hour_ms < until_ms)
        .order_by(t.hour_ms)
    )
    return [int(r[0]) for r in conn.execute(query)]


def mark_exported(conn: Connection, account_id: str, hours: Sequence[int], done_ms: int) -> None:
    t = export_runs.c
    for hour in hours:
        conn.execute(sa.delete(export_runs).where(t.account_id == account_id, t.hour_ms == hour))
        conn.execute(
            sa.insert(export_runs).values(account_id=account_id, hour_ms=hour, done_ms=done_ms)
        )


def forget_exported(conn: Connection, account_id: str, before_ms: int) -> None:
    """Retention: the files of these hours are gone, so is their record."""
    t = export_runs.c
    conn.execute(sa.delete(export_runs).where(t.account_id == account_id, t.hour_ms < before_ms))
