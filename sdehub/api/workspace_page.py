"""The agent workspace page (``GET /workspace/``) and its static files
(``GET /workspace/static/{name}``), from ``sdehub/web/workspace/``.

No build step: the page is plain HTML, CSS and a script that speak the agent-facing APIs
(login, queue, conversation actions, the live websocket, the agent survey, journeys and
outcomes). Files are read per request, so a file another component drops into the directory
(the widget host's script) is served without a code change; an ETag makes rechecks cheap.
"""

from __future__ import annotations

import hashlib
import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.common import ErrorBody, render_error
from sdehub.api.routing import Operation, Resp, guarded
from sdehub.errors import NotFound
from sdehub.services import Services

MEDIA: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}
# One name, no directories: nothing outside the workspace directory can be named.
NAME: Final = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
# Scripts only from this server; widgets are iframes of any origin; the live socket is ours.
POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; connect-src 'self'; frame-src *; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _directory() -> Traversable:
    return files("sdehub").joinpath("web", "workspace")


def _respond(request: Request, body: bytes, media_type: str) -> Response:
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if media_type.startswith("text/html"):
        headers["Content-Security-Policy"] = POLICY
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


class WorkspacePage:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def page(self, request: Request) -> Response:
        body = _directory().joinpath("index.html").read_bytes()
        return _respond(request, body, MEDIA[".html"])

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        suffix = name[name.rfind(".") :] if "." in name else ""
        asset = _directory().joinpath(name)
        if not NAME.match(name) or suffix not in MEDIA or not asset.is_file():
            raise NotFound(f"the workspace has no file {name!r}")
        return _respond(request, asset.read_bytes(), MEDIA[suffix])

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        return [
            Operation(
                "GET",
                "/workspace/",
                g(self.page),
                "The agent workspace page (log in, queues, transcript, consumer info, summary)",
                "workspace-ui",
                {
                    200: Resp("The page.", str, media="text/html", headers=("ETag",)),
                    304: Resp("Not modified (If-None-Match).", None),
                },
            ),
            Operation(
                "GET",
                "/workspace/static/{name}",
                g(self.static),
                "A static file of the agent workspace page (script, style sheet)",
                "workspace-ui",
                {
                    200: Resp("The file.", str, media="text/plain", headers=("ETag",)),
                    304: Resp("Not modified (If-None-Match).", None),
                    404: Resp("No such file.", ErrorBody),
                },
            ),
        ]
