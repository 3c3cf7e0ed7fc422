"""A real browser against a real socket: Chromium (the system's, driven by Playwright) and an app
served by uvicorn in a thread of the test process.

A thread rather than a subprocess keeps start-up fast and the server's log in the test's output.
The offer tests give chosen accounts a catalog whose one campaign always offers its engagement
(:func:`always_offer`, through the admin API): real targeting, decided by the server.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    """The system Chromium (``SDEHUB_CHROMIUM`` overrides): the browser tests need it, so a
    machine without it fails them, with what to do, rather than skipping them."""
    path = os.environ.get("SDEHUB_CHROMIUM") or next(
        (found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None
    )
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "the browser tests need Chromium: install it (Debian/Ubuntu: apt-get install "
            "chromium) or point SDEHUB_CHROMIUM at a Chromium or Chrome binary",
            pytrace=False,
        )
    return path


def offering(campaign_id: int, engagement_id: int, revision: int) -> dict[str, Any]:
    """A catalog whose one published campaign offers its engagement to every visitor, anywhere."""
    return {
        "goals": [{"id": 1, "type": "interact"}],
        "campaigns": [{
            "id": campaign_id, "goalId": 1, "status": "Published",
            "engagements": [{"id": engagement_id, "revision": revision}],
        }],
    }  # fmt: skip


def always_offer(
    base: str, account: str, campaign_id: int, engagement_id: int, revision: int
) -> None:
    """Configure ``account`` (emulator mode) to offer that engagement, through the admin API."""
    with httpx.Client(base_url=base, timeout=10) as http:
        r = http.post(
            f"/api/account/{account}/login", params={"v": "1.3"},
            json={"username": "admin", "password": "pw"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        r = http.put(
            f"/api/account/{account}/admin/catalog",
            headers={"Authorization": f"Bearer {r.json()['bearer']}"},
            json=offering(campaign_id, engagement_id, revision),
        )
        assert r.status_code == 200, r.text


@contextmanager
def serve(app: Starlette, *, ws: str = "none") -> Iterator[str]:
    """Serve ``app`` on a free port until the block ends; yields its base URL. ``ws`` names
    uvicorn's websocket implementation (``websockets-sansio`` for pages that use the agent
    workspace socket)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_config=None, access_log=False, ws=ws, http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class Site:
    """A brand's web site: pages the tests write, on an origin of their own.

    A real loopback server, not pages Playwright makes up: Chromium's local network access
    rules only let a page call a loopback server (sdehub) from a loopback origin.
    """

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.base = ""  # set once served
        self.app = Starlette(routes=[Route("/{name}", self._page)])

    async def _page(self, request: Request) -> Response:
        html = self.pages.get(request.path_params["name"])
        return HTMLResponse(html or "no such page", status_code=200 if html else 404)


def visit_state(base: str, account: str, vid: str, sid: str) -> dict[str, Any]:
    """The Visit Information API's view of a visit, read with an AppJWT (emulator mode)."""
    with httpx.Client(base_url=base, timeout=10) as http:
        r = http.post(
            f"/sentinel/api/account/{account}/app/token",
            params={"v": "1.0", "grant_type": "client_credentials"},
            data={"client_id": "browser-tests", "client_secret": "browser-secret"},
        )
        assert r.status_code == 200, r.text
        r = http.get(
            f"/api/account/{account}/monitoring/visitors/{vid}/visits/current/state",
            params={"v": "1", "sid": sid},
            headers={"Authorization": r.json()["access_token"]},
        )
        assert r.status_code == 200, r.text
        state: dict[str, Any] = r.json()
        return state
