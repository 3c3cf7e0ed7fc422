"""A short way in for the hottest operations.

The Connector API's CONVERSATION and SEND, the Monitoring API's report and the Engagement
Attributes API's events carry most of the traffic. Starlette's middleware stack, its route search
(one regular expression per route until one matches) and its request objects cost more per
request than the rest of a SEND's handling on the event loop (docs/benchmarks.md). So these
operations are matched here segment by segment and called with a lean request object; the very
same endpoint functions also stay registered in Starlette's routes (and the OpenAPI document),
which serve every request this path does not take. A browser's request (with ``Origin``) to a
path that answers CORS takes the full stack, where the CORS middleware is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

LeanEndpoint = Callable[[Any], Awaitable[Response]]

PREFIX = "/api/account/"


class Client(NamedTuple):
    host: str
    port: int


class LeanRequest:
    """What the fast-path endpoints read of a request: the same names as Starlette's."""

    __slots__ = ("_body", "_query", "_receive", "headers", "method", "path_params", "scope")

    def __init__(
        self, scope: Scope, receive: Receive, path_params: dict[str, str], headers: dict[str, str]
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._body: bytes | None = None
        self._query: dict[str, str] | None = None
        self.method: str = scope["method"]
        self.path_params = path_params
        self.headers = headers

    @property
    def query_params(self) -> dict[str, str]:
        """As Starlette's: blank values kept, the last of a repeated name wins."""
        if self._query is None:
            query = self.scope["query_string"].decode("latin-1")
            if "%" in query or "+" in query:
                self._query = dict(parse_qsl(query, keep_blank_values=True))
            else:  # nothing to unquote: what parse_qsl gives, without its cost
                self._query = dict(p.partition("=")[::2] for p in query.split("&") if p)
        return self._query

    @property
    def client(self) -> Client | None:
        found = self.scope.get("client")
        return None if found is None else Client(found[0], found[1])

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
    """``<method> /api/account/{accountId}<template>``, served by ``endpoint``; ``template`` is
    the rest of the path, with ``{name}`` for a parameter segment."""

    method: str
    template: str
    route: Route
    endpoint: LeanEndpoint
    cors: bool = False
    """The CORS middleware answers browsers on this path: requests with ``Origin`` skip this."""
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.template.split("/")[1:]))

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The path parameters when ``parts`` (the segments after the account id) match."""
        params = {}
        for want, got in zip(self.segments, parts, strict=True):
            if want[:1] == "{":
                if not got:
                    return None
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


class FastPath:
    def __init__(self, app: ASGIApp, routes: list[FastRoute]) -> None:
        self.app = app
        self.routes: dict[tuple[str, int], list[FastRoute]] = {}
        for fast in routes:
            self.routes.setdefault((fast.method, len(fast.segments)), []).append(fast)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(PREFIX):
                account_id, *parts = path[len(PREFIX) :].split("/")
                candidates = self.routes.get((scope["method"], len(parts)))
                if candidates and account_id:
                    for fast in candidates:
                        params = fast.match(parts)
                        if params is not None:
                            await self._serve(fast, account_id, params, scope, receive, send)
                            return
        await self.app(scope, receive, send)

    async def _serve(
        self,
        fast: FastRoute,
        account_id: str,
        params: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if fast.cors and "origin" in headers:
            await self.app(scope, receive, send)
            return
        params = {"accountId": account_id, **params}
        # What Starlette's router would have set (the request log reads it).
        scope["route"] = fast.route
        scope["path_params"] = params
        request = LeanRequest(scope, receive, params, headers)
        response = await fast.endpoint(request)
        await response(scope, receive, send)
