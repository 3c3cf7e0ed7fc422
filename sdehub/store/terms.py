"""The ``sdeSearch`` term index's pending tail, and the drain that empties it.

A search looks terms up in ``sde_terms``, one row per term, SDE and conversation it is
attributed to, under the primary key ``(account_id, history_key, term, created_ms,
conversation_id, seq)`` (sdehub.store.search_plan). Writing those rows where an SDE is
acknowledged cost a Connector CONVERSATION some 30 rows on as many random pages of that index,
inside the transaction the consumer waits for (docs/benchmarks.md, "CONVERSATION"). So the
attributing transaction appends ONE row per SDE and conversation to ``sde_terms_pending``
(keyed like ``sde_terms`` without the term), its terms packed in one string
(``history.index_terms``, ``sdehub.model.sdesearch.pack``), and :func:`drain_terms` moves such
rows to ``sde_terms`` later, a batch at a time: the per-term rows of a few hundred pending rows,
sorted, in one transaction with the deletion of those rows, so every (SDE, conversation) is in
exactly one of the two tables at any moment and a crash leaves the batch entirely in one. The
per-term inserts skip rows already there: draining twice, or an SDE indexed again in the same
conversation after its drain, writes nothing new.

Who drains: the database writer's idle work (sdehub.store.writers), :func:`drain_step`. After
50 ms without a write it drains batch after batch while none comes. While writes keep coming it
leaves the tail alone until ``BACKLOG`` rows are pending, then drains a batch every 50 ms, which
outpaces any load the writer can take: a burst is acknowledged at the full rate and indexed as
soon as it ends, and a sustained load keeps the tail near the bound (so a search never scans
more than that), paying for the move as it goes. On both backends: PostgreSQL pays for a row per
term in the acknowledging transaction as SQLite does (an index entry and its WAL record each),
and one mechanism keeps one store API, one search and one test suite for both; its writer
thread drains like the SQLite writer process, and ``FOR UPDATE SKIP LOCKED`` lets several
servers share a database. :meth:`sdehub.store.Database.drain_terms` drains everything now
(tests, benches).

A new SDE is searchable in its conversations as soon as it is acknowledged: a search reads the
per-term index and, for each key asked for that has pending rows, those rows, testing each packed
string for every term (sdehub.store.search_plan): a scan of the key's pending rows within the
``start`` range, or a probe at one conversation, nothing when the key has none
(docs/benchmarks.md, "Search").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles

from sdehub.model.sdesearch import Match, needle, unpack
from sdehub.store.sql import Sql, TableSql, one, run_many
from sdehub.store.tables import sde_terms, sde_terms_pending

DRAIN_BATCH: Final = 500
"""Pending rows (an SDE in a conversation) moved per transaction: about 7,500 per-term rows for
the demo's profile SDEs, tens of milliseconds, so a write that arrives meanwhile does not wait
long."""

BACKLOG: Final = 50_000
"""Pending rows (an SDE in a conversation) the writer lets pile up while writes keep coming: a
search scans at most about this many (docs/benchmarks.md, "Search": an OR of rare keys took
23 ms with 200,000 pending), and a burst of some 25,000 Connector conversations is acknowledged
without paying for their move until it ends."""

_KEY = ("account_id", "history_key", "term", "created_ms", "conversation_id", "seq")
_ADD_TERMS = TableSql(sde_terms).upsert(_KEY, update=())
_DROP_PENDING = Sql(
    "DELETE FROM sde_terms_pending WHERE account_id = :account_id"
    " AND history_key = :history_key AND created_ms = :created_ms"
    " AND conversation_id = :conversation_id AND seq = :seq"
)


def drain_terms(
    conn: Connection, account_id: str | None = None, *, limit: int = DRAIN_BATCH
) -> int:
    """Move up to ``limit`` pending rows' terms to ``sde_terms`` (those of ``account_id``, or of
    any account when None): returns how many rows (SDE and conversation) moved, 0 when none
    was pending."""
    p = sde_terms_pending.c
    key = (p.account_id, p.history_key, p.created_ms, p.conversation_id, p.seq)
    oldest = sa.select(*key, p.terms)
    if account_id is not None:
        oldest = oldest.where(p.account_id == account_id)
    # PostgreSQL: several servers may drain the same database; each takes rows no other holds.
    oldest = oldest.order_by(*key).limit(limit)
    found = conn.execute(oldest.with_for_update(skip_locked=True)).all()
    if not found:
        return 0
    rows = sorted(
        (a, k, term, created, c, seq)
        for a, k, created, c, seq, packed in found
        for term in unpack(packed)
    )  # in the index's order: neighbouring rows share pages
    run_many(conn, _ADD_TERMS, [dict(zip(_KEY, row, strict=True)) for row in rows])
    run_many(
        conn, _DROP_PENDING, [dict(zip(_KEY[:2] + _KEY[3:], r[:5], strict=True)) for r in found]
    )
    return len(found)


_BACKLOG = Sql("SELECT count(*) FROM (SELECT 1 FROM sde_terms_pending LIMIT :bound) AS tail")


def drain_step(conn: Connection, busy: bool, *, backlog: int = BACKLOG) -> bool:
    """The writer's idle work (sdehub.store.writers): a batch moved, and whether another is
    wanted. Quiet (``busy`` false): a batch when any is pending. Under load: one only when
    ``backlog`` rows or more are pending (every account's: one tail, one bound)."""
    if busy:
        (pending,) = one(conn, _BACKLOG, {"bound": backlog})
        if pending < backlog:
            return False
    return drain_terms(conn) > 0


class _instr(sa.sql.functions.FunctionElement[int]):
    """Where the second string starts in the first, 0 when absent (SQLite's ``instr``,
    PostgreSQL's ``strpos``): a packed row holds a term when it contains its needle."""

    type = sa.Integer()
    inherit_cache = True


@compiles(_instr)
def _instr_sqlite(element: _instr, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_instr, "postgresql")
def _instr_postgresql(element: _instr, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class Pending:
    """An account's pending SDEs, as the parts of a search that read them (sdehub.store.history):
    an SDE holds a match when its packed terms contain the needle of every term."""

    account_id: str

    def holding(self, match: Match, start_from: int, start_to: int) -> sa.Select[Any]:
        """``(created_ms, conversation_id)`` of the conversations started in the range with a
        pending SDE holding the match: the key's pending rows in the range, scanned."""
        p = sde_terms_pending.alias("pending")
        return sa.select(p.c.created_ms, p.c.conversation_id).where(
            p.c.account_id == self.account_id,
            p.c.history_key == match.key,
            p.c.created_ms >= start_from,
            p.c.created_ms <= start_to,
            *(_instr(p.c.terms, needle(t)) > 0 for t in sorted(match.terms)),
        )

    def holds(self, match: Match, created: Any, conversation_id: Any) -> sa.ColumnElement[bool]:
        """The conversation (its start and id) has a pending SDE holding the match (a probe of
        the primary key's prefix)."""
        p = sde_terms_pending.alias("pending")
        return sa.exists().where(
            p.c.account_id == self.account_id,
            p.c.history_key == match.key,
            p.c.created_ms == created,
            p.c.conversation_id == conversation_id,
            *(_instr(p.c.terms, needle(t)) > 0 for t in sorted(match.terms)),
        )
