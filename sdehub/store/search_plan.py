"""How ``sdeSearch`` finds conversations in the term index: the plan of a search and the parts
of its SQL that read ``sde_terms`` and its pending tail (sdehub.store.history builds the rest).

``sde_terms`` holds one row per term, SDE and conversation the SDE is attributed to, under the
primary key ``(account_id, history_key, term, created_ms, conversation_id, seq)``. A value
matches "a conversation with an SDE holding all its terms": the entries of its rarest term (the
*driver*) within the ``start`` range, in the order of the conversations' start, each probed for
the other terms by full key (same conversation, same SDE); OR-ed with the key's pending SDEs
whose packed terms contain every term (sdehub.store.terms), read only when the key has any.

Three shapes use these parts (:class:`Plan` says which applies):

* *ordered*: a page sorted by start, or a count, with only indexed keys: the drivers' entries
  themselves, in index order (a page stops after its rows), other filters probed per entry; a
  count of several common words intersects their entries instead, one merged pass over each;
* *few*: the conversations holding the match as an ``IN`` list, when few SDEs match;
* *walk*: conversations walked in the page's order, each probed in the term index by its
  start and id, when many match and the page is not one the index orders (sorted by end time,
  or OR-ed with a ``userUpdate`` profile match).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.model.sdesearch import Match
from sdehub.store.sql import Sql, one
from sdehub.store.tables import sde_terms
from sdehub.store.terms import Pending

TERM_FIRST_MAX = 5_000
"""Up to this many matching SDEs, a page not ordered by the index reads their conversations by
key and sorts them; beyond, it walks conversations in its order and stops at the page's end."""
SAMPLE = 500
ESTIMATE_MAX = 100_000
"""Several words whose rarest one is common are estimated from a sample of its entries (the
share holding the others, times its entries counted up to ESTIMATE_MAX) before choosing."""
MERGE_MAX = 50_000
MERGE_RATIO = 4
"""A count intersects the sorted entries of every term of a match (one pass over each, merged)
rather than probing the driver's entries for the others when the largest has at most this many
times the smallest's entries (each counted up to MERGE_MAX): a step of the merge costs a few
times less than a probe."""

Filter = Callable[[sa.ColumnElement[str]], list[sa.ColumnElement[bool]]]
"""The conditions a conversation id (a column of the part) must meet besides the SDEs."""


class Plan(NamedTuple):
    drivers: dict[Match, str]
    """The rarest term of each indexed match: its entries drive the lookup."""
    walk: bool
    """Whether a page the index does not order walks conversations (many SDEs match) rather
    than reading the matching conversations by key and sorting them (few do)."""
    pending: frozenset[str] = frozenset()
    """The keys asked for that have pending SDEs (sdehub.store.terms): read those too."""
    merged: frozenset[Match] = frozenset()
    """The matches whose count intersects their terms' entries (MERGE_RATIO)."""


# Plain SQL for the few statements every search runs (SQLAlchemy's Python would outweigh them).
_TERM_COUNT = Sql(
    "SELECT count(*) FROM (SELECT seq FROM sde_terms WHERE account_id = :account_id"
    " AND history_key = :key AND term = :term AND created_ms >= :start_from"
    " AND created_ms <= :start_to LIMIT :cap) AS found"
)
_HAS_PENDING = Sql(
    "SELECT 1 FROM sde_terms_pending WHERE account_id = :account_id AND history_key = :key LIMIT 1"
)


def _term_count(conn: Connection, span: Span, key: str, term: str, cap: int) -> int:
    """How many entries the term has in the span, counting no further than ``cap + 1``."""
    params = {**asdict(span), "key": key, "term": term, "cap": cap + 1}
    return int(one(conn, _TERM_COUNT, params)[0])


