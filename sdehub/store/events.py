"""The SDE event log, its attribution to conversations, and the current state per scope."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.model.merge import Scope, merge_records, rule
from sdehub.model.provenance import Entry, Provenance, Source
from sdehub.model.types import Event, wire_type
from sdehub.store.tables import sde_attributions, sde_events, sde_state
from sdehub.store.upsert import upsert

ScopeKind = Literal["session", "consumer"]
SCOPE_RULES: dict[ScopeKind, Scope] = {"session": "chat", "consumer": "messaging"}


class Origin(NamedTuple):
    """Who reported a batch of SDEs and what it belongs to."""

    source: Source
    authenticated: bool
    actor: str | None = None
    consumer_id: str | None = None
    visitor_id: str | None = None
    session_id: str | None = None
    conversation_id: str | None = None
    request_id: str | None = None


class StoredEvent(NamedTuple):
    entry: Entry
    consumer_id: str | None
    visitor_id: str | None
    session_id: str | None
    conversation_id: str | None


# Statements of the ingest hot path, built once with bound parameters (building a statement and
# its cache key costs more than running it on SQLite). Same SQL, same results.
_APPEND = sa.insert(sde_events).returning(sde_events.c.seq, sort_by_parameter_order=True)
_STATE_ROW = sa.select(sde_state.c.payload, sde_state.c.meta).where(
    sde_state.c.account_id == sa.bindparam("account_id"),
    sde_state.c.scope_kind == sa.bindparam("scope_kind"),
    sde_state.c.scope_id == sa.bindparam("scope_id"),
    sde_state.c.wire_type == sa.bindparam("wire_type"),
    sde_state.c.authenticated == sa.bindparam("authenticated"),
)
_seqs_in_window: dict[tuple[bool, bool], Any] = {}


def _seqs_in_window_statement(by_consumer: bool, by_visit: bool) -> Any:
    stmt = _seqs_in_window.get((by_consumer, by_visit))
    if stmt is None:
        e = sde_events
        who = []
        if by_consumer:
            who.append(e.c.consumer_id == sa.bindparam("consumer_id"))
        if by_visit:
            who.append(
                sa.and_(
                    e.c.visitor_id == sa.bindparam("visitor_id"),
                    e.c.session_id == sa.bindparam("session_id"),
                )
            )
        stmt = _seqs_in_window[(by_consumer, by_visit)] = sa.select(e.c.seq).where(
            e.c.account_id == sa.bindparam("account_id"),
            sa.or_(*who),
            e.c.server_ms >= sa.bindparam("since_ms"),
            e.c.server_ms <= sa.bindparam("until_ms"),
        )
    return stmt


def session_scope(visitor_id: str, session_id: str) -> str:
    return f"{visitor_id}:{session_id}"


def append(
    conn: Connection,
    account_id: str,
    records: Sequence[Event],
    origin: Origin,
    *,
    server_ms: int,
    original_ms: Sequence[int | None] | None = None,
) -> list[Entry]:
    """Append records to the log; return them as entries with their sequence numbers."""
    if not records:
        return []
    given = list(original_ms) if original_ms is not None else [None] * len(records)
    originals = [server_ms if orig is None else orig for orig in given]
    rows = [
        {
            "account_id": account_id,
            "wire_type": wire_type(record),
            "payload": record,
            "authenticated": origin.authenticated,
            "source": origin.source,
            "actor": origin.actor,
            "consumer_id": origin.consumer_id,
            "visitor_id": origin.visitor_id,
            "session_id": origin.session_id,
            "conversation_id": origin.conversation_id,
            "original_ms": orig,
            "server_ms": server_ms,
            "request_id": origin.request_id,
        }
        for record, orig in zip(records, originals, strict=True)
    ]
    seqs = [row.seq for row in conn.execute(_APPEND, rows)]
    return [
        Entry(
            record,
            Provenance(
                seq=seq,
                source=origin.source,
                authenticated=origin.authenticated,
                originalTs=orig,
                serverTs=server_ms,
                actor=origin.actor,
            ),
        )
        for record, orig, seq in zip(records, originals, seqs, strict=True)
    ]


def _entry(row: Any) -> Entry:
    return Entry(
        msgspec.convert(row.payload, Event),
        Provenance(
            seq=row.seq,
            source=row.source,
            authenticated=row.authenticated,
            originalTs=row.original_ms,
            serverTs=row.server_ms,
            actor=row.actor,
        ),
    )


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        _entry(row), row.consumer_id, row.visitor_id, row.session_id, row.conversation_id
    )


def attribute(conn: Connection, account_id: str, conversation_id: str, seqs: Iterable[int]) -> None:
    """Attribute events to a conversation (idempotent)."""
    rows = [{"account_id": account_id, "conversation_id": conversation_id, "seq": s} for s in seqs]
    if rows:
        upsert(conn, sde_attributions, rows, keys=("account_id", "conversation_id", "seq"))


def for_conversation(conn: Connection, account_id: str, conversation_id: str) -> list[Entry]:
    """Every event attributed to a conversation, in log order."""
    e, a = sde_events, sde_attributions
    rows = conn.execute(
        sa.select(e)
        .join(a, sa.and_(a.c.account_id == e.c.account_id, a.c.seq == e.c.seq))
        .where(a.c.account_id == account_id, a.c.conversation_id == conversation_id)
        .order_by(e.c.seq)
    )
    return [_entry(r) for r in rows]


def seqs_in_window(
    conn: Connection,
    account_id: str,
    *,
    consumer_id: str | None,
    visitor_id: str | None,
    session_id: str | None,
    since_ms: int,
    until_ms: int,
) -> list[int]:
    """Sequence numbers of a consumer's (or a visit's) events reported in a time window."""
    by_consumer = consumer_id is not None
    by_visit = visitor_id is not None and session_id is not None
    if not by_consumer and not by_visit:
        return []
    params = {"account_id": account_id, "since_ms": since_ms, "until_ms": until_ms}
    if by_consumer:
        params["consumer_id"] = consumer_id
    if by_visit:
        params.update(visitor_id=visitor_id, session_id=session_id)
    rows = conn.execute(_seqs_in_window_statement(by_consumer, by_visit), params)
    return [r.seq for r in rows]


def recent(
    conn: Connection,
    account_id: str,
    *,
    after_seq: int = 0,
    limit: int = 100,
    wire_types: Sequence[str] | None = None,
) -> list[StoredEvent]:
    """The account's events after ``after_seq``, oldest first (paging through the log)."""
    e = sde_events
    q = sa.select(e).where(e.c.account_id == account_id, e.c.seq > after_seq)
    if wire_types:
        q = q.where(e.c.wire_type.in_(list(wire_types)))
    return [_stored(r) for r in conn.execute(q.order_by(e.c.seq).limit(limit))]


