"""A websocket client for an ASGI app in process, on the test's own event loop (the started
harness app, lifespan and all); Starlette's TestClient would run the app on another thread."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from starlette.types import ASGIApp, Message


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"closed with code {code}")
        self.code = code


class WsClient:
    def __init__(
        self, app: ASGIApp, path: str, *, query: str = "", headers: dict[str, str] | None = None
    ) -> None:
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "scheme": "ws",
            "server": ("sdehub.test", 80),
            "client": ("127.0.0.1", 50000),
            "subprotocols": [],
        }
        self.app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WsClient:
        self._task = asyncio.create_task(
            self.app(self.scope, self._to_app.get, self._from_app.put)  # type: ignore[arg-type]
        )
        await self._to_app.put({"type": "websocket.connect"})
        first = await asyncio.wait_for(self._from_app.get(), 5)
        if first["type"] == "websocket.close":
            raise Closed(first.get("code", 1000))
        assert first["type"] == "websocket.accept", first
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self._task is not None
        await asyncio.wait_for(self._task, 5)

    async def send(self, message: dict[str, Any]) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._to_app.put({"type": "websocket.receive", "bytes": data})

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        message = await asyncio.wait_for(self._from_app.get(), timeout)
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000))
        data: dict[str, Any] = json.loads(message["text"])
        return data

    async def nothing(self, within: float = 0.2) -> None:
        """Assert that no message arrives within ``within`` seconds."""
        try:
            message = await asyncio.wait_for(self._from_app.get(), within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {message}")
