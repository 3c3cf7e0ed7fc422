"""A monitoring call as the database writer runs it: the Monitoring API's engagement and report
methods and the Engagement Attributes API each become one :class:`Call`, and
:func:`visit_write` (or :func:`visit_write_body`, which decodes the body there) continues or
starts the visit and records its page, SDEs, goals and offers in one transaction, so they commit
or fail together. The rules it applies are those of :mod:`sdehub.monitoring`.

Everything here runs in the writer (its own process on SQLite): module-level functions whose
arguments and results cross as msgpack.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import msgspec
from sqlalchemy.engine import Connection

from sdehub import campaigns, targeting
from sdehub.bodies import decode_json
from sdehub.errors import BadRequest, NotFound
from sdehub.ingest import record
from sdehub.model.monitoring import (
    BAD_DATA,
    BAD_SESSION,
    BAD_VISITOR,
    EngagementDetail,
    Reported,
    decode_events,
    decode_report,
    typed_events,
    typed_report,
)
from sdehub.model.provenance import Entry, Source
from sdehub.model.types import (
    ImpressionAccept,
    ImpressionClose,
    ImpressionDisplay,
    ImpressionExpanded,
    ImpressionTimeout,
)
from sdehub.model.validation import FieldError
from sdehub.store import conversations as conv_store
from sdehub.store import visits as store
from sdehub.store.events import Origin
from sdehub.store.visits import Offer, Visit
from sdehub.targeting import Decision

Kind = Literal["engagement", "report", "events"]
_IMPRESSIONS = (
    ImpressionDisplay,
    ImpressionAccept,
    ImpressionExpanded,
    ImpressionTimeout,
    ImpressionClose,
)


class Call(msgspec.Struct, kw_only=True, frozen=True):
    """One monitoring call, as the writer needs it (ids for a new visit chosen beforehand)."""

    kind: Kind
    account_id: str
    app_id: str
    visitor_id: str | None
    session_id: str | None
    new_visitor_id: str
    new_session_id: str
    new_page_id: str
    reported: Reported
    now_ms: int
    lifetime_ms: int
    window_ms: int
    ip_address: str | None = None
    source: Source = "monitoring"
    actor: str | None = None


class Outcome(msgspec.Struct, kw_only=True, frozen=True):
    created: bool
    visitor_id: str
    session_id: str
    page_id: str
    engagements: list[EngagementDetail] = []
    """For engagement: the open conversation of the visit, or what targeting offers."""
    goals: int = 0
    """Goals reached by this call (duplicates included)."""


def visit_write(conn: Connection, call: Call) -> Outcome:
    """Continue or start the visit, record its page and SDEs: one transaction."""
    reported = call.reported
    identities = [msgspec.structs.asdict(i) for i in reported.identities] or None
    props = reported.client_properties
    client_properties = msgspec.to_builtins(props) if props is not None else None
    # A live visit is continued by touching it: the UPDATE that records the activity says
    # whether there was one (not expired by now), so the visit is not read first. Should the
    # call fail later (an impression without its engagement), its savepoint undoes the touch.
    created = not (
        call.visitor_id is not None
        and call.session_id is not None
        and store.touch_visit(
            conn,
            call.account_id,
            call.visitor_id,
            call.session_id,
            last_ms=call.now_ms,
            consumer_id=reported.subject,
            identities=identities,
            client_properties=client_properties,
            ip_address=call.ip_address,
            live_at=call.now_ms,
        )
    )
    if not created:
        assert call.visitor_id is not None and call.session_id is not None
        vid, sid = call.visitor_id, call.session_id
    elif call.kind == "events":
        raise _no_visit(conn, call)
    else:
        known = call.visitor_id is not None and store.visitor_exists(
            conn, call.account_id, call.visitor_id
        )
        # The identity facts of the call go in with the new visit (what touching it would do).
        visit = Visit(
            account_id=call.account_id,
            visitor_id=call.visitor_id if known and call.visitor_id else call.new_visitor_id,
            session_id=call.new_session_id,
            app_id=call.app_id,
            created_ms=call.now_ms,
            last_ms=call.now_ms,
            expires_ms=call.now_ms + call.lifetime_ms,
            returning_visitor=known,
            consumer_id=reported.subject,
            identities=identities,
            client_properties=client_properties,
            ip_address=call.ip_address,
        )
        store.start_visit(conn, visit)
        vid, sid = visit.visitor_id, visit.session_id
    _check_impressions(conn, call.account_id, vid, sid, reported)
    page_id = call.new_page_id
    new_page = False
    if call.kind != "events":
        page_id = reported.page_id or call.new_page_id
        new_page = store.put_page(
            conn, call.account_id, vid, sid, page_id, reported.entry_points, call.now_ms
        )
    entries: list[Entry] = []
    if reported.sdes:
        origin = Origin(
            source=call.source,
            authenticated=False,
            actor=call.actor or call.app_id,
            visitor_id=vid,
            session_id=sid,
        )
        entries = record(
            conn,
            call.account_id,
            reported.sdes,
            origin,
            now_ms=call.now_ms,
            window_ms=call.window_ms,
        )
    engagements: list[EngagementDetail] = []
    if call.kind == "engagement":
        conversation = open_conversation(conn, call.account_id, vid, sid)
        if conversation is not None:
            engagements.append(conversation)
    compiled = campaigns.current(conn, call.account_id)
    goals = 0
    targeted = call.kind == "engagement" and not engagements
    # Reading the whole visit costs in proportion to its length: only when something can come
    # of it (targeting, or what was reported can reach a goal of the catalog).
    if compiled is not None and (targeted or compiled.may_reach(entries, new_page)):
        model = campaigns.visit_model(conn, call.account_id, vid, sid)
        goals = len(
            campaigns.record_goals(
                conn, call.account_id, model, compiled, entries,
                now_ms=call.now_ms, source=call.source,
            )
        )  # fmt: skip
        if targeted:
            decision = targeting.decide(model, compiled.targeting, call.now_ms)
            if decision is not None:
                offer = offer_write(
                    conn, call.account_id, vid, sid, _offer(decision, page_id, call)
                )
                engagements.append(detail(offer))
    return Outcome(
        created=created,
        visitor_id=vid,
        session_id=sid,
        page_id=page_id,
        engagements=engagements,
        goals=goals,
    )


class Undecodable(BadRequest):
    """The body of a report or events call failed validation (in the writer, which decodes it):
    the API keeps it in quarantine as the caller's rejected body."""


