"""Connector API (Send API): CONVERSATION and SEND, as the asyncMessagingEnt service answers them.

Headers: ``Authorization`` (the AppJWT, raw or ``Bearer``), ``X-LP-ON-BEHALF`` (the ConsumerJWS),
optional ``Client-Properties`` (a JSON string). Replies use the documented envelopes and echo each
request id exactly as sent (``"1,"`` stays ``"1,"``, a number stays a number).

Errors use the Send API's ``.ReqBody$ErrorResp`` envelope. The 401 codes are LivePerson's (40001,
40102-40105); for 400 and 429, which LivePerson documents without a body, the code is the status
followed by ``00`` (40000, 42900), keeping its rule that a code starts with its HTTP status. A 400
lists every problem with its JSON path, and the rejected payload is kept in quarantine.
"""

from __future__ import annotations

import time

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.accounts import UnknownAccount
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.envelopes import decode_single
from sdehub.errors import BadRequest, SdehubError, TooManyRequests, Unauthorized
from sdehub.messaging import Caller
from sdehub.model.messaging import (
    Envelope,
    ErrorBody,
    ErrorReply,
    Reply,
    SendReply,
    UserProfile,
)
from sdehub.model.validation import (
    FieldError,
    nul_errors,
)
from sdehub.services import Services
from sdehub.tokens import INVALID_APP_JWT


def render_send_api(exc: SdehubError, request: Request) -> Response:
    code = exc.lp_code or exc.status * 100
    errors = [{"path": e.path, "message": e.message} for e in exc.errors] or None
    body = ErrorReply(
        code=exc.status,
        body=ErrorBody(title=exc.title, details=exc.message, errorCode=code, errors=errors),
    )
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return JSON(body, status_code=exc.status, headers=headers)


class Connector:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _caller(self, request: Request) -> Caller:
        account_id = request.path_params["accountId"]
        try:
            await self.svc.accounts.get(account_id)
        except UnknownAccount as exc:
            raise Unauthorized(
                exc.message, lp_code=INVALID_APP_JWT, title="Invalid AppJWT"
            ) from None
        headers = request.headers
        app = await self.svc.tokens.verify_app_jwt(account_id, headers.get("authorization"))
        consumer = await self.svc.tokens.verify_consumer(account_id, headers.get("x-lp-on-behalf"))
        installation = await self.svc.accounts.app(account_id, app.client_id)
        self.svc.limiter.hit(
            f"{account_id}:{app.client_id}", installation.rate_limit if installation else None
        )
        props = None
        raw_props = headers.get("client-properties")
        if raw_props:
            try:
                props = msgspec.json.decode(raw_props)
            except msgspec.DecodeError:
                props = None
            if not isinstance(props, dict) or nul_errors(props):
                raise BadRequest.from_errors(
                    [FieldError("$headers.Client-Properties", "expected a JSON object in a string")]
                )
        return Caller(
            account_id=account_id,
            client_id=app.client_id,
            consumer=consumer,
            request_id=request.scope.get("state", {}).get("request_id"),
            client_properties=props,
        )

    async def _keep(
        self, request: Request, caller: Caller, api: str, body: bytes, exc: BadRequest
    ) -> None:
        await self.svc.quarantine.keep(
            caller.account_id,
            api=api,
            status=400,
            body=body,
            errors=exc.errors,
            actor=caller.client_id,
            request_id=caller.request_id,
            content_type=request.headers.get("content-type"),
        )

    async def conversation(self, request: Request) -> Response:
        started = time.perf_counter()
        caller = await self._caller(request)
        body = await request.body()
        try:
            reply = await self.svc.messaging.conversation_json(caller, body)
        except BadRequest as exc:
            await self._keep(request, caller, "connector.conversation", body, exc)
            raise
        self.svc.metrics.ingest.labels(api="connector").observe(time.perf_counter() - started)
        return Response(reply, media_type="application/json")

    async def send(self, request: Request) -> Response:
        started = time.perf_counter()
        caller = await self._caller(request)
        body = await request.body()
        try:
            item = decode_single(body)
            reply = await self.svc.messaging.send_json(caller, body)
        except BadRequest as exc:
            await self._keep(request, caller, "connector.send", body, exc)
            raise
        if isinstance(item.body, UserProfile):
            self.svc.metrics.ingest.labels(api="connector").observe(time.perf_counter() - started)
        return Response(reply, media_type="application/json")

    def operations(self) -> list[Operation]:
        g = guarded(render_send_api)
        headers = (
            Param("v", str, True, "3"),
            Param("Authorization", str, True, "The AppJWT, raw or as 'Bearer <token>'.", "header"),
            Param(
                "X-LP-ON-BEHALF", str, True, "The ConsumerJWS (or an IdP consumer token).", "header"
            ),
            Param("Client-Properties", str, False, "Client properties as a JSON string.", "header"),
        )
        errors = {
            400: Resp("Invalid input: every problem with its JSON path.", ErrorReply),
            401: Resp(
                "Missing, expired, forged or other-account AppJWT or ConsumerJWS.", ErrorReply
            ),
            429: Resp(
                "The app installation exceeded its rate; see Retry-After.",
                ErrorReply,
                headers=("Retry-After",),
            ),
        }
        return [
            Operation(
                "POST",
                "/api/account/{accountId}/messaging/consumer/conversation",
                g(self.conversation),
                "CONVERSATION: set the profile, open a conversation",
                "connector",
                {200: Resp("One reply per request, in order.", list[Reply]), **errors},
                params=headers,
                body=list[Envelope],
                fast=True,
            ),
            Operation(
                "POST",
                "/api/account/{accountId}/messaging/consumer/conversation/send",
                g(self.send),
                "SEND: publish a message, update a field, set the profile",
                "connector",
                {200: Resp("The reply (sequence for published events).", SendReply), **errors},
                params=headers,
                body=Envelope,
                fast=True,
            ),
        ]
