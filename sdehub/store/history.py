"""Queries of the Messaging Interactions API: conversation search, and the SDE search terms.

Search is a cold path (an analyst's query, not a message), so it is built with SQLAlchemy Core
from the criteria given. ``sdeSearch`` never reads SDE payloads: each SDE's words and word pairs
go to ``sde_terms`` once per conversation it is attributed to (:func:`index_terms`, through a
pending tail: sdehub.store.terms), keyed ``(account_id, history_key, term, created_ms,
conversation_id, seq)``; a value matches "a conversation with an SDE holding all its terms"
(sdehub.store.search_plan reads the index and the tail).

When every ``sdeSearch`` key is in the term index, a page sorted by start is the drivers' index
entries in that order within the ``start`` range, stopping after the page, and
``_metadata.count`` counts the distinct conversations of the same entries; other filters probe
each entry's conversation by key (:func:`_from_index`). Otherwise (sorted by end time, or a
``userUpdate`` profile match) the search runs on ``conversations``: few matching SDEs, their
conversations by key, sorted; many, a walk in the page's order probing the term index at each
conversation's start and id (docs/benchmarks.md, "Search", has the figures at a million
conversations). ``keyword`` and ``userUpdate`` remain unindexed (LIKE over message and profile
text), for which an FTS5 / pg_trgm index is the next step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.model.provenance import Entry
from sdehub.model.sdesearch import Match, pack, terms
from sdehub.store.search_plan import Plan, Span
from sdehub.store.sql import Sql, TableSql, one, run_many
from sdehub.store.tables import (
    agent_survey_states,
    consumers,
    conversations,
    messages,
    participants,
    sde_terms_pending,
)

AGENT_ROLES = ("ASSIGNED_AGENT", "AGENT", "MANAGER", "READER")


@dataclass(frozen=True)
class SurveyFilter:
    """``agentSurveySearch``: every list given must match (any of its values)."""

    pending: Sequence[bool] = ()
    survey_ids: Sequence[int] = ()
    question_ids: Sequence[str] = ()
    question_names: Sequence[str] = ()
    question_keywords: Sequence[str] = ()
    """Lower-case; found in a submitted question's text."""
    answer_keywords: Sequence[str] = ()
    """Lower-case; found in a submitted answer."""

    @property
    def about_content(self) -> bool:
        """Whether it asks about the survey itself (not only whether one is pending)."""
        return bool(
            self.survey_ids or self.question_ids or self.question_names
            or self.question_keywords or self.answer_keywords
        )  # fmt: skip

    def matches(self, status: str, survey_id: int, submitted: Sequence[Any]) -> bool:
        if self.pending and (status == "open") not in self.pending:
            return False
        if self.survey_ids and survey_id not in self.survey_ids:
            return False
        questions = [a for a in submitted if isinstance(a, dict)]
        if self.question_ids and not any(
            str(a.get("questionId")) in self.question_ids for a in questions
        ):
            return False
        texts = [str(a.get("questionText", "")) for a in questions]
        if self.question_names and not any(t in self.question_names for t in texts):
            return False
        if self.question_keywords and not any(
            k in t.lower() for t in texts for k in self.question_keywords
        ):
            return False
        answers = [
            str(item.get("answer", "")).lower()
            for a in questions
            for item in a.get("answers", [])
            if isinstance(item, dict)
        ]
        return not self.answer_keywords or any(
            k in answer for answer in answers for k in self.answer_keywords
        )


@dataclass(frozen=True)
class Criteria:
    """A validated search: every bound inclusive, times in epoch ms, durations in seconds."""

    start_from: int
    start_to: int
    end_from: int | None = None
    end_to: int | None = None
    states: Sequence[str] = ()
    skill_ids: Sequence[str] = ()
    agent_ids: Sequence[str] = ()
    keywords: Sequence[Sequence[str]] = ()
    """Each item: lower-case fragments a message must all contain (a phrase is one fragment)."""
    duration_from: int | None = None
    duration_to: int | None = None
    sde_matches: Sequence[Match] = field(default_factory=tuple)
    """OR-ed; ``userUpdate`` matches look in the consumer's profile."""
    nothing: bool = False
    """A filter no stored conversation can satisfy."""
    survey: SurveyFilter | None = None
    sort_by: str = "start"
    descending: bool = True
    now_ms: int = 0


