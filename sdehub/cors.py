"""Cross-origin access to the Monitoring API, for the web tag on a brand's own pages.

The web tag (``/tag.js``) runs on the brand's site and calls engagement and report on this
server: cross-origin requests, and with a JSON body, preflighted ones. Each account lists the
origins allowed to do that (``sdehub accounts origins``, or ``allowed_origins`` in a seed file); in
emulator mode every origin is. The rules:

* Only the Monitoring API's engagement and report paths answer CORS; nothing else changes, and the
  Connector API's fast path (:mod:`sdehub.api.fastpath`) never reaches this middleware.
* A request without an ``Origin`` header (a server, an app, curl) is not touched.
* An allowed origin is echoed in ``Access-Control-Allow-Origin`` (never ``*``: the answer depends
  on the account, hence ``Vary: Origin``); a preflight from it is answered 204 here.
* A disallowed origin gets no CORS headers, so the browser withholds the answer from the page; the
  request itself is still processed, as it would be for any other client. Its preflight is
  answered 403, and the browser then never sends the request.

An account's list is read from the database and kept for ``ttl_ms`` (10 s), so a change made with
the CLI against the running server's database takes effect within that time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sdehub.clock import Clock
from sdehub.store import Database
from sdehub.store import accounts as store

MONITORING_PATH: Final = re.compile(
    r"^/api/account/(?P<account>[^/]+)/app/[^/]+/(?P<method>engagement|report)$"
)
ALLOW_METHODS: Final = "POST, PUT, OPTIONS"
ALLOW_HEADERS: Final = "Content-Type, X-HTTP-Method-Override, X-Request-ID"
MAX_AGE: Final = "600"
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_CACHE_LIMIT: Final = 4096


class InvalidOrigin(ValueError):
    """Not a web origin: ``http(s)://host[:port]``, without path, query or credentials."""


def normalize_origin(value: str) -> str:
    """The origin as a browser sends it: lower-case scheme and host, no default port, no
    trailing slash (``HTTPS://Shop.Example:443/`` becomes ``https://shop.example``)."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidOrigin(f"{value!r} is not an origin (scheme://host[:port])") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidOrigin(f"{value!r} is not an origin: expected http(s)://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidOrigin(
            f"{value!r} is not an origin: only scheme://host[:port], with no path or query"
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class OriginPolicy:
    """Which origins may call an account's Monitoring API from a browser."""

    def __init__(self, db: Database, clock: Clock, *, emulator: bool, ttl_ms: int = 10_000):
        self._db = db
        self._clock = clock
        self.emulator = emulator
        self._ttl_ms = ttl_ms
        self._cache: dict[str, tuple[int, frozenset[str]]] = {}

    async def allows(self, account_id: str, origin: str) -> bool:
        if self.emulator:
            # Any page may use an emulator, even a local file (its origin is "null").
            return True
        try:
            origin = normalize_origin(origin)
        except InvalidOrigin:
            return False
        return origin in await self.origins(account_id)

    async def origins(self, account_id: str) -> frozenset[str]:
        now = self._clock.now_ms()
        cached = self._cache.get(account_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        account = await self._db.read(lambda c: store.get_account(c, account_id))
        found = frozenset(account.allowed_origins or ()) if account is not None else frozenset()
        if len(self._cache) >= _CACHE_LIMIT:
            # Unknown account ids cost an entry each; never let them grow without bound.
            self._cache.clear()
        self._cache[account_id] = (now + self._ttl_ms, found)
        return found


@dataclass(frozen=True)
class _Template:
    """What the request log reads of a route: its path template."""

    path: str


class Cors:
    """ASGI middleware answering CORS on the Monitoring API's engagement and report paths."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = MONITORING_PATH.match(scope["path"]) if scope["type"] == "http" else None
        origin = _header(scope, b"origin") if match is not None else None
        if match is None or origin is None:
            await self.app(scope, receive, send)
            return
        account_id = match["account"]
        allowed = await self.policy.allows(account_id, origin)
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            scope["route"] = _Template(
                f"/api/account/{{accountId}}/app/{{appInstallationId}}/{match['method']}"
            )
            scope["path_params"] = {"accountId": account_id}
            response = self._preflight(account_id, origin, allowed)
            await response(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Origin")
                if allowed:
                    headers["Access-Control-Allow-Origin"] = origin
                    headers["Access-Control-Expose-Headers"] = "X-Request-ID"
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _preflight(self, account_id: str, origin: str, allowed: bool) -> Response:
        vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        if not allowed:
            return PlainTextResponse(
                f"origin {origin} may not call the Monitoring API of account {account_id} "
                "(see `sdehub accounts origins`)",
                status_code=403,
                headers={"Vary": vary},
            )
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": MAX_AGE,
                "Vary": vary,
            },
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
