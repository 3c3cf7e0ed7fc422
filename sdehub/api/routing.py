"""Operations: a route plus what the OpenAPI document says about it, declared in one place.

Every endpoint is an :class:`Operation`; the Starlette routes and the OpenAPI document are both
generated from the same list, so neither can drift from the other. Each API family supplies a
renderer that turns :class:`~sdehub.errors.SdehubError` into its own documented error body.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdehub.errors import BadRequest, SdehubError
from sdehub.model.validation import FieldError, nul_errors

Endpoint = Callable[[Request], Awaitable[Response]]
Renderer = Callable[[SdehubError, Request], Response]
log = logging.getLogger("sdehub.api")


@dataclass(frozen=True)
class Param:
    name: str
    type: Any = str
    required: bool = False
    description: str = ""
    where: str = "query"  # query | header | path | cookie


@dataclass(frozen=True)
class Resp:
    description: str
    type: Any = None
    media: str = "application/json"
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    endpoint: Endpoint
    summary: str
    tag: str
    responses: dict[int, Resp]
    params: tuple[Param, ...] = ()
    body: Any = None
    body_media: str = "application/json"
    body_required: bool = True
    security: tuple[str, ...] = ()
    description: str = ""
    name: str = field(default="")
    fast: bool = False
    """Also served by :mod:`sdehub.api.fastpath` (a POST under ``/api/account/{accountId}``)."""

    def route(self) -> Route:
        return Route(
            self.path,
            self.endpoint,
            methods=[self.method],
            name=self.name or f"{self.method} {self.path}",
        )


class JSON(Response):
    """A JSON response encoded by msgspec (Structs, dicts, lists)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


def guarded(renderer: Renderer) -> Callable[[Endpoint], Endpoint]:
    """Render the family's errors; log and render anything unexpected as a 500."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        async def run(request: Request) -> Response:
            try:
                return await endpoint(request)
            except SdehubError as exc:
                return renderer(exc, request)
            except Exception:
                log.exception("unhandled error in %s %s", request.method, request.scope["path"])
                return renderer(SdehubError("internal error; see the server log"), request)

        run.__name__ = getattr(endpoint, "__name__", "endpoint")
        run.__doc__ = endpoint.__doc__
        return run

    return wrap


def decode_json(body: bytes) -> Any:
    """Bytes to plain JSON values; a parse error names where it happened."""
    if not body.strip():
        raise BadRequest(
            "the request body is empty; expected JSON",
            errors=[FieldError("$", "expected a JSON document, got nothing")],
        )
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(
            f"the request body is not valid JSON: {exc}",
            errors=[FieldError("$", f"invalid JSON: {exc}")],
        ) from None
    # JSON can only carry U+0000 escaped, so the byte search is a cheap exact pre-check.
    if b"\\u0000" in body:
        errors = nul_errors(value)
        if errors:
            raise BadRequest.from_errors(errors)
    return value


def routes(operations: Sequence[Operation]) -> list[Route]:
    return [op.route() for op in operations]


def query_flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")