_ADD_PENDING = TableSql(sde_terms_pending).upsert(
    ("account_id", "history_key", "created_ms", "conversation_id", "seq"), update=()
)
_STARTED = Sql(
    "SELECT created_ms FROM conversations"
    " WHERE account_id = :account_id AND conversation_id = :conversation_id"
)


def index_terms(
    conn: Connection,
    account_id: str,
    conversation_ids: Iterable[str],
    entries: Sequence[Entry],
    *,
    started: Mapping[str, int] | None = None,
) -> None:
    """Make SDEs just attributed to these conversations searchable in each of them: one pending
    row per SDE and conversation, its terms packed, which the writer moves to ``sde_terms``
    later (sdehub.store.terms). Again: no-op while pending, and nothing new once moved.
    ``started``: the conversations' starts where the caller knows them (each other one is
    looked up; one not stored is skipped, as a search only finds stored ones)."""
    packed: list[tuple[str, int, str]] = []
    for entry in entries:
        found = terms(entry.record)
        if found is not None and found[1]:
            packed.append((found[0], entry.meta.seq, pack(found[1])))
    if not packed:
        return
    params: list[dict[str, Any]] = []
    for conversation_id in conversation_ids:
        start = (started or {}).get(conversation_id)
        if start is None:
            at = {"account_id": account_id, "conversation_id": conversation_id}
            row = one(conn, _STARTED, at)
            if row is None:
                continue
            start = int(row[0])
        params += (
            {"account_id": account_id, "history_key": key, "created_ms": start,
             "conversation_id": conversation_id, "seq": seq, "terms": words}
            for key, seq, words in packed
        )  # fmt: skip
    run_many(conn, _ADD_PENDING, params)


def _profile_clause(account_id: str, match: Match) -> sa.ColumnElement[bool]:
    """``userUpdate``: the consumer's profile holds every term (no index: LIKE over the JSON)."""
    profile = sa.func.lower(sa.cast(consumers.c.profile, sa.Text))
    owners = sa.select(consumers.c.consumer_id).where(
        consumers.c.account_id == account_id,
        *(profile.contains(t, autoescape=True) for t in sorted(match.terms)),
    )
    return conversations.c.consumer_id.in_(owners)


def _surveyed(conn: Connection, account_id: str, wanted: SurveyFilter) -> list[str]:
    """Conversations whose agent survey matches. The answers are JSON documents, so they are
    matched here rather than in SQL (one pass over the account's survey states)."""
    s = agent_survey_states.c
    found = conn.execute(
        sa.select(s.conversation_id, s.status, s.survey_id, s.submitted).where(
            s.account_id == account_id
        )
    )
    return [
        row.conversation_id
        for row in found
        if wanted.matches(row.status, row.survey_id, row.submitted or [])
    ]


def _survey_clause(
    conn: Connection, account_id: str, wanted: SurveyFilter
) -> sa.ColumnElement[bool]:
    c = conversations.c
    if wanted.about_content:
        return c.conversation_id.in_(_surveyed(conn, account_id, wanted))
    # Pending or not, alone: a conversation without a survey has none pending.
    s = agent_survey_states.c
    pending = sa.select(s.conversation_id).where(s.account_id == account_id, s.status == "open")
    if set(wanted.pending) == {True}:
        return c.conversation_id.in_(pending)
    if set(wanted.pending) == {False}:
        return c.conversation_id.not_in(pending)
    return sa.true()


