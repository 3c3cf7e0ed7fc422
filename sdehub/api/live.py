"""The agent workspace websocket: ``/api/account/{accountId}/agent-workspace/ws``.

Browsers cannot set headers on a websocket, so the agent bearer comes as the ``token`` query
parameter, the ``Authorization`` header (other clients), or a first ``{"type": "auth", "token"}``
message within :data:`AUTH_TIMEOUT_S`. Without a valid bearer the server sends an ``error``
message and closes with code 4401. The protocol is in :mod:`sdehub.live`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import msgspec
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from sdehub.api.common import agent_of
from sdehub.errors import SdehubError
from sdehub.live import Auth, Models, Session, decode
from sdehub.services import Services
from sdehub.tokens import AgentClaims

PATH = "/api/account/{accountId}/agent-workspace/ws"
AUTH_TIMEOUT_S = 10
CLOSE_UNAUTHORIZED = 4401
_encode = msgspec.json.Encoder().encode


class LiveApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.models = Models(svc.db, svc.channels)

    def route(self) -> WebSocketRoute:
        return WebSocketRoute(PATH, self.endpoint)

    async def _authenticate(self, ws: WebSocket, account_id: str) -> AgentClaims | None:
        token = ws.query_params.get("token")
        header = f"Bearer {token}" if token else ws.headers.get("authorization")
        try:
            if header is None:
                with anyio.fail_after(AUTH_TIMEOUT_S):
                    first = decode(await _frame(ws))
                if not isinstance(first, Auth):
                    raise _NotAuthenticated("the first message must be {type: auth, token}")
                header = f"Bearer {first.token}"
            return await agent_of(self.svc, account_id, header)
        except (SdehubError, _NotAuthenticated, msgspec.MsgspecError, TimeoutError) as exc:
            message = getattr(exc, "message", None) or str(exc) or "authentication timed out"
            await ws.send_json({"type": "error", "id": None, "message": message})
            await ws.close(CLOSE_UNAUTHORIZED)
            return None

    async def endpoint(self, ws: WebSocket) -> None:
        account_id = ws.path_params["accountId"]
        await ws.accept()
        try:
            agent = await self._authenticate(ws, account_id)
        except WebSocketDisconnect:
            return
        if agent is None:
            return

        async def send(message: dict[str, Any]) -> None:
            try:
                await ws.send_text(_encode(message).decode())
            except (RuntimeError, OSError) as exc:
                # A send after the client went away: Starlette's RuntimeError once closed, the
                # server's OSError on a dropped connection. Either way the session is over.
                raise WebSocketDisconnect(1006) from exc

        svc = self.svc
        session = Session(svc.db, svc.channels, self.models, account_id, agent.user_id, send)
        await ws.send_json({"type": "ready", "agentId": agent.user_id})

        async def notifications() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                async for channel, _ in session.subscriber:
                    # A burst of writes (a connector sending lines) rebuilds each model once.
                    more = session.subscriber.pending()
                    await session.changed({channel, *(name for name, _ in more)})
            tg.cancel_scope.cancel()  # the client went away while being pushed to

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(notifications)
                with contextlib.suppress(WebSocketDisconnect):
                    await self._requests(ws, session)
                tg.cancel_scope.cancel()
        finally:
            await session.close()

    async def _requests(self, ws: WebSocket, session: Session) -> None:
        while True:
            raw = await _frame(ws)
            try:
                message = decode(raw)
            except msgspec.MsgspecError as exc:
                await session.error(_id_of(raw), f"invalid message: {exc}")
                continue
            await session.handle(message)


class _NotAuthenticated(Exception):
    pass


async def _frame(ws: WebSocket) -> str | bytes:
    """The next message's text; binary frames are taken as UTF-8 JSON too."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    data: str | bytes = message.get("text") or message.get("bytes") or b""
    return data


def _id_of(raw: str | bytes) -> Any:
    """The ``id`` of a message that failed to decode, when there is one to echo."""
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    return data.get("id") if isinstance(data, dict) else None
