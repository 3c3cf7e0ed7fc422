"""The ``smt`` service: Monitoring API (engagement, report), Engagement Attributes API (visit
events) and Visit Information API (visit state).

Every error is the Monitoring API's ``{"time", "message", "internalCode"}``. The Monitoring API
authenticates by account id and app installation id alone (404/18 for an unknown installation);
the EA and Visit Information APIs take an AppJWT (raw or ``Bearer``) or an agent bearer.
A body that fails validation is answered 400/5 with every error and kept in quarantine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.accounts import UnknownAccount, UnknownApp
from sdehub.api.common import require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded, query_flag
from sdehub.bodies import decode_json
from sdehub.errors import BadRequest, NotFound, SdehubError, Unauthorized
from sdehub.model.history import history_event
from sdehub.model.merge import fold
from sdehub.model.monitoring import (
    BAD_APP,
    BAD_DATA,
    BAD_SESSION,
    BAD_VERSION,
    BAD_VISITOR,
    NO_ACCOUNT,
    NOTHING,
    UNAUTHORIZED,
    EngagementBody,
    MonitoringError,
    ReportBody,
    Reported,
    SessionIds,
    decode_engagement,
    decode_report,
)
from sdehub.model.naming import naming
from sdehub.model.provenance import Entry
from sdehub.model.publicmodel import sde_section
from sdehub.model.types import wire_type
from sdehub.model.validation import FieldError
from sdehub.monitorcall import Call, Kind, Outcome, Undecodable, detail
from sdehub.monitoring import VisitView, well_formed
from sdehub.services import Services

_DEFAULT_CODES = {400: BAD_DATA, 401: UNAUTHORIZED, 404: BAD_APP, 422: NO_ACCOUNT}
Decoder = Callable[[Any], tuple[Reported | None, list[FieldError]]]
_OVERRIDE = "POST with the header X-HTTP-Method-Override: PUT, as some clients send it."
VERSIONS = {"monitoring": (1.0, 1.1), "visit": (1.0,)}


class UnprocessableAccount(SdehubError):
    status = 422
    title = "Unprocessable Entity"


class VisitPage(msgspec.Struct, kw_only=True):
    pageId: str
    entryPoints: list[str]
    firstTime: int
    lastTime: int


class VisitState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The Visit Information API's answer: the visit, its pages, the engagements offered,
    every SDE reported in it (history event form, oldest first) and their current values."""

    visitorId: str
    sessionId: str
    startTime: int
    lastActivityTime: int
    expirationTime: int
    returningVisitor: bool
    appInstallationId: str
    consumerId: str | None = None
    identities: list[dict[str, Any]] | None = None
    clientProperties: dict[str, Any] | None = None
    ipAddress: str | None = None
    pages: list[VisitPage]
    engagements: list[dict[str, Any]]
    conversationId: str | None = None
    engagementAttributes: list[dict[str, Any]]
    current: dict[str, Any]
    impressions: list[dict[str, Any]] | None = None
    """Impression events of the visit's offers (wire form plus ``serverTimeStamp``), oldest
    first. They have no Messaging Interactions form, so they are not engagementAttributes."""


class MonitoringApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def render(self, exc: SdehubError, request: Request) -> Response:
        code = exc.lp_code if exc.lp_code is not None else _DEFAULT_CODES.get(exc.status, 18)
        body = MonitoringError(time=self.svc.clock.now_ms(), message=exc.message, internalCode=code)
        return JSON(body, status_code=exc.status)

    # -- checks shared by the endpoints ---------------------------------------------------

    def _version(self, request: Request, allowed: tuple[float, ...]) -> None:
        raw = request.query_params.get("v")
        try:
            ok = raw is not None and float(raw) in allowed
        except ValueError:
            ok = False
        if not ok:
            expected = " or ".join(f"{v:.1f}" for v in allowed)
            raise BadRequest(
                f"Illegal API version {raw!r}: the query parameter v must be {expected}",
                errors=[FieldError("$query.v", f"expected {expected}")],
                lp_code=BAD_VERSION,
            )

    def _ids(self, request: Request) -> tuple[str | None, str | None]:
        vid = request.query_params.get("vid") or None
        sid = request.query_params.get("sid") or None
        if vid is not None and not well_formed(vid):
            raise NotFound(f"invalid visitorId {vid!r}", lp_code=BAD_VISITOR)
        if sid is not None and not well_formed(sid):
            raise NotFound(f"invalid sessionId {sid!r}", lp_code=BAD_SESSION)
        return vid, sid

    async def _app(self, request: Request) -> tuple[str, str]:
        account_id = request.path_params["accountId"]
        app_id = request.path_params["appInstallationId"]
        try:
            await self.svc.accounts.installation(account_id, app_id)
        except (UnknownAccount, UnknownApp) as exc:
            raise NotFound(exc.message, lp_code=BAD_APP) from None
        return account_id, app_id

    async def _decoded(
        self,
        request: Request,
        account_id: str,
        api: str,
        decode: Decoder,
        actor: str | None,
        *,
        empty_ok: bool = False,
    ) -> Reported:
        body = await request.body()
        try:
            raw = decode_json(body) if body.strip() or not empty_ok else None
            reported, errors = decode(raw)
        except BadRequest as exc:
            reported, errors = None, exc.errors
        if reported is None:
            await self._reject(request, account_id, api, body, errors, actor)
        assert reported is not None
        return reported

    async def _reject(
        self,
        request: Request,
        account_id: str,
        api: str,
        body: bytes,
        errors: list[FieldError],
        actor: str | None,
    ) -> None:
        await self.svc.quarantine.keep(
            account_id,
            api=api,
            status=400,
            body=body,
            errors=errors,
            actor=actor,
            request_id=request.scope.get("state", {}).get("request_id"),
            content_type=request.headers.get("content-type"),
        )
        raise BadRequest.from_errors(errors, lp_code=BAD_DATA)

    def _ip(self, request: Request, reported: Reported) -> str | None:
        props = reported.client_properties
        if props is not None and props.ipAddress:
            return props.ipAddress
        # obh ("on behalf"): a server calls for the visitor; its own address is not the visitor's.
        if query_flag(request, "obh") or request.client is None:
            return None
        return request.client.host

    async def _visit_call(self, request: Request, kind: Kind) -> tuple[Any, ...]:
        self._version(request, VERSIONS["monitoring"])
        account_id, app_id = await self._app(request)
        vid, sid = self._ids(request)
        decode = decode_engagement if kind == "engagement" else decode_report
        api = f"monitoring.{kind}"
        reported = await self._decoded(
            request, account_id, api, decode, app_id, empty_ok=kind == "engagement"
        )
        if kind == "report" and vid is None and reported.subject is None:
            error = FieldError(
                "$query.vid",
                "a report needs an identification: the vid query parameter, consumerId or "
                "identities[].sub",
            )
            await self._reject(request, account_id, api, await request.body(), [error], app_id)
        call = self.svc.monitoring.call(
            kind,
            account_id,
            app_id,
            reported,
            visitor_id=vid,
            session_id=sid,
            ip_address=self._ip(request, reported),
        )
        return call, account_id, app_id

    async def _written(self, request: Request, write: Any) -> Any:
        """Run the write; a rejection found in the writer (an impression without its
        engagement context) is kept in quarantine like any other."""
        try:
            return await write
        except BadRequest as exc:
            account_id = request.path_params["accountId"]
            actor = request.path_params.get("appInstallationId")
            kind = "monitoring.report" if "appInstallationId" in request.path_params else "eaapi"
            await self._reject(request, account_id, kind, await request.body(), exc.errors, actor)
            raise

    # -- endpoints --------------------------------------------------------------------------

    async def engagement(self, request: Request) -> Response:
        call, _, _ = await self._visit_call(request, "engagement")
        outcome = await self._written(request, self.svc.monitoring.engagement(call))
        answer = SessionIds(
            sessionId=outcome.session_id,
            visitorId=outcome.visitor_id,
            pageId=outcome.page_id,
            engagementDetails=outcome.engagements or None,
        )
        return JSON(answer, status_code=201 if outcome.created else 200)

    async def report(self, request: Request) -> Response:
        if request.method == "POST":
            override = request.headers.get("x-http-method-override", "").upper()
            if override != "PUT":
                raise BadRequest(
                    "POST to report needs the header X-HTTP-Method-Override: PUT",
                    errors=[FieldError("$header.X-HTTP-Method-Override", "expected PUT")],
                    lp_code=BAD_DATA,
                )
        self._version(request, VERSIONS["monitoring"])
        account_id, app_id = await self._app(request)
        vid, sid = self._ids(request)
        # The body goes to the writer as it arrived and is decoded there (the same checks, in
        # the same order: the envelope and its SDEs, then the identification).
        # obh ("on behalf"): a server calls for the visitor; its own address is not the visitor's.
        client = None if query_flag(request, "obh") else request.client
        call = self.svc.monitoring.call(
            "report",
            account_id,
            app_id,
            NOTHING,
            visitor_id=vid,
            session_id=sid,
            ip_address=None if client is None else client.host,
        )
        outcome = await self._written_body(request, call, "monitoring.report", app_id)
        answer = SessionIds(
            sessionId=outcome.session_id, visitorId=outcome.visitor_id, pageId=outcome.page_id
        )
        return JSON(answer, status_code=201 if outcome.created else 200)

    async def _written_body(self, request: Request, call: Call, api: str, actor: str) -> Outcome:
        """Run a report or events write with the request's body; a body the writer could not
        decode, or a rejection found while writing, is kept in quarantine."""
        body = await request.body()
        try:
            return await self.svc.monitoring.report_body(call, body)
        except Undecodable as exc:
            await self._reject(request, call.account_id, api, body, exc.errors, actor)
            raise
        except BadRequest as exc:
            writer_actor = request.path_params.get("appInstallationId")
            await self._reject(request, call.account_id, api, body, exc.errors, writer_actor)
            raise

    async def _caller(self, request: Request, account_id: str) -> str:
        """The AppJWT's client id or the agent's id behind the request."""
        try:
            await self.svc.accounts.get(account_id)
        except UnknownAccount as exc:
            raise UnprocessableAccount(exc.message, lp_code=NO_ACCOUNT) from None
        header = request.headers.get("authorization")
        if not header:
            raise Unauthorized(
                "the Authorization header is missing: send an AppJWT or an agent bearer",
                lp_code=UNAUTHORIZED,
            )
        try:
            return (await self.svc.tokens.verify_app_jwt(account_id, header)).client_id
        except Unauthorized:
            pass
        try:
            return (await require_agent(self.svc, request, account_id)).user_id
        except Unauthorized:
            raise Unauthorized(
                "the Authorization header holds neither a valid AppJWT nor a live agent bearer "
                f"for account {account_id}",
                lp_code=UNAUTHORIZED,
            ) from None

    def _visit_ids(self, request: Request) -> tuple[str, str]:
        vid = request.path_params["visitorId"]
        sid = request.query_params.get("sid")
        if not well_formed(vid):
            raise NotFound(f"invalid visitorId {vid!r}", lp_code=BAD_VISITOR)
        if not sid:
            raise BadRequest(
                "the query parameter sid (the session id) is required",
                errors=[FieldError("$query.sid", "expected the visit's session id")],
                lp_code=BAD_DATA,
            )
        if not well_formed(sid):
            raise NotFound(f"invalid sessionId {sid!r}", lp_code=BAD_SESSION)
        return vid, sid

    async def events(self, request: Request) -> Response:
        if request.method == "POST":
            if request.headers.get("x-http-method-override", "").upper() != "PUT":
                raise BadRequest(
                    "POST to visit events needs the header x-http-method-override: PUT",
                    errors=[FieldError("$header.x-http-method-override", "expected PUT")],
                    lp_code=BAD_DATA,
                )
        account_id = request.path_params["accountId"]
        self._version(request, VERSIONS["visit"])
        actor = await self._caller(request, account_id)
        vid, sid = self._visit_ids(request)
        call = self.svc.monitoring.call(
            "events",
            account_id,
            actor,
            NOTHING,
            visitor_id=vid,
            session_id=sid,
            source="eaapi",
            actor=actor,
        )
        await self._written_body(request, call, "eaapi", actor)
        return Response(status_code=200)

    async def state(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        self._version(request, VERSIONS["visit"])
        await self._caller(request, account_id)
        vid, sid = self._visit_ids(request)
        view = await self.svc.monitoring.live_view(account_id, vid, sid)
        return JSON(visit_state(view))

    def operations(self) -> list[Operation]:
        g = guarded(self.render)
        base = "/api/account/{accountId}/app/{appInstallationId}"
        visit = "/api/account/{accountId}/monitoring/visitors/{visitorId}/visits/current"
        err = MonitoringError
        ids = (
            Param("v", str, True, "API version: 1.0 or 1.1."),
            Param("vid", str, False, "Visitor id (from an earlier answer)."),
            Param("sid", str, False, "Session id (from an earlier answer)."),
            Param("obh", bool, False, "On behalf: do not take the visitor's IP from the call."),
        )
        visit_params = (
            Param("v", str, True, "API version: 1."),
            Param("sid", str, True, "The visit's session id."),
        )
        report_responses = {
            200: Resp("The visit continues.", SessionIds),
            201: Resp("A new visit was started; its ids are in the body.", SessionIds),
            400: Resp("Illegal version (33) or invalid data (5).", err),
            404: Resp("Invalid visitor (37), session (39) or app installation (18).", err),
        }
        events_responses = {
            200: Resp("Stored (empty body).", None),
            400: Resp("Invalid body or query (5, 33).", err),
            401: Resp("No valid AppJWT or agent bearer (10).", err),
            404: Resp("Unknown visitor (37) or session (39).", err),
            422: Resp("Unknown account (6).", err),
        }
        report_put = Operation(
            "PUT",
            f"{base}/report",
            g(self.report),
            "Report SDEs (and impressions) for a visit",
            "monitoring",
            report_responses,
            params=ids,
            body=ReportBody,
            fast=True,
        )
        events_put = Operation(
            "PUT",
            f"{visit}/events",
            g(self.events),
            "Add SDEs to a visit (Engagement Attributes API)",
            "monitoring",
            events_responses,
            params=visit_params,
            body=list[dict[str, Any]],
            security=("appJwt", "agentBearer"),
            fast=True,
        )
        return [
            Operation(
                "POST",
                f"{base}/engagement",
                g(self.engagement),
                "Ask for an engagement for a visit, reporting SDEs",
                "monitoring",
                report_responses,
                params=ids,
                body=EngagementBody,
                body_required=False,
            ),
            report_put,
            replace(report_put, method="POST", description=_OVERRIDE, name="report POST"),
            events_put,
            replace(events_put, method="POST", description=_OVERRIDE, name="events POST"),
            Operation(
                "GET",
                f"{visit}/state",
                g(self.state),
                "A visit's state and SDEs (Visit Information API)",
                "monitoring",
                {
                    200: Resp("The visit.", VisitState),
                    400: Resp("Bad query (5, 33).", err),
                    401: Resp("No valid AppJWT or agent bearer (10).", err),
                    404: Resp("Unknown visitor (37), session (39), or ended (12).", err),
                    422: Resp("Unknown account (6).", err),
                },
                params=(*visit_params, Param("filter", str, False, "Accepted, ignored.")),
                security=("appJwt", "agentBearer"),
            ),
        ]


def visit_state(view: VisitView) -> VisitState:
    v = view.visit
    entries = view.entries
    return VisitState(
        visitorId=v.visitor_id,
        sessionId=v.session_id,
        startTime=v.created_ms,
        lastActivityTime=v.last_ms,
        expirationTime=v.expires_ms,
        returningVisitor=v.returning_visitor,
        appInstallationId=v.app_id,
        consumerId=v.consumer_id,
        identities=v.identities,
        clientProperties=v.client_properties,
        ipAddress=v.ip_address,
        pages=[
            VisitPage(
                pageId=p.page_id,
                entryPoints=p.entry_points,
                firstTime=p.first_ms,
                lastTime=p.last_ms,
            )
            for p in view.pages
        ],
        engagements=[msgspec.to_builtins(detail(o)) for o in view.offers],
        conversationId=view.conversation.conversationId if view.conversation else None,
        engagementAttributes=[history_event(e) for e in entries if not _impression(e)],
        current=msgspec.to_builtins(sde_section(fold(entries, "chat"))),
        impressions=[
            {**msgspec.to_builtins(e.record), "serverTimeStamp": str(e.meta.serverTs)}
            for e in entries
            if _impression(e)
        ]
        or None,
    )


def _impression(entry: Entry) -> bool:
    return naming(wire_type(entry.record)).category == "Impression"
