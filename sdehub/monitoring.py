"""Monitor sessions ("visits"): the Monitoring API's engagement and report methods, the
Engagement Attributes API and the Visit Information API all land here.

A visit is the pair (visitorId, sessionId). The rules, from LivePerson's Monitoring API
documentation, and where it is silent, ours:

* A call whose pair names a live visit continues it (200). A missing, unknown or expired pair
  starts a new visit (201): for the same visitor when ``vid`` is known, else for a new visitor.
* An id that could never have been issued (empty, too long, characters outside
  ``[A-Za-z0-9._:-]``) is an error: 404 with internalCode 37 (visitor) or 39 (session).
* A visit lasts at most ``monitoring_session_hours`` (6) from its start, then it is gone: the
  Visit Information API answers 404/12 for it, engagement and report start a new one.
* Report needs an identification: ``vid``, ``consumerId`` or an ``identities[].sub`` (400/5).
* An impression event must name an engagement offered in the same visit (its engagement
  context); otherwise the whole report is rejected (400/5) and kept in quarantine.
* The SDEs are stored unauthenticated, in the visit's scope (chat merge rules) and attributed to
  the visit's conversations under the messaging window.

Writes run in the database writer (:mod:`sdehub.monitorcall`), so a visit's creation, its page,
its SDEs and the impression checks commit or fail together; this module is the service over them
and the visit as read back.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Final

import msgspec
from sqlalchemy.engine import Connection

from sdehub.channels import Changes
from sdehub.clock import Clock
from sdehub.errors import NotFound
from sdehub.model.monitoring import (
    BAD_SESSION,
    BAD_VISITOR,
    SESSION_GONE,
    EngagementDetail,
    Reported,
)
from sdehub.model.provenance import Entry, Source
from sdehub.monitorcall import Call, Kind, Outcome, open_conversation, visit_write, visit_write_body
from sdehub.store import Database, events
from sdehub.store import visits as store
from sdehub.store.visits import Offer, Page, Visit

HOUR_MS: Final = 3_600_000
# The Monitoring API answers in msgpack from the writer (sdehub.monitorcall.visit_write_body).
_outcomes: Final = msgspec.msgpack.Decoder(Outcome)
_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def well_formed(value: str) -> bool:
    return _ID.fullmatch(value) is not None


def new_visit_id() -> str:
    return secrets.token_urlsafe(16)


def new_page_id() -> str:
    # LivePerson's page ids are ten-digit numbers (e.g. "1674628973").
    return str(1_000_000_000 + secrets.randbelow(9_000_000_000))


@dataclass(frozen=True)
class VisitView:
    """Everything known about one visit: what targeting, goals and the state API read."""

    visit: Visit
    pages: list[Page]
    entries: list[Entry]
    offers: list[Offer]
    conversation: EngagementDetail | None


def read_view(
    conn: Connection, account_id: str, visitor_id: str, session_id: str
) -> VisitView | None:
    visit = store.get_visit(conn, account_id, visitor_id, session_id)
    if visit is None:
        return None
    return VisitView(
        visit=visit,
        pages=store.pages(conn, account_id, visitor_id, session_id),
        entries=events.for_visit(conn, account_id, visitor_id, session_id),
        offers=store.offers(conn, account_id, visitor_id, session_id),
        conversation=open_conversation(conn, account_id, visitor_id, session_id),
    )


class Monitoring:
    """Visits over the database: the operations behind the monitoring family of APIs."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        session_hours: float,
        attribution_hours: int,
        changes: Changes | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._lifetime_ms = int(session_hours * HOUR_MS)
        self._window_ms = attribution_hours * HOUR_MS
        self._changes = changes

    async def _written(self, call: Call, body: bytes | None = None) -> Outcome:
        outcome: Outcome
        if body is None:
            outcome = await self._db.write(visit_write, call)
        else:
            packed = await self._db.write(visit_write_body, msgspec.msgpack.encode(call), body)
            outcome = _outcomes.decode(packed)
        # SDEs of a visit belong to the visit's conversations (sdehub.ingest): announced by
        # visit; a new visit has none yet.
        if self._changes is not None and not outcome.created:
            await self._changes.visit(call.account_id, outcome.visitor_id, outcome.session_id)
        return outcome

    def call(
        self,
        kind: Kind,
        account_id: str,
        app_id: str,
        reported: Reported,
        *,
        visitor_id: str | None,
        session_id: str | None,
        ip_address: str | None = None,
        source: Source = "monitoring",
        actor: str | None = None,
    ) -> Call:
        return Call(
            kind=kind,
            account_id=account_id,
            app_id=app_id,
            visitor_id=visitor_id,
            session_id=session_id,
            new_visitor_id=new_visit_id(),
            new_session_id=new_visit_id(),
            new_page_id=new_page_id(),
            reported=reported,
            now_ms=self._clock.now_ms(),
            lifetime_ms=self._lifetime_ms,
            window_ms=self._window_ms,
            ip_address=ip_address,
            source=source,
            actor=actor,
        )

    async def report(self, call: Call) -> Outcome:
        return await self._written(call)

    async def report_body(self, call: Call, body: bytes) -> Outcome:
        """A report or events call with its body as it arrived (see :func:`visit_write_body`);
        raises :class:`Undecodable` for a body that fails validation."""
        return await self._written(call, body)

    async def engagement(self, call: Call) -> Outcome:
        """Record the call; the outcome carries the open conversation of the visit, or the
        engagement targeting offers (decided in the same write)."""
        return await self._written(call)

    async def view(self, account_id: str, visitor_id: str, session_id: str) -> VisitView | None:
        return await self._db.read(lambda c: read_view(c, account_id, visitor_id, session_id))

    async def live_view(self, account_id: str, visitor_id: str, session_id: str) -> VisitView:
        """The visit for the Visit Information API: 404/37, 404/39 or 404/12 when there is
        none to show."""
        view = await self.view(account_id, visitor_id, session_id)
        if view is None:
            known = await self._db.read(lambda c: store.visitor_exists(c, account_id, visitor_id))
            if not known:
                raise NotFound(f"visitor {visitor_id!r} is unknown", lp_code=BAD_VISITOR)
            raise NotFound(
                f"session {session_id!r} of visitor {visitor_id!r} is unknown",
                lp_code=BAD_SESSION,
            )
        if view.visit.expires_ms <= self._clock.now_ms():
            raise NotFound(
                f"session {session_id!r} ended at {view.visit.expires_ms} (sessions last at "
                f"most {self._lifetime_ms // HOUR_MS} h)",
                lp_code=SESSION_GONE,
            )
        return view
