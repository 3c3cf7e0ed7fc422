"""IdP: consumer identities for connectors.

* ``POST /api/account/{id}/consumer`` (``?v=1.0`` optional) with the raw AppJWT: a ConsumerJWS
  for the brand's own consumer id (201 ``{"token"}``).
* ``POST /api/account/{id}/authenticate`` ``{"authCode": <id_token>}`` and
  ``POST /api/account/{id}/app/{connectorId}/authenticate`` ``{"id_token": ...}``: a brand id_token,
  verified against the account's registered identity-provider keys, becomes an authenticated
  consumer (acr ``loa1``). Its claims show in the public model's ``claimsAndAuthType`` and its SDEs
  (standard claims and ``lp_sdes``) are recorded as authenticated. The token returned can be
  used as ``X-LP-ON-BEHALF`` on the Connector API.

Errors use the IdP's body, ``{"internalErrorCode": ..., "message": ...}``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response

from sdehub.accounts import UnknownAccount
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.bodies import decode_json
from sdehub.errors import BadRequest, SdehubError, Unauthorized
from sdehub.identity import INPUT_VALIDATION_ERROR
from sdehub.model.validation import validate
from sdehub.services import Services

JWT_NOT_VALID = 1008
SERVER_ERROR = 9001
CONSUMER_TOKEN_TTL = 3600


class ConsumerRequest(msgspec.Struct):
    ext_consumer_id: Annotated[str, Meta(min_length=1, max_length=256)]


class TokenReply(msgspec.Struct):
    token: str


class JwtReply(msgspec.Struct):
    jwt: str


class AuthCode(msgspec.Struct, omit_defaults=True):
    authCode: str | None = None
    id_token: str | None = None


class IdpError(msgspec.Struct, omit_defaults=True):
    internalErrorCode: int
    message: str | None = None


def render_idp(exc: SdehubError, request: Request) -> Response:
    default = {400: INPUT_VALIDATION_ERROR, 401: JWT_NOT_VALID}.get(exc.status, SERVER_ERROR)
    return JSON(IdpError(exc.lp_code or default, exc.message), status_code=exc.status)


class Idp:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _account(self, request: Request) -> str:
        account_id = str(request.path_params["accountId"])
        try:
            await self.svc.accounts.get(account_id)
        except UnknownAccount as exc:
            raise Unauthorized(exc.message, lp_code=JWT_NOT_VALID) from None
        return account_id

    async def consumer(self, request: Request) -> Response:
        account_id = await self._account(request)
        try:
            app = await self.svc.tokens.verify_app_jwt(
                account_id, request.headers.get("authorization")
            )
        except Unauthorized as exc:
            raise Unauthorized(exc.message, lp_code=JWT_NOT_VALID) from None
        body = await request.body()
        parsed, errors = validate(decode_json(body), ConsumerRequest)
        if parsed is None:
            raise BadRequest.from_errors(errors, lp_code=INPUT_VALIDATION_ERROR)
        ext_id = parsed.ext_consumer_id
        consumer_id = await self.svc.identity.register(account_id, ext_id)
        token = await self.svc.tokens.consumer_jws(account_id, ext_id, consumer_id, app.client_id)
        return JSON(TokenReply(token), status_code=201)

    async def authenticate(self, request: Request) -> Response:
        account_id = await self._account(request)
        raw = await request.body()
        parsed, errors = validate(decode_json(raw), AuthCode)
        if parsed is None:
            raise BadRequest.from_errors(errors, lp_code=INPUT_VALIDATION_ERROR)
        id_token = parsed.authCode or parsed.id_token
        if not id_token:
            raise BadRequest(
                "authCode (or id_token) with the consumer's id_token is required",
                lp_code=INPUT_VALIDATION_ERROR,
            )
        claims = await self.svc.identity.verify(account_id, id_token)
        try:
            sdes = self.svc.identity.sdes(claims)
        except BadRequest as exc:
            await self.svc.quarantine.keep(
                account_id,
                api="idp.authenticate",
                status=400,
                body=raw,
                errors=exc.errors,
                request_id=request.scope.get("state", {}).get("request_id"),
                content_type=request.headers.get("content-type"),
            )
            raise
        request_id = request.scope.get("state", {}).get("request_id")
        consumer_id = await self.svc.identity.sign_in(account_id, claims, sdes, request_id)
        token = await self.svc.tokens.consumer_token(
            account_id, consumer_id, "loa1", CONSUMER_TOKEN_TTL
        )
        if "connectorId" in request.path_params:
            return JSON(TokenReply(token))
        return JSON(JwtReply(token))

    def operations(self) -> list[Operation]:
        g = guarded(render_idp)
        v = (Param("v", str, False, "1.0"),)
        return [
            Operation(
                "POST",
                "/api/account/{accountId}/consumer",
                g(self.consumer),
                "ConsumerJWS for a brand consumer id",
                "idp",
                {
                    201: Resp("The ConsumerJWS.", TokenReply),
                    400: Resp("Invalid body.", IdpError),
                    401: Resp("Missing or invalid AppJWT.", IdpError),
                },
                params=(
                    *v,
                    Param("Authorization", str, True, "The AppJWT (raw or Bearer).", "header"),
                ),
                body=ConsumerRequest,
            ),
            Operation(
                "POST",
                "/api/account/{accountId}/authenticate",
                g(self.authenticate),
                "Authenticate a consumer with a brand id_token",
                "idp",
                {
                    200: Resp("A consumer token for X-LP-ON-BEHALF.", JwtReply),
                    400: Resp("Invalid body or unsupported lp_sdes.", IdpError),
                    401: Resp("The id_token does not verify.", IdpError),
                },
                body=AuthCode,
            ),
            Operation(
                "POST",
                "/api/account/{accountId}/app/{connectorId}/authenticate",
                g(self.authenticate),
                "Authenticate a consumer with a brand id_token",
                "idp",
                {
                    200: Resp("A consumer token for X-LP-ON-BEHALF.", TokenReply),
                    400: Resp("Invalid body or unsupported lp_sdes.", IdpError),
                    401: Resp("The id_token does not verify.", IdpError),
                },
                params=(Param("v", str, False, "3.0"),),
                body=AuthCode,
            ),
        ]
