"""Pieces shared by the sdehub-specific APIs: their error body, agent authentication, paging."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.routing import JSON
from sdehub.errors import BadRequest, SdehubError, TooManyRequests, Unauthorized
from sdehub.model.validation import FieldError
from sdehub.services import Services
from sdehub.tokens import AgentClaims


class ErrorDetail(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: int
    title: str
    message: str
    errors: list[FieldError] | None = None
    requestId: str | None = None


class ErrorBody(msgspec.Struct, kw_only=True):
    """The error body of sdehub's own APIs (schema, quarantine, public model, admin)."""

    error: ErrorDetail


def render_error(exc: SdehubError, request: Request) -> Response:
    body = ErrorBody(
        error=ErrorDetail(
            status=exc.status,
            title=exc.title,
            message=exc.message,
            errors=exc.errors or None,
            requestId=request.scope.get("state", {}).get("request_id"),
        )
    )
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": 'Bearer realm="sdehub"'}
    return JSON(body, status_code=exc.status, headers=headers)


async def require_agent(svc: Services, request: Request, account_id: str) -> AgentClaims:
    """The agent behind the request's bearer; its login session must still be live."""
    return await agent_of(svc, account_id, request.headers.get("authorization"))


async def agent_of(svc: Services, account_id: str, authorization: str | None) -> AgentClaims:
    """:func:`require_agent` for a bearer that did not come in a request's header."""
    await svc.accounts.get(account_id)
    claims = await svc.tokens.verify_agent(account_id, authorization)
    session = await svc.accounts.session(account_id, claims.session_id)
    if session is None or session.revoked or session.expires_ms <= svc.clock.now_ms():
        raise Unauthorized("the login session has ended; log in again")
    return claims


def int_param(request: Request, name: str, default: int, *, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = lo - 1
    if not lo <= value <= hi:
        raise BadRequest(
            f"query parameter {name} must be an integer from {lo} to {hi}",
            errors=[FieldError(f"$query.{name}", f"expected an integer from {lo} to {hi}")],
        )
    return value


def if_match(request: Request) -> int | None:
    """The revision an ``If-Match`` header names (``"3"``, ``W/"3"``, ``3``); None for none or
    ``*``. Anything else is a 400 naming the header."""
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise BadRequest(
            f"If-Match must be a revision number, got {raw!r}",
            errors=[FieldError("$header.If-Match", "expected a revision number")],
        )
    return int(value)