def decode_body(kind: Kind, body: bytes) -> tuple[Reported | None, list[FieldError]]:
    """A report or events body, as the API would have decoded it: the typed call, or every
    error. Canonical bodies take one msgspec pass, anything else the validator."""
    typed = typed_report(body) if kind == "report" else typed_events(body)
    if typed is not None:
        return typed, []
    try:
        return (decode_report if kind == "report" else decode_events)(decode_json(body))
    except BadRequest as exc:
        return None, exc.errors


_calls: Final = msgspec.msgpack.Decoder(Call)


def visit_write_body(conn: Connection, packed: bytes, body: bytes) -> bytes:
    """:func:`visit_write` for a report or events call whose body travels as it arrived:
    decoding it here, in the writer, costs the HTTP process less than decoding it there and
    sending the typed records across, and so does the call as msgpack (``packed``) rather than
    pickled. ``call.ip_address`` is the client's address, which the body's
    clientProperties.ipAddress overrides. The outcome comes back as msgpack too."""
    call = _calls.decode(packed)
    reported, errors = decode_body(call.kind, body)
    if reported is None:
        raise Undecodable.from_errors(errors, lp_code=BAD_DATA)
    if call.kind == "report" and call.visitor_id is None and reported.subject is None:
        error = FieldError(
            "$query.vid",
            "a report needs an identification: the vid query parameter, consumerId or "
            "identities[].sub",
        )
        raise Undecodable.from_errors([error], lp_code=BAD_DATA)
    props = reported.client_properties
    ip = props.ipAddress if props is not None and props.ipAddress else call.ip_address
    outcome = visit_write(conn, msgspec.structs.replace(call, reported=reported, ip_address=ip))
    return msgspec.msgpack.encode(outcome)


