"""Queries of the Messaging Interactions API: conversation search, and the SDE search terms.

Search is a cold path (an analyst's query, not a message), so it is built with SQLAlchemy Core
from the criteria given. ``sdeSearch`` never reads SDE payloads: each SDE's words and word pairs
are written to ``sde_terms`` when it becomes searchable (:func:`index_terms`): one row per SDE,
its terms sorted and packed between separators (``\x1fbench\x1fbench shop\x1fshop\x1f``), so a
value's match is "the SDEs of that key whose row holds every term" (one ``LIKE`` per term over
the key's rows), joined to conversations through ``ix_sde_attributions_seq``. A row per term and
SDE made an indexed lookup of each term possible, but cost recording a conversation's profile
some 30 rows on as many random pages of the index (docs/benchmarks.md); packed rows append, and a
search reads the rows of one key of one account instead. What remains unindexed is ``keyword``,
``userUpdate`` (LIKE over message and profile text) and the terms themselves, for which an
FTS5 / pg_trgm index is the next step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.model.provenance import Entry
from sdehub.model.sdesearch import Match, terms
from sdehub.store.sql import TableSql, run_many
from sdehub.store.tables import (
    agent_survey_states,
    consumers,
    conversations,
    messages,
    participants,
    sde_attributions,
    sde_terms,
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


_ADD_TERMS = TableSql(sde_terms).upsert(("account_id", "history_key", "seq"), update=())
SEP = "\x1f"
"""Between packed terms: never part of one (a term is words of ``[\\w@.+-]`` and spaces)."""


def _packed(words: set[str]) -> str:
    return SEP + SEP.join(sorted(words)) + SEP


def index_terms(conn: Connection, account_id: str, entries: Sequence[Entry]) -> None:
    """Write the search terms of SDEs attributed to a conversation (again: no-op)."""
    params: list[dict[str, Any]] = []
    for entry in entries:
        found = terms(entry.record)
        if found is None:
            continue
        key, words = found
        params.append(
            {"account_id": account_id, "history_key": key, "seq": entry.meta.seq,
             "terms": _packed(words)}
        )  # fmt: skip
    run_many(conn, _ADD_TERMS, params)


def _sde_clause(account_id: str, match: Match) -> sa.ColumnElement[bool]:
    c = conversations.c
    if match.key == "userUpdate":
        profile = sa.func.lower(sa.cast(consumers.c.profile, sa.Text))
        owners = sa.select(consumers.c.consumer_id).where(
            consumers.c.account_id == account_id,
            *(profile.contains(t, autoescape=True) for t in sorted(match.terms)),
        )
        return c.consumer_id.in_(owners)
    t = sde_terms.c
    holding = sa.select(t.seq).where(
        t.account_id == account_id,
        t.history_key == match.key,
        *(t.terms.contains(SEP + term + SEP, autoescape=True) for term in sorted(match.terms)),
    )
    a = sde_attributions.c
    attributed = sa.select(a.conversation_id).where(a.account_id == account_id, a.seq.in_(holding))
    return c.conversation_id.in_(attributed)


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


def _where(conn: Connection, account_id: str, q: Criteria) -> list[sa.ColumnElement[bool]]:
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
    if q.sde_matches:
        where.append(sa.or_(*(_sde_clause(account_id, m) for m in q.sde_matches)))
    return where


def search(
    conn: Connection, account_id: str, criteria: Criteria, *, offset: int, limit: int
) -> tuple[int, list[str]]:
    """The number of matching conversations and the ids of one page of them."""
    c = conversations.c
    where = _where(conn, account_id, criteria)
    count = conn.execute(sa.select(sa.func.count()).select_from(conversations).where(*where))
    column = c.created_ms if criteria.sort_by == "start" else c.closed_ms
    order = column.desc() if criteria.descending else column.asc()
    page = conn.execute(
        sa.select(c.conversation_id)
        .where(*where)
        .order_by(order.nulls_last(), c.conversation_id)
        .offset(offset)
        .limit(limit)
    )
    return int(count.scalar_one()), [r[0] for r in page]


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
