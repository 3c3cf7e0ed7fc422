"""Domain API (CSDS): which host serves each LivePerson service for an account.

Clients ask it first and then call ``https://{host}{path}``; the paths of the services never
collide, so every service answers on this one server. The hosts handed out default to the host
the client reached us by (so they route back here), or ``public_host``, with per-service overrides.
"""

from __future__ import annotations

from typing import Final

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.accounts import UnknownAccount
from sdehub.api.common import ErrorBody, render_error
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.errors import BadRequest, NotFound, Unauthorized
from sdehub.services import Services

# Case-sensitive, as LivePerson's. Every one resolves to this server unless overridden.
SERVICES: Final = (
    "accountConfigReadOnly",
    "accountConfigReadWrite",
    "acCdnDomain",
    "adminArea",
    "agentVep",
    "appKeyManagement",
    "asyncMessaging",
    "asyncMessagingEnt",
    "batchEnt",
    "coAppEnt",
    "engHistDomain",
    "faasGW",
    "faasUI",
    "idp",
    "leCdnDomain",
    "leDataReporting",
    "liveEngage",
    "liveEngageUI",
    "messagingRestApiDomain",
    "msdkgw",
    "msgHist",
    "pusher",
    "rtbf",
    "sentinel",
    "smt",
    "swift",
)


class BaseURI(msgspec.Struct):
    service: str
    account: str
    baseURI: str


class BaseURIs(msgspec.Struct):
    baseURIs: list[BaseURI]


class Domains:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.overrides = svc.settings.service_host_overrides()

    def host_for(self, service: str, request: Request) -> str:
        if service in self.overrides:
            return self.overrides[service]
        if self.svc.settings.public_host:
            return self.svc.settings.public_host
        return request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"

    async def _account(self, request: Request) -> str:
        account_id = str(request.path_params["accountId"])
        version = request.query_params.get("version", "1.0")
        if version != "1.0":
            raise BadRequest(f"unsupported version {version!r}; use version=1.0")
        try:
            await self.svc.accounts.get(account_id)
        except UnknownAccount:
            raise Unauthorized(f"invalid site: account {account_id!r} is not configured") from None
        return account_id

    async def all_services(self, request: Request) -> Response:
        account_id = await self._account(request)
        uris = [BaseURI(s, account_id, self.host_for(s, request)) for s in SERVICES]
        return JSON(BaseURIs(uris))

    async def one_service(self, request: Request) -> Response:
        account_id = await self._account(request)
        service = request.path_params["service"]
        if service not in SERVICES:
            raise NotFound(f"unknown service {service!r} (service names are case-sensitive)")
        return JSON(BaseURI(service, account_id, self.host_for(service, request)))

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        version = Param("version", str, False, "API version; 1.0 (the default).")
        errors = {
            400: Resp("Unsupported version.", ErrorBody),
            401: Resp("Unknown account (not configured, emulator mode off).", ErrorBody),
        }
        return [
            Operation(
                "GET",
                "/api/account/{accountId}/service/baseURI.json",
                g(self.all_services),
                "Hosts of every service",
                "csds",
                {200: Resp("All services.", BaseURIs), **errors},
                params=(version,),
            ),
            Operation(
                "GET",
                "/api/account/{accountId}/service/baseURI",
                g(self.all_services),
                "Hosts of every service (no .json suffix)",
                "csds",
                {200: Resp("All services.", BaseURIs), **errors},
                params=(version,),
            ),
            Operation(
                "GET",
                "/api/account/{accountId}/service/{service}/baseURI.json",
                g(self.one_service),
                "Host of one service",
                "csds",
                {
                    200: Resp("One service.", BaseURI),
                    **errors,
                    404: Resp("Unknown service name.", ErrorBody),
                },
                params=(version,),
            ),
        ]
