"""Queries of the Messaging Interactions API: conversation search, and the SDE search terms.

Search is a cold path (an analyst's query, not a message), so it is built with SQLAlchemy Core
from the criteria given. ``sdeSearch`` never reads SDE payloads: each SDE's words and word pairs
go to ``sde_terms`` (:func:`index_terms`, through a pending tail: sdehub.store.terms), and a value
matches "the SDEs holding all its terms": the entries of its rarest term in the primary key
``(account_id, history_key, term, seq)``, each probed for the others; OR-ed with the key's
pending SDEs whose packed terms contain every term (read only when the key has any).

A search first counts each term's entries (capped; :func:`_plan`). Few matching SDEs: their
conversations come by key from ``ix_sde_attributions_seq`` and are sorted. Many: the page walks
conversations newest first on ``ix_conversations_created`` and probes each one's SDEs, so it stops
after 50 hits. ``_metadata.count`` reads the term index and ``ix_sde_attributions_seq`` alone when
``start`` covers the whole account and ``sdeSearch`` is the only filter, and checks each matching
conversation's start on ``ix_conversations_id_created`` otherwise (docs/benchmarks.md, "Search",
has the figures at a million conversations). ``keyword`` and ``userUpdate`` remain unindexed
(LIKE over message and profile text), for which an FTS5 / pg_trgm index is the next step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.model.provenance import Entry
from sdehub.model.sdesearch import Match, pack, terms
from sdehub.store.sql import Sql, TableSql, one, run_many
from sdehub.store.tables import (
    agent_survey_states,
    consumers,
    conversations,
    messages,
    participants,
    sde_attributions,
    sde_terms,
    sde_terms_pending,
)
from sdehub.store.terms import Pending

AGENT_ROLES = ("ASSIGNED_AGENT", "AGENT", "MANAGER", "READER")
TERM_FIRST_MAX = 5_000
SAMPLE = 500
ESTIMATE_MAX = 100_000
"""Up to this many matching SDEs, a search looks them up first and reads their conversations
by key; beyond, a page walks conversations newest first and stops at the page's end."""


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


_ADD_PENDING = TableSql(sde_terms_pending).upsert(("account_id", "history_key", "seq"), update=())


def index_terms(conn: Connection, account_id: str, entries: Sequence[Entry]) -> None:
    """Make SDEs attributed to a conversation searchable: one pending row each, its terms
    packed, which the writer moves to ``sde_terms`` later (sdehub.store.terms). Again: no-op
    while pending, and nothing new once moved."""
    params: list[dict[str, Any]] = []
    for entry in entries:
        found = terms(entry.record)
        if found is None or not found[1]:
            continue
        key, words = found
        params.append(
            {"account_id": account_id, "history_key": key, "seq": entry.meta.seq,
             "terms": pack(words)}
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


def _holds(
    account_id: str, match: Match, seq: sa.ColumnElement[int], first: str = ""
) -> sa.ColumnElement[bool]:
    """The SDE ``seq`` holds every term of the match: one primary-key probe per term, ``first``
    (the rarest) first, so most SDEs are ruled out by one probe."""
    held = []
    for i, term in enumerate(sorted(match.terms, key=lambda t: (t != first, t))):
        t = sde_terms.alias(f"held{i}")
        held.append(
            sa.exists().where(
                t.c.account_id == account_id,
                t.c.history_key == match.key,
                t.c.term == term,
                t.c.seq == seq,
            )
        )
    return sa.and_(*held)


def _sde_clause(
    account_id: str, match: Match, driver: str, walk: bool, pending: bool
) -> sa.ColumnElement[bool]:
    """The conversation has an SDE holding the match. ``walk``: correlated, probed once per
    conversation (a page walking conversations newest first); otherwise the conversations of
    the matching SDEs, read from the term index first. ``pending``: the key has SDEs whose
    terms are not in the index yet, tested too."""
    if match.key == "userUpdate":
        return _profile_clause(account_id, match)
    a = sde_attributions.alias("attributed")
    if walk:
        held = _holds(account_id, match, a.c.seq, driver)
        if pending:
            held = sa.or_(held, Pending(account_id).holds(match, a.c.seq))
        return sa.exists().where(
            a.c.account_id == account_id,
            a.c.conversation_id == conversations.c.conversation_id,
            held,
        )
    holding = _holding(account_id, match, driver, pending)
    attributed = sa.select(a.c.conversation_id).where(
        a.c.account_id == account_id, a.c.seq.in_(holding)
    )
    return conversations.c.conversation_id.in_(attributed)


def _capped_count(
    conn: Connection, query: sa.Select[Any] | sa.CompoundSelect[Any], cap: int
) -> int:
    some = query.limit(cap + 1).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(some)).scalar_one())


def _term_count(conn: Connection, account_id: str, key: str, term: str, cap: int) -> int:
    """How many SDEs hold the term, counting no further than ``cap + 1``."""
    params = {"account_id": account_id, "key": key, "term": term, "cap": cap + 1}
    return int(one(conn, _TERM_COUNT, params)[0])


