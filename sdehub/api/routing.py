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

from sdehub.errors import SdehubError

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
    """Also served by :mod:`sdehub.api.fastpath` (under ``/api/account/{accountId}``)."""

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


def routes(operations: Sequence[Operation]) -> list[Route]:
    return [op.route() for op in operations]


def query_flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")
