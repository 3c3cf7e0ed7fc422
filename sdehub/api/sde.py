"""sdehub's own SDE endpoints: the JSON Schemas, and an account's quarantine."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.common import ErrorBody, int_param, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.errors import NotFound
from sdehub.model.schema import all_schemas, sde_schema
from sdehub.model.types import BY_WIRE_TYPE
from sdehub.services import Services
from sdehub.store import quarantine as store


class QuarantineItem(msgspec.Struct, kw_only=True):
    id: int
    receivedTime: int
    api: str
    status: int
    errors: list[dict[str, Any]]
    body: str
    """The raw body as received (decoded as UTF-8, invalid bytes replaced)."""
    actor: str | None
    requestId: str | None
    contentType: str | None


class QuarantinePage(msgspec.Struct, kw_only=True):
    items: list[QuarantineItem]
    next: str | None
    """URL of the next page, when there may be more."""


class SdeApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def schemas(self, request: Request) -> Response:
        return JSON(all_schemas())

    async def schema(self, request: Request) -> Response:
        wire = request.path_params["type"]
        if wire not in BY_WIRE_TYPE:
            raise NotFound(f"unknown SDE type {wire!r}; known: {', '.join(BY_WIRE_TYPE)}")
        return JSON(sde_schema(wire))

    async def quarantine(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        await require_agent(self.svc, request, account_id)
        after = int_param(request, "after", 0, lo=0, hi=2**62)
        limit = int_param(request, "limit", 50, lo=1, hi=500)
        api = request.query_params.get("api")
        rows = await self.svc.db.read(
            lambda c: store.list_for(c, account_id, after_id=after, limit=limit, api=api)
        )
        items = [
            QuarantineItem(
                id=r.id or 0,
                receivedTime=r.received_ms,
                api=r.api,
                status=r.status,
                errors=r.errors,
                body=r.body.decode("utf-8", "replace"),
                actor=r.actor,
                requestId=r.request_id,
                contentType=r.content_type,
            )
            for r in rows
        ]
        next_url = None
        if len(items) == limit:
            next_url = str(request.url.include_query_params(after=items[-1].id))
        return JSON(QuarantinePage(items=items, next=next_url))

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        bearer = ("agentBearer",)
        return [
            Operation(
                "GET",
                "/api/sde/schema",
                g(self.schemas),
                "JSON Schema of every SDE type",
                "sde",
                {200: Resp("All SDE schemas.", dict[str, Any])},
            ),
            Operation(
                "GET",
                "/api/sde/schema/{type}",
                g(self.schema),
                "JSON Schema of one SDE type",
                "sde",
                {200: Resp("The schema.", dict[str, Any]), 404: Resp("Unknown type.", ErrorBody)},
            ),
            Operation(
                "GET",
                "/api/account/{accountId}/quarantine",
                g(self.quarantine),
                "Rejected payloads of an account, oldest first",
                "sde",
                {
                    200: Resp("A page of quarantined payloads.", QuarantinePage),
                    400: Resp("Bad paging parameters.", ErrorBody),
                    401: Resp("Missing or invalid agent bearer.", ErrorBody),
                },
                params=(
                    Param("after", int, False, "Return items with a larger id."),
                    Param("limit", int, False, "Page size, 1 to 500 (default 50)."),
                    Param("api", str, False, "Only items from this API."),
                ),
                security=bearer,
            ),
        ]
