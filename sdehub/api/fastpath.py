"""A short way in for the hottest operations.

The Connector API's CONVERSATION and SEND carry most of the traffic. Starlette's middleware stack,
its route search (one regular expression per route until one matches) and its request objects cost
more per request than the rest of a SEND's handling on the event loop (docs/benchmarks.md). So
these operations are matched here by plain string tests and called with a lean request object;
the very same endpoint functions also stay registered in Starlette's routes (and the OpenAPI
document), which serve every request this path does not take.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

LeanEndpoint = Callable[[Any], Awaitable[Response]]

PREFIX = "/api/account/"


class LeanRequest:
    """What the fast-path endpoints read of a request: the same names as Starlette's."""

    __slots__ = ("_body", "_receive", "headers", "method", "path_params", "scope")

    def __init__(self, scope: Scope, receive: Receive, path_params: dict[str, str]) -> None:
        self.scope = scope
        self._receive = receive
        self._body: bytes | None = None
        self.method: str = scope["method"]
        self.path_params = path_params
        self.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}

    async def body(self) -> bytes:
        if self._body is None:
            chunks = []
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            self._body = b"".join(chunks)
        return self._body


@dataclass(frozen=True)
class FastRoute:
    """``POST /api/account/{accountId}<suffix>``, served by ``endpoint``."""

    suffix: str
    route: Route
    endpoint: LeanEndpoint


class FastPath:
    def __init__(self, app: ASGIApp, routes: list[FastRoute]) -> None:
        self.app = app
        self.routes = sorted(routes, key=lambda r: -len(r.suffix))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            if path.startswith(PREFIX):
                for fast in self.routes:
                    if path.endswith(fast.suffix):
                        account_id = path[len(PREFIX) : len(path) - len(fast.suffix)]
                        if account_id and "/" not in account_id:
                            params = {"accountId": account_id}
                            # What Starlette's router would have set (the request log reads it).
                            scope["route"] = fast.route
                            scope["path_params"] = params
                            request = LeanRequest(scope, receive, params)
                            response = await fast.endpoint(request)
                            await response(scope, receive, send)
                            return
        await self.app(scope, receive, send)