def _offer(decision: Decision, page_id: str, call: Call) -> Offer:
    return Offer(
        context_id="",
        campaign_id=str(decision.campaignId),
        engagement_id=str(decision.engagementId),
        revision=decision.engagementRevision,
        page_id=page_id,
        offered_ms=call.now_ms,
        details={
            "skillId": decision.skillId,
            "connectorId": decision.connectorId,
            "windowId": decision.windowId,
            "language": decision.language,
            "goalId": decision.goalId,
        },
    )


def _no_visit(conn: Connection, call: Call) -> NotFound:
    assert call.visitor_id is not None
    if not store.visitor_exists(conn, call.account_id, call.visitor_id):
        return NotFound(f"visitor {call.visitor_id!r} is unknown", lp_code=BAD_VISITOR)
    return NotFound(
        f"session {call.session_id!r} of visitor {call.visitor_id!r} is unknown or has expired",
        lp_code=BAD_SESSION,
    )


def _check_impressions(
    conn: Connection, account_id: str, visitor_id: str, session_id: str, reported: Reported
) -> None:
    """Impressions must name an engagement offered in this visit (and, when they carry one,
    its engagement context)."""
    impressions = [(i, r) for i, r in enumerate(reported.sdes) if isinstance(r, _IMPRESSIONS)]
    if not impressions:
        return
    offered = store.offers(conn, account_id, visitor_id, session_id)
    errors = []
    for i, imp in impressions:
        contexts = {o.context_id for o in offered if o.engagement_id == str(imp.engId)}
        if not contexts:
            errors.append(
                FieldError(
                    f"$.engagementAttributes[{i}].engId",
                    f"engagement {imp.engId} was not offered in this session; an impression "
                    "needs the engagement context that the engagement method returned",
                )
            )
            continue
        given = getattr(imp, "eContext", None) or []
        for j, ctx in enumerate(given):
            if ctx.id not in contexts:
                errors.append(
                    FieldError(
                        f"$.engagementAttributes[{i}].eContext[{j}].id",
                        f"context {ctx.id!r} is not a context of engagement {imp.engId} in "
                        f"this session (known: {', '.join(sorted(contexts))})",
                    )
                )
    if errors:
        raise BadRequest.from_errors(errors, lp_code=BAD_DATA)


def open_conversation(
    conn: Connection, account_id: str, visitor_id: str, session_id: str
) -> EngagementDetail | None:
    conv = conv_store.open_conversation_of_visit(conn, account_id, visitor_id, session_id)
    if conv is None:
        return None
    context = conv.context or {}
    return EngagementDetail(
        campaignId=_number(conv.campaign_id),
        engagementId=_number(conv.engagement_id),
        engagementRevision=0,
        contextId=str(context.get("interactionContextId") or ""),
        status="conversation",
        conversationId=conv.conversation_id,
    )


def _number(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def offer_write(
    conn: Connection, account_id: str, visitor_id: str, session_id: str, offer: Offer
) -> Offer:
    """Record an engagement offered in a visit under the visit's next context id; the same
    engagement offered again in the same visit keeps its context."""
    for existing in store.offers(conn, account_id, visitor_id, session_id):
        if existing.engagement_id == offer.engagement_id and existing.revision == offer.revision:
            return existing
    context_id = store.next_context_id(conn, account_id, visitor_id, session_id)
    offer = msgspec.structs.replace(offer, context_id=context_id)
    store.add_offer(conn, account_id, visitor_id, session_id, offer)
    return offer


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def detail(offer: Offer) -> EngagementDetail:
    d = offer.details
    return EngagementDetail(
        campaignId=_number(offer.campaign_id),
        engagementId=_number(offer.engagement_id),
        engagementRevision=offer.revision,
        contextId=offer.context_id,
        status="expose",
        connectorId=_int_or_none(d.get("connectorId")),
        windowId=_int_or_none(d.get("windowId")),
        language=d.get("language"),
        skillId=_int_or_none(d.get("skillId")),
    )