# --- current state per scope --------------------------------------------------------------


def update_state(
    conn: Connection, account_id: str, kind: ScopeKind, scope_id: str, entries: Sequence[Entry]
) -> None:
    """Apply new entries to a scope's current state (merge/replace types only)."""
    scope = SCOPE_RULES[kind]
    for entry in entries:
        wt = wire_type(entry.record)
        how = rule(wt, scope)
        if how == "append":
            continue
        record = entry.record
        if how == "merge":
            current = _state_row(conn, account_id, kind, scope_id, wt, entry.meta.authenticated)
            if current is not None:
                record = merge_records(current.record, record)
        upsert(
            conn,
            sde_state,
            [
                {
                    "account_id": account_id,
                    "scope_kind": kind,
                    "scope_id": scope_id,
                    "wire_type": wt,
                    "authenticated": entry.meta.authenticated,
                    "payload": record,
                    "seq": entry.meta.seq,
                    "meta": entry.meta,
                }
            ],
            keys=("account_id", "scope_kind", "scope_id", "wire_type", "authenticated"),
        )


def _state_row(
    conn: Connection, account_id: str, kind: str, scope_id: str, wt: str, authenticated: bool
) -> Entry | None:
    params = {
        "account_id": account_id,
        "scope_kind": kind,
        "scope_id": scope_id,
        "wire_type": wt,
        "authenticated": authenticated,
    }
    row = conn.execute(_STATE_ROW, params).first()
    if row is None:
        return None
    return Entry(msgspec.convert(row.payload, Event), msgspec.convert(row.meta, Provenance))


def state(conn: Connection, account_id: str, kind: ScopeKind, scope_id: str) -> list[Entry]:
    """The current merge/replace-type values of one scope."""
    s = sde_state
    rows = conn.execute(
        sa.select(s.c.payload, s.c.meta)
        .where(s.c.account_id == account_id, s.c.scope_kind == kind, s.c.scope_id == scope_id)
        .order_by(s.c.seq)
    )
    return [
        Entry(msgspec.convert(r.payload, Event), msgspec.convert(r.meta, Provenance)) for r in rows
    ]