def _filters(conn: Connection, account_id: str, q: Criteria) -> list[sa.ColumnElement[bool]]:
    """What a conversation must meet besides ``start`` and ``sdeSearch``."""
    c = conversations.c
    where: list[sa.ColumnElement[bool]] = []
    if q.nothing:
        where.append(sa.false())
    if q.survey is not None:
        where.append(_survey_clause(conn, account_id, q.survey))
    if q.end_from is not None and q.end_to is not None:
        where += [c.closed_ms >= q.end_from, c.closed_ms <= q.end_to]
    if q.states:
        where.append(c.state.in_(q.states))
    if q.skill_ids:
        where.append(c.skill_id.in_(q.skill_ids))
    if q.agent_ids:
        p = participants.c
        agents = sa.select(p.conversation_id).where(
            p.account_id == account_id, p.role.in_(AGENT_ROLES), p.participant_id.in_(q.agent_ids)
        )
        where.append(c.conversation_id.in_(agents))
    for fragments in q.keywords:
        m = messages.c
        text = sa.func.lower(sa.cast(m.event, sa.Text))
        said = sa.select(m.conversation_id).where(
            m.account_id == account_id, *(text.contains(f, autoescape=True) for f in fragments)
        )
        where.append(c.conversation_id.in_(said))
    if q.duration_from is not None or q.duration_to is not None:
        ended = sa.func.coalesce(c.closed_ms, q.now_ms)
        if q.duration_from is not None:
            where.append(ended - c.created_ms >= q.duration_from * 1000)
        if q.duration_to is not None:
            where.append(ended - c.created_ms <= q.duration_to * 1000)
    return where


def _where(
    conn: Connection, account_id: str, q: Criteria, plan: Plan
) -> list[sa.ColumnElement[bool]]:
    """The conditions on ``conversations`` of a search the term index does not order: the
    matching SDEs' conversations as one list (few), or a probe per conversation (walk)."""
    c = conversations.c
    where = [
        c.account_id == account_id,
        c.created_ms >= q.start_from,
        c.created_ms <= q.start_to,
        *_filters(conn, account_id, q),
    ]
    span = Span(account_id, q.start_from, q.start_to)
    indexed = [m for m in q.sde_matches if m.key != "userUpdate"]
    if plan.walk:
        clauses = [span.held_by(plan, m, c.created_ms, c.conversation_id) for m in indexed]
    else:
        # One list of conversations for the terms of every key: SQLite reads an IN list by key,
        # but an OR of several would have it walk the range.
        clauses = [c.conversation_id.in_(span.holding_ids(plan, indexed))] if indexed else []
    clauses += [_profile_clause(account_id, m) for m in q.sde_matches if m.key == "userUpdate"]
    if clauses:
        where.append(sa.or_(*clauses))
    return where


def _ordered(q: Criteria) -> bool:
    """Whether the term index alone finds the matches: every ``sdeSearch`` key is in it. Then a
    count reads it (and conversations only for other filters), and so does a page sorted by
    start, in the index's order."""
    return bool(q.sde_matches) and all(m.key != "userUpdate" for m in q.sde_matches)


def _from_index(
    conn: Connection, account_id: str, q: Criteria, plan: Plan, *, merge: bool = False
) -> sa.Select[Any] | sa.CompoundSelect[Any]:
    """``(created_ms, conversation_id)`` of each matching conversation once, read from the
    drivers' entries (``DISTINCT`` in the index's order for one part, a ``UNION`` of several);
    the other filters, if any, probe each entry's conversation by key. ``merge``: for a count
    (sdehub.store.search_plan, ``Plan.merged``)."""
    span = Span(account_id, q.start_from, q.start_to)
    others = _filters(conn, account_id, q)
    c = conversations.c

    def also(conversation_id: sa.ColumnElement[str]) -> list[sa.ColumnElement[bool]]:
        found = sa.exists().where(
            c.account_id == account_id, c.conversation_id == conversation_id, *others
        )
        return [found]

    found = span.parts(plan, q.sde_matches, also if others else None, merge=merge)
    return found[0].distinct() if len(found) == 1 else sa.union(*found)


