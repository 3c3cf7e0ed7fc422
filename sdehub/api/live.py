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
from sdehub.live import Auth, Session, decode
from sdehub.services import Services
from sdehub.tokens import AgentClaims

PATH = "/api/account/{accountId}/agent-workspace/ws"
AUTH_TIMEOUT_S = 10
CLOSE_UNAUTHORIZED = 4401
# How a send or receive fails once the client has gone: Starlette's own disconnect, its
# RuntimeError after a close, or the server's OSError on a dropped connection.
GONE = (WebSocketDisconnect, RuntimeError, OSError)


class LiveApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def route(self) -> WebSocketRoute:
        return WebSocketRoute(PATH, self.endpoint)

    async def _authenticate(self, ws: WebSocket, account_id: str) -> AgentClaims | None:
        token = ws.query_params.get("token")
        header = f"Bearer {token}" if token else ws.headers.get("authorization")
        try:
            if header is None:
                with anyio.fail_after(AUTH_TIMEOUT_S):
                    first = decode(await ws.receive_text())
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
        session = Session(self.svc.db, self.svc.channels, account_id, agent.user_id, ws.send_json)
        await ws.send_json({"type": "ready", "agentId": agent.user_id})

        async def notifications() -> None:
            with contextlib.suppress(*GONE):
                async for channel, _ in session.subscriber:
                    await session.changed(channel)
            tg.cancel_scope.cancel()  # the client went away while being pushed to

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(notifications)
                with contextlib.suppress(*GONE):
                    await self._requests(ws, session)
                tg.cancel_scope.cancel()
        finally:
            await session.close()

    async def _requests(self, ws: WebSocket, session: Session) -> None:
        while True:
            raw = await ws.receive_text()
            try:
                message = decode(raw)
            except msgspec.MsgspecError as exc:
                await session.error(_id_of(raw), f"invalid message: {exc}")
                continue
            await session.handle(message)


class _NotAuthenticated(Exception):
    pass


def _id_of(raw: str) -> Any:
    """The ``id`` of a message that failed to decode, when there is one to echo."""
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    return data.get("id") if isinstance(data, dict) else None