def _others_held(span: Span, match: Match, driver: str, entry: Any) -> list[sa.ColumnElement[bool]]:
    """The SDE of ``entry`` (a driver's row) holds the match's other terms in the same
    conversation: one probe of the primary key per term."""
    held: list[sa.ColumnElement[bool]] = []
    for i, term in enumerate(sorted(match.terms - {driver})):
        o = sde_terms.alias(f"held{i}")
        held.append(
            sa.exists().where(
                o.c.account_id == span.account_id,
                o.c.history_key == match.key,
                o.c.term == term,
                o.c.created_ms == entry.c.created_ms,
                o.c.conversation_id == entry.c.conversation_id,
                o.c.seq == entry.c.seq,
            )
        )
    return held


def _estimate(conn: Connection, span: Span, match: Match, driver: str) -> int:
    """About how many SDEs hold every term of a match whose driving term is common: the share
    of a sample of the driver's entries holding the others, times the driver's entries."""
    t = sde_terms.alias("entry")
    sample = (
        sa.select(t.c.created_ms, t.c.conversation_id, t.c.seq)
        .where(
            t.c.account_id == span.account_id,
            t.c.history_key == match.key,
            t.c.term == driver,
            t.c.created_ms >= span.start_from,
            t.c.created_ms <= span.start_to,
        )
        .limit(SAMPLE)
        .subquery("sampled")
    )
    held = conn.execute(
        sa.select(sa.func.count())
        .select_from(sample)
        .where(*_others_held(span, match, driver, sample))
    ).scalar_one()
    entries = _term_count(conn, span, match.key, driver, ESTIMATE_MAX)
    return int(held) * entries // max(1, min(SAMPLE, entries))


def _capped_count(conn: Connection, query: sa.Select[Any], cap: int) -> int:
    some = query.limit(cap + 1).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(some)).scalar_one())