def _estimate(conn: Connection, account_id: str, match: Match, driver: str) -> int:
    """About how many SDEs hold every term of a match whose driving term is common: the share
    of a sample of the driver's entries holding the others, times the driver's entries."""
    t = sde_terms.c
    sample = (
        sa.select(t.seq)
        .where(t.account_id == account_id, t.history_key == match.key, t.term == driver)
        .limit(SAMPLE)
        .subquery()
    )
    others = Match(match.key, match.terms - {driver})
    held = conn.execute(
        sa.select(sa.func.count())
        .select_from(sample)
        .where(_holds(account_id, others, sample.c.seq))
    ).scalar_one()
    entries = _term_count(conn, account_id, match.key, driver, ESTIMATE_MAX)
    return int(held) * entries // min(SAMPLE, entries)


# Plain SQL for the few statements every search runs (SQLAlchemy's Python would outweigh them).
_TERM_COUNT = Sql(
    "SELECT count(*) FROM (SELECT seq FROM sde_terms WHERE account_id = :account_id"
    " AND history_key = :key AND term = :term LIMIT :cap) AS found"
)
_START_SPAN = Sql(
    "SELECT (SELECT min(created_ms) FROM conversations WHERE account_id = :account_id),"
    " (SELECT max(created_ms) FROM conversations WHERE account_id = :account_id)"
)


def _holding_parts(
    account_id: str, match: Match, driver: str, pending: bool
) -> list[sa.Select[Any]]:
    """The SDEs holding the match: the driver term's index entries, each probed for the rest;
    and when ``pending``, the key's pending SDEs holding every term."""
    t = sde_terms.c
    others = Match(match.key, match.terms - {driver})
    query = sa.select(t.seq).where(
        t.account_id == account_id, t.history_key == match.key, t.term == driver
    )
    if others.terms:
        query = query.where(_holds(account_id, others, t.seq))
    return [query, Pending(account_id).holding(match)] if pending else [query]


def _holding(
    account_id: str, match: Match, driver: str, pending: bool
) -> sa.Select[Any] | sa.CompoundSelect[Any]:
    parts = _holding_parts(account_id, match, driver, pending)
    # An SDE is in one of the two at a time (the drain moves it in one transaction); one
    # indexed again after its move may be in both, which every use (IN, capped count) bears.
    return sa.union_all(*parts) if len(parts) > 1 else parts[0]


def _any_holding(account_id: str, plan: _Plan, matches: Iterable[Match]) -> sa.CompoundSelect[Any]:
    """The SDEs holding any of the matches, as one list (SQLite reads an IN list by key; an
    OR of several would have it walk the range)."""
    return sa.union(
        *(
            part
            for m in matches
            for part in _holding_parts(account_id, m, plan.drivers[m], m.key in plan.pending)
        )
    )


class _Plan(NamedTuple):
    drivers: dict[Match, str]
    """The rarest term of each match: its index entries drive the lookup."""
    walk: bool
    """Whether a page walks conversations newest first (many SDEs match) rather than reading
    the matching SDEs' conversations by key and sorting them (few do)."""
    pending: frozenset[str] = frozenset()
    """The keys asked for that have pending SDEs (sdehub.store.terms): read those too."""


_HAS_PENDING = Sql(
    "SELECT 1 FROM sde_terms_pending WHERE account_id = :account_id AND history_key = :key LIMIT 1"
)


def _plan(conn: Connection, account_id: str, q: Criteria) -> _Plan:
    drivers: dict[Match, str] = {}
    matched = 0
    # The plan is made on the index alone: the pending tail is small (the writer drains it
    # when idle), and is read whichever way the page goes. A key without pending rows now
    # cannot have any that the page's query (a later snapshot) misses: rows only leave the tail
    # for the index, and ones added meanwhile were acknowledged after the search began.
    pending = frozenset(
        key
        for key in {m.key for m in q.sde_matches if m.key != "userUpdate"}
        if one(conn, _HAS_PENDING, {"account_id": account_id, "key": key}) is not None
    )
    for match in q.sde_matches:
        if match.key == "userUpdate":
            drivers[match] = ""
            matched = TERM_FIRST_MAX + 1  # profiles are not in the term index
            continue
        counts = {
            term: _term_count(conn, account_id, match.key, term, TERM_FIRST_MAX)
            for term in sorted(match.terms)
        }
        driver = min(counts, key=lambda term: counts[term])
        drivers[match] = driver
        if matched <= TERM_FIRST_MAX:
            if len(match.terms) > 1 and counts[driver] > TERM_FIRST_MAX - matched:
                # Common words that often go together are found fastest by the walk; rarely,
                # by reading the few SDEs holding them all (counted exactly, to be sure).
                if _estimate(conn, account_id, match, driver) > TERM_FIRST_MAX - matched:
                    counts[driver] = TERM_FIRST_MAX + 1
                else:
                    counts[driver] = _capped_count(
                        conn,
                        _holding(account_id, match, driver, match.key in pending),
                        TERM_FIRST_MAX,
                    )
            matched += counts[driver]
    return _Plan(drivers, walk=matched > TERM_FIRST_MAX, pending=pending)


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


