"""The SDE event log, its attribution to conversations, and the current state per scope.

Every SDE any API accepts is appended here, so these queries run as plain SQL on the driver
connection (:mod:`sdehub.store.sql`), payloads decoded straight into the typed records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import msgspec
from sqlalchemy.engine import Connection

from sdehub.dataaccess.avrotext import sdes as avro_sdes
from sdehub.model.merge import Scope, merge_records, rule
from sdehub.model.provenance import Entry, Provenance, Source
from sdehub.model.types import Event, wire_type
from sdehub.store.exports import visit_item
from sdehub.store.sql import (
    AppendSql,
    Sql,
    TableSql,
    json_text,
    one,
    rows,
    run,
    run_many,
    to_json,
)
from sdehub.store.tables import sde_attributions, sde_avro_pending, sde_events, sde_state

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


EVENTS = TableSql(sde_events)
STATE = TableSql(sde_state)
ATTRIBUTIONS = TableSql(sde_attributions)
AVRO_PENDING = TableSql(sde_avro_pending)
_events = msgspec.json.Decoder(Event)
_provenance = msgspec.json.Decoder(Provenance)

# The columns of an appended row, in the order append binds them.
_APPEND_COLUMNS = (
    "account_id", "wire_type", "payload", "authenticated", "source", "actor", "consumer_id",
    "visitor_id", "session_id", "conversation_id", "original_ms", "server_ms", "request_id",
)  # fmt: skip
_APPEND = AppendSql(EVENTS, _APPEND_COLUMNS, "seq")
# In a visit the payload comes back as stored too: the WebSession item is written from that text,
# which PostgreSQL's jsonb may write differently from what it was given (-0.0 is 0.0 there), as
# the export, which used to read it back, did. SQLite stores the text it was given (a JSON
# object is never taken for a number), and hands back nothing (AppendSql).
_APPEND_IN_VISIT = AppendSql(EVENTS, _APPEND_COLUMNS, "seq, {text:payload}")
_ADD_AVRO_TEXT = AVRO_PENDING.insert()
_EVENT_COLUMNS = (
    "seq", "payload", "authenticated", "source", "actor", "original_ms", "server_ms",
    "consumer_id", "visitor_id", "session_id", "conversation_id",
)  # fmt: skip
_SELECT_EVENT = ", ".join(f"{{text:e.{c}}}" if c == "payload" else f"e.{c}" for c in _EVENT_COLUMNS)
_ATTRIBUTE = ATTRIBUTIONS.upsert(("account_id", "conversation_id", "seq"), update=())
# CROSS JOIN keeps SQLite's join order: the conversation's attributions first, then each event
# by its key (left to the planner, SQLite walks every event of the account).
_FOR_CONVERSATION = Sql(
    f"SELECT {_SELECT_EVENT} FROM sde_attributions a CROSS JOIN sde_events e"
    " WHERE a.account_id = :account_id AND a.conversation_id = :conversation_id"
    " AND e.seq = a.seq AND e.account_id = a.account_id ORDER BY a.seq"
)
_WINDOW = "server_ms >= :since_ms AND server_ms <= :until_ms"
_SEQS_IN_WINDOW = {
    (True, False): Sql(f"SELECT seq FROM sde_events WHERE account_id = :account_id"
                       f" AND consumer_id = :consumer_id AND {_WINDOW}"),
    (False, True): Sql(f"SELECT seq FROM sde_events WHERE account_id = :account_id"
                       f" AND visitor_id = :visitor_id AND session_id = :session_id AND {_WINDOW}"),
    (True, True): Sql(f"SELECT seq FROM sde_events WHERE account_id = :account_id"
                      f" AND consumer_id = :consumer_id AND {_WINDOW} UNION ALL"
                      f" SELECT seq FROM sde_events WHERE account_id = :account_id"
                      f" AND visitor_id = :visitor_id AND session_id = :session_id AND {_WINDOW}"),
}  # fmt: skip
_RECENT: dict[int, Sql] = {}
_PUT_STATE = STATE.upsert(("account_id", "scope_kind", "scope_id", "wire_type", "authenticated"))
_STATE_ROW = Sql(
    "SELECT {text:payload}, {text:meta} FROM sde_state WHERE account_id = :account_id"
    " AND scope_kind = :scope_kind AND scope_id = :scope_id AND wire_type = :wire_type"
    " AND authenticated = :authenticated"
)
_STATE = Sql(
    "SELECT {text:payload}, {text:meta} FROM sde_state WHERE account_id = :account_id"
    " AND scope_kind = :scope_kind AND scope_id = :scope_id ORDER BY seq"
)


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
    entries = []
    first_seq = 0
    in_visit = origin.visitor_id is not None and origin.session_id is not None
    append = _APPEND_IN_VISIT if in_visit else _APPEND
    sqlite = conn.dialect.name == "sqlite"
    reported: list[tuple[str, str]] = []  # (wire type, stored payload) of each, for the items
    for record, orig in zip(records, given, strict=True):
        original = server_ms if orig is None else orig
        wire = wire_type(record)
        payload = json_text.encode(record).decode()
        values = (
            account_id, wire, payload, origin.authenticated, origin.source, origin.actor,
            origin.consumer_id, origin.visitor_id, origin.session_id, origin.conversation_id,
            original, server_ms, origin.request_id,
        )  # fmt: skip
        cursor = run(conn, append, values)
        if sqlite:
            seq, stored = cursor.lastrowid, payload
        else:
            row = cursor.fetchone()
            seq, stored = int(row[0]), row[-1]
        if in_visit:
            reported.append((wire, stored))
            first_seq = first_seq or seq
        meta = Provenance(
            seq=seq,
            source=origin.source,
            authenticated=origin.authenticated,
            originalTs=original,
            serverTs=server_ms,
            actor=origin.actor,
        )
        entries.append(Entry(record, meta))
    if in_visit:
        first = {
            "account_id": account_id, "seq": first_seq, "authenticated": origin.authenticated,
            "visitor_id": origin.visitor_id, "session_id": origin.session_id,
            "server_ms": server_ms,
        }  # fmt: skip
        run(conn, _ADD_AVRO_TEXT, avro_text_row(first, reported))
    return entries


def avro_text_row(first: dict[str, Any], reported: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The ``sde_avro_pending`` (then ``sde_avro_texts``) row of SDEs appended together in a
    visit, ``(wire type, payload text)`` each; ``first`` is the first one's ``sde_events`` row
    (they share all but the type, payload and seq): their items of the Data Access WebSession
    line, written from the payload text stored with each (which the export used to decode and
    write in every hour's file). One row for the lot: a report's SDEs cost the writer one more
    row, not one each."""
    at, auth = first["server_ms"], bool(first["authenticated"])
    items = [
        item
        for wire, payload in reported
        if (item := avro_sdes.attribute(at, wire, auth, payload)) is not None
    ]
    avro = ",".join(items) if items else None
    return visit_item(first, at, seq=first["seq"], server_ms=at, avro=avro)


