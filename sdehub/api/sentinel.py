"""Sentinel: AppJWTs for app installations (OAuth 2.0 client credentials), v1 and v2.

Clients send ``client_id``/``client_secret``/``grant_type`` in a form body or in the query string
(both are used in the wild). ``expires_in`` is a *string*: one LivePerson client checks its type.
Errors take the OAuth 2.0 form (``{"error": ..., "error_description": ...}``): LivePerson documents
no error body for this endpoint.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qs

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.accounts import UnknownAccount
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.errors import BadRequest, SdehubError, Unauthorized
from sdehub.services import Services


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: str


class OAuthError(msgspec.Struct, omit_defaults=True):
    error: str
    error_description: str | None = None


class TokenForm(msgspec.Struct, kw_only=True):
    """The form fields (``application/x-www-form-urlencoded``), also accepted as query params."""

    client_id: str
    client_secret: str
    grant_type: Literal["client_credentials"]


class Jwks(msgspec.Struct):
    keys: list[dict[str, str]]


def render_oauth(exc: SdehubError, request: Request) -> Response:
    error = {400: "invalid_request", 401: "invalid_client"}.get(exc.status, "server_error")
    if exc.title == "unsupported_grant_type":
        error = exc.title
    return JSON(
        OAuthError(error, exc.message),
        status_code=exc.status,
        headers={"Cache-Control": "no-store"},
    )


class Sentinel:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def token(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        form = parse_qs((await request.body()).decode("latin-1"), keep_blank_values=True)
        values = dict(request.query_params)
        values.update({k: v[-1] for k, v in form.items()})
        missing = [k for k in ("client_id", "client_secret") if not values.get(k)]
        if missing:
            raise BadRequest(f"missing {' and '.join(missing)}")
        grant = values.get("grant_type")
        if grant is None:
            raise BadRequest("missing grant_type (use client_credentials)")
        if grant != "client_credentials":
            raise BadRequest(
                f"grant_type {grant!r} is not supported; use client_credentials",
                title="unsupported_grant_type",
            )
        try:
            app = await self.svc.accounts.authenticate_app(
                account_id, values["client_id"], values["client_secret"]
            )
        except UnknownAccount as exc:
            raise Unauthorized(exc.message) from None
        token = await self.svc.tokens.app_jwt(account_id, app.client_id)
        return JSON(
            TokenResponse(token, "Bearer", str(self.svc.tokens.app_jwt_ttl)),
            headers={"Cache-Control": "no-store"},
        )

    async def jwks(self, request: Request) -> Response:
        account_id = request.path_params.get("accountId") or request.query_params.get("accountId")
        if not account_id:
            raise BadRequest("signing keys are per account: pass ?accountId=<account>")
        try:
            await self.svc.accounts.get(account_id)
        except UnknownAccount as exc:
            raise Unauthorized(exc.message) from None
        return JSON(await self.svc.keys.jwks(account_id))

    def operations(self) -> list[Operation]:
        g = guarded(render_oauth)
        ok = {
            200: Resp("An AppJWT valid for one hour.", TokenResponse),
            400: Resp("A missing parameter or an unsupported grant type.", OAuthError),
            401: Resp("Unknown client id, wrong secret or unknown account.", OAuthError),
        }
        query = (
            Param("v", str, False, "1.0 (v1) or 2.0 (v2)."),
            Param("grant_type", str, False, "client_credentials (or in the form body)."),
            Param("client_id", str, False, "Also accepted in the form body."),
            Param("client_secret", str, False, "Also accepted in the form body."),
        )
        form = "application/x-www-form-urlencoded"
        keys = {
            200: Resp("The account's public signing keys (JWKS).", Jwks),
            400: Resp("No account given.", OAuthError),
            401: Resp("Unknown account.", OAuthError),
        }
        return [
            Operation(
                "POST",
                "/sentinel/api/account/{accountId}/app/token",
                g(self.token),
                "AppJWT (v1)",
                "sentinel",
                ok,
                params=query,
                body=TokenForm,
                body_media=form,
                body_required=False,
            ),
            Operation(
                "POST",
                "/sentinel/api/v2/account/{accountId}/app/token",
                g(self.token),
                "AppJWT (v2)",
                "sentinel",
                ok,
                params=query,
                body=TokenForm,
                body_media=form,
                body_required=False,
            ),
            Operation(
                "GET",
                "/sentinel/well-known/jwks",
                g(self.jwks),
                "Signing keys of an account (JWKS)",
                "sentinel",
                keys,
                params=(Param("accountId", str, True, "The account."),),
            ),
            Operation(
                "GET",
                "/sentinel/api/account/{accountId}/well-known/jwks",
                g(self.jwks),
                "Signing keys of an account (JWKS)",
                "sentinel",
                keys,
            ),
        ]