def _where(
    conn: Connection, account_id: str, q: Criteria, plan: _Plan, *, walk: bool
) -> list[sa.ColumnElement[bool]]:
    c = conversations.c
    where: list[sa.ColumnElement[bool]] = [
        c.account_id == account_id,
        c.created_ms >= q.start_from,
        c.created_ms <= q.start_to,
    ]
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
    indexed = {m: d for m, d in plan.drivers.items() if m.key != "userUpdate"}
    if walk or len(indexed) < 2:
        clauses = [
            _sde_clause(account_id, m, d, walk, m.key in plan.pending)
            for m, d in plan.drivers.items()
        ]
    else:
        # One list of conversations for the terms of every key: SQLite reads an IN list by key,
        # but an OR of several would have it walk the range.
        a = sde_attributions.alias("attributed")
        holding = _any_holding(account_id, plan, indexed)
        clauses = [
            c.conversation_id.in_(
                sa.select(a.c.conversation_id).where(
                    a.c.account_id == account_id, a.c.seq.in_(holding)
                )
            ),
            *(_profile_clause(account_id, m) for m in plan.drivers if m.key == "userUpdate"),
        ]
    if clauses:
        where.append(sa.or_(*clauses))
    return where


def _page(
    conn: Connection, account_id: str, q: Criteria, plan: _Plan, *, offset: int, limit: int
) -> list[str]:
    c = conversations.c
    order: list[sa.ColumnElement[Any]]
    if q.sort_by == "start":
        # created_ms is never NULL, and ix_conversations_created gives this order both ways.
        # When few conversations match, "+ 0" keeps SQLite from walking that index and has it
        # read the matches by key and sort them instead.
        start = c.created_ms if plan.walk else c.created_ms + 0
        order = [start.desc(), c.conversation_id.desc()]
        if not q.descending:
            order = [start.asc(), c.conversation_id.asc()]
    else:
        end = c.closed_ms.desc() if q.descending else c.closed_ms.asc()
        order = [end.nulls_last(), c.conversation_id]
    rows = conn.execute(
        sa.select(c.conversation_id)
        .where(*_where(conn, account_id, q, plan, walk=plan.walk))
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    )
    return [r[0] for r in rows]


def _only_sdes(q: Criteria) -> bool:
    """Whether ``start`` and term-indexed ``sdeSearch`` keys are the only filters."""
    return (
        q.end_from is None and q.end_to is None and not q.states and not q.skill_ids
        and not q.agent_ids and not q.keywords and q.duration_from is None
        and q.duration_to is None and not q.nothing and q.survey is None
        and not any(m.key == "userUpdate" for m in q.sde_matches)
    )  # fmt: skip


def _covers_all(conn: Connection, account_id: str, q: Criteria) -> bool:
    """Whether every conversation of the account started within the ``start`` range."""
    first, last = one(conn, _START_SPAN, {"account_id": account_id})
    return first is None or (q.start_from <= first and last <= q.start_to)


def _count(conn: Connection, account_id: str, q: Criteria, plan: _Plan) -> int:
    if q.sde_matches and _only_sdes(q) and _covers_all(conn, account_id, q):
        # Every conversation is in range: count the conversations of the matching SDEs from
        # the two indexes alone (terms, then ix_sde_attributions_seq).
        a = sde_attributions.c
        seqs = _any_holding(account_id, plan, plan.drivers)
        counted = conn.execute(
            sa.select(sa.func.count(sa.distinct(a.conversation_id))).where(
                a.account_id == account_id, a.seq.in_(seqs)
            )
        )
        return int(counted.scalar_one())
    # Each matching SDE's conversations by key (ix_conversations_id_created covers the range).
    where = _where(conn, account_id, q, plan, walk=False)
    counted = conn.execute(sa.select(sa.func.count()).select_from(conversations).where(*where))
    return int(counted.scalar_one())


def page(
    conn: Connection, account_id: str, criteria: Criteria, *, offset: int, limit: int
) -> list[str]:
    """The ids of one page of the matching conversations, in the order asked."""
    plan = _plan(conn, account_id, criteria)
    return _page(conn, account_id, criteria, plan, offset=offset, limit=limit)


def count(conn: Connection, account_id: str, criteria: Criteria) -> int:
    """How many conversations match (``_metadata.count``)."""
    return _count(conn, account_id, criteria, _plan(conn, account_id, criteria))


def search(
    conn: Connection, account_id: str, criteria: Criteria, *, offset: int, limit: int
) -> tuple[int, list[str]]:
    """The number of matching conversations and the ids of one page of them."""
    plan = _plan(conn, account_id, criteria)
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
