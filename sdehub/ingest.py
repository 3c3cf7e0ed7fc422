"""Recording reported SDEs, whatever API they arrived on, and keeping what was rejected.

:func:`record` runs inside a write transaction: it appends the events with their provenance,
updates the current state of every scope they touch (the visit, the consumer), and attributes them
to every conversation they belong to under the messaging rules (the consumer's or the visit's
conversation that is open, or closed less than the attribution window ago).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.engine import Connection

from sdehub.clock import Clock
from sdehub.model.provenance import Entry
from sdehub.model.types import Event
from sdehub.model.validation import FieldError
from sdehub.store import Database, events
from sdehub.store import conversations as conv_store
from sdehub.store import history as history_store
from sdehub.store import quarantine as quarantine_store
from sdehub.store.events import Origin

HOUR_MS = 3_600_000


def record(
    conn: Connection,
    account_id: str,
    records: Sequence[Event],
    origin: Origin,
    *,
    now_ms: int,
    window_ms: int,
    original_ms: Sequence[int | None] | None = None,
) -> list[Entry]:
    """Append, update state, attribute. Returns the stored entries."""
    entries = events.append(
        conn, account_id, records, origin, server_ms=now_ms, original_ms=original_ms
    )
    if not entries:
        return entries
    if origin.consumer_id is not None:
        events.update_state(conn, account_id, "consumer", origin.consumer_id, entries)
    if origin.visitor_id is not None and origin.session_id is not None:
        scope = events.session_scope(origin.visitor_id, origin.session_id)
        events.update_state(conn, account_id, "session", scope, entries)
    targets = set(
        conv_store.attributable(
            conn,
            account_id,
            consumer_id=origin.consumer_id,
            visitor_id=origin.visitor_id,
            session_id=origin.session_id,
            closed_since_ms=now_ms - window_ms,
        )
    )
    if origin.conversation_id is not None:
        targets.add(origin.conversation_id)
    seqs = [e.meta.seq for e in entries]
    for conversation_id in sorted(targets):
        events.attribute(conn, account_id, conversation_id, seqs)
    if targets:
        # sdeSearch finds conversations: an SDE becomes searchable when it belongs to one, in
        # the transaction that acknowledges it (a visit's SDEs without a conversation are
        # indexed when one attributes them, see sdehub.messaging).
        history_store.index_terms(conn, account_id, sorted(targets), entries)
    return entries


class Quarantine:
    """Keeps rejected payloads. Awaiting :meth:`keep` means the payload is durably stored."""

    def __init__(
        self, db: Database, clock: Clock, on_keep: Callable[[str], None] | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._on_keep = on_keep

    async def keep(
        self,
        account_id: str,
        *,
        api: str,
        status: int,
        body: bytes,
        errors: Sequence[FieldError],
        actor: str | None = None,
        request_id: str | None = None,
        content_type: str | None = None,
    ) -> int:
        item = quarantine_store.Quarantined(
            account_id=account_id,
            received_ms=self._clock.now_ms(),
            api=api,
            status=status,
            body=body,
            errors=[{"path": e.path, "message": e.message} for e in errors],
            actor=actor,
            request_id=request_id,
            content_type=content_type,
        )
        item_id = await self._db.write(quarantine_store.add, item)
        if self._on_keep is not None:
            self._on_keep(api)
        return item_id