@dataclass(frozen=True)
class Span:
    """An account's term index (and pending tail) within a ``start`` range (inclusive, epoch
    ms), as the parts of a search that read them (sdehub.store.history)."""

    account_id: str
    start_from: int
    start_to: int

    def _entries(self, match: Match, term: str) -> tuple[Any, list[sa.ColumnElement[bool]]]:
        """The term's entries in the range: the table (aliased) and the conditions."""
        t = sde_terms.alias("entry")
        return t, [
            t.c.account_id == self.account_id,
            t.c.history_key == match.key,
            t.c.term == term,
            t.c.created_ms >= self.start_from,
            t.c.created_ms <= self.start_to,
        ]

    def _intersected(self, match: Match) -> sa.Subquery:
        """The SDEs (with their conversation) holding every term, as the intersection of the
        terms' entries; ordered as the index is, so SQLite merges them in one pass each."""
        each = []
        for term in sorted(match.terms):
            t, where = self._entries(match, term)
            each.append(sa.select(t.c.created_ms, t.c.conversation_id, t.c.seq).where(*where))
        both = sa.intersect(*each)
        return both.order_by(*both.selected_columns).subquery("intersected")

    def parts(
        self,
        plan: Plan,
        matches: Iterable[Match],
        also: Filter | None = None,
        *,
        merge: bool = False,
    ) -> list[sa.Select[Any]]:
        """``(created_ms, conversation_id)`` of the conversations holding any of the matches, one
        select per driver's entries and per pending key, each in the start range and meeting
        ``also``; a conversation comes once per SDE holding a match (callers dedupe).
        ``merge``: the matches of ``plan.merged`` intersect their terms' entries instead (no
        order: for a count)."""
        found: list[sa.Select[Any]] = []
        for match in matches:
            driver = plan.drivers[match]
            if merge and match in plan.merged:
                sdes = self._intersected(match)
                found.append(
                    sa.select(sdes.c.created_ms, sdes.c.conversation_id).where(
                        *(also(sdes.c.conversation_id) if also else ())
                    )
                )
            else:
                t, where = self._entries(match, driver)
                found.append(
                    sa.select(t.c.created_ms, t.c.conversation_id).where(
                        *where,
                        *_others_held(self, match, driver, t),
                        *(also(t.c.conversation_id) if also else ()),
                    )
                )
            if match.key in plan.pending:
                p = Pending(self.account_id).holding(match, self.start_from, self.start_to)
                found.append(p.where(*also(p.selected_columns.conversation_id)) if also else p)
        return found

    def holding_ids(self, plan: Plan, matches: Iterable[Match]) -> sa.Select[Any]:
        """The ids of the conversations holding any of the matches, as one list (SQLite reads an
        IN list by key; an OR of several would have it walk the range)."""
        found = self.parts(plan, matches)
        if len(found) == 1:
            return found[0].with_only_columns(found[0].selected_columns.conversation_id)
        listed = sa.union_all(*found).subquery()
        return sa.select(listed.c.conversation_id)

    def held_by(
        self, plan: Plan, match: Match, created: Any, conversation_id: Any
    ) -> sa.ColumnElement[bool]:
        """The conversation (its start and id, correlated) has an SDE holding the match: a probe of
        the driver's entries at that conversation (the walk)."""
        driver = plan.drivers[match]
        t = sde_terms.alias("walked")
        clause: sa.ColumnElement[bool] = sa.exists().where(
            t.c.account_id == self.account_id,
            t.c.history_key == match.key,
            t.c.term == driver,
            t.c.created_ms == created,
            t.c.conversation_id == conversation_id,
            *_others_held(self, match, driver, t),
        )
        if match.key in plan.pending:
            clause = sa.or_(clause, Pending(self.account_id).holds(match, created, conversation_id))
        return clause

    def plan(
        self, conn: Connection, matches: Iterable[Match], *, ordered: bool, count: bool = False
    ) -> Plan:
        """The drivers of the matches, which keys have pending SDEs, (unless ``ordered``: the
        index gives the page's order, so a page never walks) whether a page walks, and (for a
        ``count``) which matches a count intersects."""
        matches = list(matches)
        # The plan is made on the index alone: the pending tail is small (the writer drains it
        # when idle), and is read whichever way the page goes. A key without pending rows now
        # cannot have any that the page's query (a later snapshot) misses: rows only leave the tail
        # for the index, and ones added meanwhile were acknowledged after the search began.
        pending = frozenset(
            key
            for key in {m.key for m in matches if m.key != "userUpdate"}
            if one(conn, _HAS_PENDING, {"account_id": self.account_id, "key": key}) is not None
        )
        drivers: dict[Match, str] = {}
        merged: set[Match] = set()
        matched = 0
        for match in matches:
            if match.key == "userUpdate":
                matched = TERM_FIRST_MAX + 1  # profiles are not in the term index
                continue
            if ordered and len(match.terms) == 1:
                drivers[match] = next(iter(match.terms))
                continue
            counts = {
                term: _term_count(conn, self, match.key, term, TERM_FIRST_MAX)
                for term in sorted(match.terms)
            }
            driver = min(counts, key=lambda term: counts[term])
            drivers[match] = driver
            if count and counts[driver] > TERM_FIRST_MAX:
                sizes = [_term_count(conn, self, match.key, t, MERGE_MAX) for t in counts]
                if max(sizes) <= MERGE_RATIO * min(sizes):
                    merged.add(match)
            if not ordered and matched <= TERM_FIRST_MAX:
                if len(match.terms) > 1 and counts[driver] > TERM_FIRST_MAX - matched:
                    # Common words that often go together are found fastest by the walk; rarely,
                    # by reading the few SDEs holding them all (counted exactly, to be sure).
                    if _estimate(conn, self, match, driver) > TERM_FIRST_MAX - matched:
                        counts[driver] = TERM_FIRST_MAX + 1
                    else:
                        only = Plan({match: driver}, walk=False, pending=pending)
                        found = self.parts(only, [match])
                        query = found[0] if len(found) == 1 else sa.union_all(*found)
                        counts[driver] = _capped_count(
                            conn, sa.select(query.subquery()), TERM_FIRST_MAX
                        )
                matched += counts[driver]
        walk = not ordered and matched > TERM_FIRST_MAX
        return Plan(drivers, walk=walk, pending=pending, merged=frozenset(merged))