def _page(
    conn: Connection, account_id: str, q: Criteria, plan: Plan, *, offset: int, limit: int
) -> list[str]:
    c = conversations.c
    if q.sort_by == "start" and _ordered(q):
        # The entries come in (created_ms, conversation_id) order from the index, both ways:
        # the page stops after its rows. Several parts are merged in that order (SQLite
        # merges a compound's ordered arms).
        matching = _from_index(conn, account_id, q, plan)
        keys = list(matching.selected_columns)
        by = [k.desc() if q.descending else k.asc() for k in keys]
        found = conn.execute(matching.order_by(*by).offset(offset).limit(limit))
        return [r[1] for r in found]
    order: list[sa.ColumnElement[Any]]
    if q.sort_by == "start":
        # created_ms is never NULL, and ix_conversations_created gives this order both ways.
        # When few conversations match, "+ 0" keeps SQLite from walking that index and has it
        # read the matches by key and sort them instead.
        start = c.created_ms if plan.walk or not q.sde_matches else c.created_ms + 0
        order = [start.desc(), c.conversation_id.desc()]
        if not q.descending:
            order = [start.asc(), c.conversation_id.asc()]
    else:
        end = c.closed_ms.desc() if q.descending else c.closed_ms.asc()
        order = [end.nulls_last(), c.conversation_id]
    rows = conn.execute(
        sa.select(c.conversation_id)
        .where(*_where(conn, account_id, q, plan))
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    )
    return [r[0] for r in rows]


def _count(conn: Connection, account_id: str, q: Criteria, plan: Plan) -> int:
    if _ordered(q):
        # Each matching conversation once, from the drivers' entries in the start range (no
        # read of conversations unless another filter asks).
        matching = _from_index(conn, account_id, q, plan, merge=True).subquery()
        return int(conn.execute(sa.select(sa.func.count()).select_from(matching)).scalar_one())
    # Each matching SDE's conversations by key (ix_conversations_id_created covers the range).
    where = _where(conn, account_id, q, plan)
    counted = conn.execute(sa.select(sa.func.count()).select_from(conversations).where(*where))
    return int(counted.scalar_one())


def _plan(conn: Connection, account_id: str, q: Criteria, *, page: bool, count: bool) -> Plan:
    span = Span(account_id, q.start_from, q.start_to)
    ordered = _ordered(q) and (q.sort_by == "start" or not page)
    return span.plan(conn, q.sde_matches, ordered=ordered, count=count and _ordered(q))


def page(
    conn: Connection, account_id: str, criteria: Criteria, *, offset: int, limit: int
) -> list[str]:
    """The ids of one page of the matching conversations, in the order asked."""
    plan = _plan(conn, account_id, criteria, page=True, count=False)
    return _page(conn, account_id, criteria, plan, offset=offset, limit=limit)


def count(conn: Connection, account_id: str, criteria: Criteria) -> int:
    """How many conversations match (``_metadata.count``)."""
    plan = _plan(conn, account_id, criteria, page=False, count=True)
    return _count(conn, account_id, criteria, plan)


def search(
    conn: Connection, account_id: str, criteria: Criteria, *, offset: int, limit: int
) -> tuple[int, list[str]]:
    """The number of matching conversations and the ids of one page of them."""
    plan = _plan(conn, account_id, criteria, page=True, count=True)
    return _count(conn, account_id, criteria, plan), _page(
        conn, account_id, criteria, plan, offset=offset, limit=limit
    )


def conversations_of_consumer(
    conn: Connection, account_id: str, consumer_id: str, states: Sequence[str]
) -> list[str]:
    """Ids of a consumer's conversations in the given states, newest first."""
    c = conversations.c
    found = conn.execute(
        sa.select(c.conversation_id)
        .where(c.account_id == account_id, c.consumer_id == consumer_id, c.state.in_(states))
        .order_by(c.created_ms.desc(), c.conversation_id)
    )
    return [r[0] for r in found]
