"""A started app with an HTTP client and the LivePerson steps tests keep repeating."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from sdehub.app import create_app
from sdehub.clock import ManualClock
from sdehub.services import Services
from sdehub.settings import Settings

ACCOUNT = "1001"


def profile(*sdes: dict[str, Any], req_id: Any = "1,", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(fields)
    if sdes:
        body["authenticatedData"] = {"lp_sdes": list(sdes)}
    return {"kind": "req", "id": req_id, "type": "userprofile.SetUserProfile", "body": body}


def request_conversation(account: str = ACCOUNT, req_id: Any = "2,", **body: Any) -> dict[str, Any]:
    return {
        "kind": "req",
        "id": req_id,
        "type": "cm.ConsumerRequestConversation",
        "body": {"brandId": account, "channelType": "MESSAGING", **body},
    }


def text(conversation_id: str, message: str, req_id: Any = "3") -> dict[str, Any]:
    return {
        "kind": "req",
        "id": req_id,
        "type": "ms.PublishEvent",
        "body": {
            "dialogId": conversation_id,
            "event": {"type": "ContentEvent", "contentType": "text/plain", "message": message},
        },
    }


def close(conversation_id: str, req_id: Any = 4) -> dict[str, Any]:
    return {
        "kind": "req",
        "id": req_id,
        "type": "cm.UpdateConversationField",
        "body": {
            "conversationId": conversation_id,
            "conversationField": {"field": "ConversationStateField", "conversationState": "CLOSE"},
        },
    }


@dataclass
class Harness:
    app: Starlette
    client: httpx.AsyncClient
    clock: ManualClock
    settings: Settings

    @property
    def svc(self) -> Services:
        svc: Services = self.app.state.services
        return svc

    @classmethod
    @asynccontextmanager
    async def start(cls, settings: Settings, clock: ManualClock) -> AsyncIterator[Harness]:
        app = create_app(settings, clock=clock)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sdehub.test") as c:
                yield cls(app=app, client=c, clock=clock, settings=settings)

    # -- tokens -------------------------------------------------------------------------

    async def app_jwt(self, account: str = ACCOUNT, client_id: str = "app-1",
                      secret: str = "secret-1") -> str:  # fmt: skip
        r = await self.client.post(
            f"/sentinel/api/account/{account}/app/token",
            params={"v": "1.0", "grant_type": "client_credentials"},
            data={"client_id": client_id, "client_secret": secret},
        )
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    async def consumer_jws(self, app_jwt: str, account: str = ACCOUNT,
                           ext_id: str = "consumer-1") -> str:  # fmt: skip
        r = await self.client.post(
            f"/api/account/{account}/consumer",
            params={"v": "1.0"},
            headers={"Authorization": app_jwt},
            json={"ext_consumer_id": ext_id},
        )
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token

    async def connector(self, account: str = ACCOUNT, ext_id: str = "consumer-1",
                        client_id: str = "app-1") -> dict[str, str]:  # fmt: skip
        """Headers of a connector acting for one consumer."""
        app_jwt = await self.app_jwt(account, client_id)
        jws = await self.consumer_jws(app_jwt, account, ext_id)
        return {"Authorization": app_jwt, "X-LP-ON-BEHALF": jws}

    async def agent(self, account: str = ACCOUNT, login: str = "agent-1",
                    password: str = "pw-1") -> dict[str, str]:  # fmt: skip
        r = await self.client.post(
            f"/api/account/{account}/login", params={"v": "1.3"},
            json={"username": login, "password": password},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['bearer']}"}

    # -- connector steps ----------------------------------------------------------------

    async def post_conversation(
        self, headers: dict[str, str], batch: Any, account: str = ACCOUNT
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/account/{account}/messaging/consumer/conversation",
            params={"v": "3"},
            headers=headers,
            json=batch,
        )

    async def post_send(
        self, headers: dict[str, str], request: Any, account: str = ACCOUNT
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/account/{account}/messaging/consumer/conversation/send",
            params={"v": "3"},
            headers=headers,
            json=request,
        )

    async def open_conversation(
        self, headers: dict[str, str], *sdes: dict[str, Any], account: str = ACCOUNT,
        **request: Any,
    ) -> str:  # fmt: skip
        r = await self.post_conversation(
            headers, [profile(*sdes), request_conversation(account, **request)], account
        )
        assert r.status_code == 200, r.text
        conversation_id: str = r.json()[1]["body"]["conversationId"]
        return conversation_id

    async def public_model(
        self, conversation_id: str, agent: dict[str, str], account: str = ACCOUNT,
        path: str | None = None,
    ) -> Any:  # fmt: skip
        r = await self.client.get(
            f"/api/account/{account}/agent-workspace/conversations/{conversation_id}/public-model",
            params={"path": path} if path else None,
            headers=agent,
        )
        assert r.status_code == 200, r.text
        return r.json()