def _stored(row: Any) -> StoredEvent:
    seq, payload, authenticated, source, actor, original, server = row[:7]
    entry = Entry(
        _events.decode(payload),
        Provenance(
            seq=seq,
            source=source,
            authenticated=bool(authenticated),
            originalTs=original,
            serverTs=server,
            actor=actor,
        ),
    )
    return StoredEvent(entry, *row[7:])


def attribute(conn: Connection, account_id: str, conversation_id: str, seqs: Iterable[int]) -> None:
    """Attribute events to a conversation (idempotent)."""
    params = [
        {"account_id": account_id, "conversation_id": conversation_id, "seq": s} for s in seqs
    ]
    run_many(conn, _ATTRIBUTE, params)


def for_conversation(conn: Connection, account_id: str, conversation_id: str) -> list[Entry]:
    """Every event attributed to a conversation, in log order."""
    params = {"account_id": account_id, "conversation_id": conversation_id}
    return [_stored(r).entry for r in rows(conn, _FOR_CONVERSATION, params)]


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
    params: dict[str, Any] = {"account_id": account_id, "since_ms": since_ms, "until_ms": until_ms}
    if by_consumer:
        params["consumer_id"] = consumer_id
    if by_visit:
        params.update(visitor_id=visitor_id, session_id=session_id)
    found = rows(conn, _SEQS_IN_WINDOW[(by_consumer, by_visit)], params)
    return sorted({r[0] for r in found})  # UNION ALL: an event may match both ways


def recent(
    conn: Connection,
    account_id: str,
    *,
    after_seq: int = 0,
    limit: int = 100,
    wire_types: Sequence[str] | None = None,
) -> list[StoredEvent]:
    """The account's events after ``after_seq``, oldest first (paging through the log)."""
    types = list(wire_types or ())
    sql = _RECENT.get(len(types))
    if sql is None:
        only = ", ".join(f":t{i}" for i in range(len(types)))
        where = f" AND e.wire_type IN ({only})" if types else ""
        sql = _RECENT[len(types)] = Sql(
            f"SELECT {_SELECT_EVENT} FROM sde_events e WHERE e.account_id = :account_id"
            f" AND e.seq > :after_seq{where} ORDER BY e.seq LIMIT :limit"
        )
    params: dict[str, Any] = {"account_id": account_id, "after_seq": after_seq, "limit": limit}
    params.update({f"t{i}": t for i, t in enumerate(types)})
    return [_stored(r) for r in rows(conn, sql, params)]


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
        params = {
            "account_id": account_id,
            "scope_kind": kind,
            "scope_id": scope_id,
            "wire_type": wt,
            "authenticated": entry.meta.authenticated,
            "payload": to_json(record),
            "seq": entry.meta.seq,
            "meta": to_json(entry.meta),
        }
        run(conn, _PUT_STATE, params)


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
    row = one(conn, _STATE_ROW, params)
    return None if row is None else Entry(_events.decode(row[0]), _provenance.decode(row[1]))


def state(conn: Connection, account_id: str, kind: ScopeKind, scope_id: str) -> list[Entry]:
    """The current merge/replace-type values of one scope."""
    params = {"account_id": account_id, "scope_kind": kind, "scope_id": scope_id}
    return [Entry(_events.decode(p), _provenance.decode(m)) for p, m in rows(conn, _STATE, params)]


# ORDER BY +e.seq, not e.seq: given a plain column, SQLite reads the account's (account_id, seq)
# index in order rather than sort the visit's few rows, walking every event of the account
# (docs/benchmarks.md, "Monitoring reports and targeting").
_FOR_VISIT = Sql(
    f"SELECT {_SELECT_EVENT} FROM sde_events e WHERE e.account_id = :account_id"
    " AND e.visitor_id = :visitor_id AND e.session_id = :session_id ORDER BY +e.seq"
)


def for_visit(conn: Connection, account_id: str, visitor_id: str, session_id: str) -> list[Entry]:
    """Every event reported in one monitor session, in log order."""
    params = {"account_id": account_id, "visitor_id": visitor_id, "session_id": session_id}
    return [_stored(r).entry for r in rows(conn, _FOR_VISIT, params)]
