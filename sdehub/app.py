"""The composition root: ``create_app(settings)`` builds the services and the ASGI app.

Nothing is global at import: tests build many apps side by side, each with its own database,
clock, metrics registry and keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

import sdehub
from sdehub.api.admin import AdminApi
from sdehub.api.agents import AgentsApi
from sdehub.api.agentvep import AgentVep
from sdehub.api.common import ErrorBody, render_error
from sdehub.api.connector import Connector
from sdehub.api.csds import Domains
from sdehub.api.dataaccess import DataAccessApi
from sdehub.api.fastpath import FastPath, FastRoute
from sdehub.api.idp import Idp
from sdehub.api.journey import JourneyApi
from sdehub.api.live import LiveApi
from sdehub.api.monitoring import MonitoringApi
from sdehub.api.msghist import MessagingHistory
from sdehub.api.openapi import document
from sdehub.api.outcomes import OutcomesApi
from sdehub.api.reports import ReportsApi
from sdehub.api.routing import JSON, Operation, Resp, guarded, routes
from sdehub.api.sde import SdeApi
from sdehub.api.sentinel import Sentinel
from sdehub.api.surveys import SurveyApi
from sdehub.api.webtag import WebTagApi
from sdehub.api.widgets import WidgetsApi
from sdehub.api.workspace import WorkspaceApi
from sdehub.api.workspace_page import WorkspacePage
from sdehub.clock import Clock, SystemClock
from sdehub.cors import MONITORING_PATH, Cors, OriginPolicy
from sdehub.dataaccess.scheduler import Exporter
from sdehub.errors import Unavailable
from sdehub.requestlog import RequestLog
from sdehub.seed import load_seed_file
from sdehub.services import Services
from sdehub.settings import Settings
from sdehub.store import Database

log = logging.getLogger("sdehub")
ACCOUNT_PREFIX = "/api/account/{accountId}"


class Ops:
    """Health, readiness, metrics and the OpenAPI document."""

    def __init__(self, svc: Services, operations: list[Operation]) -> None:
        self.svc = svc
        self.operations = operations
        self._openapi: dict[str, Any] | None = None

    async def healthz(self, request: Request) -> Response:
        return JSON({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        try:
            await self.svc.db.read(lambda c: c.execute(sa.text("SELECT 1")).scalar_one())
            await self.svc.db.write(Database.ping)
        except Exception as exc:
            raise Unavailable(f"the database is not ready: {exc}") from None
        return JSON({"status": "ready"})

    async def metrics(self, request: Request) -> Response:
        return Response(
            self.svc.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def openapi(self, request: Request) -> Response:
        if self._openapi is None:
            self._openapi = document(self.operations, version=sdehub.__version__)
        return JSON(self._openapi)

    def own_operations(self) -> list[Operation]:
        g = guarded(render_error)
        status = dict[str, str]
        return [
            Operation(
                "GET",
                "/healthz",
                g(self.healthz),
                "Liveness",
                "ops",
                {200: Resp("The process is up.", status)},
            ),
            Operation(
                "GET",
                "/readyz",
                g(self.readyz),
                "Readiness",
                "ops",
                {
                    200: Resp("The database answers reads and writes.", status),
                    503: Resp("Not ready.", ErrorBody),
                },
            ),
            Operation(
                "GET",
                "/metrics",
                g(self.metrics),
                "Prometheus metrics",
                "ops",
                {200: Resp("Metrics in the Prometheus text format.", str, media="text/plain")},
            ),
            Operation(
                "GET",
                "/api/openapi.json",
                g(self.openapi),
                "This OpenAPI document",
                "ops",
                {200: Resp("OpenAPI 3.1.", dict[str, Any])},
            ),
        ]


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    svc = Services.build(settings, clock or SystemClock())
    domains = Domains(svc)
    exporter = Exporter(
        svc.db, svc.clock, settings.export_path, retention_days=settings.export_retention_days
    )
    operations: list[Operation] = [
        *domains.operations(),
        *Sentinel(svc).operations(),
        *Idp(svc).operations(),
        *AgentVep(svc, domains).operations(),
        *Connector(svc).operations(),
        *MonitoringApi(svc).operations(),
        # Before the admin API: its /admin/{collection}/{itemId} would match /admin/agents/{id} and
        # /admin/outcomes/revisions, and its /admin/{collection} would match /admin/widgets.
        *AgentsApi(svc).operations(),
        *OutcomesApi(svc).operations(),
        *WidgetsApi(svc).operations(),
        *AdminApi(svc).operations(),
        *SdeApi(svc).operations(),
        *WorkspaceApi(svc).operations(),
        *JourneyApi(svc).operations(),
        *WorkspacePage(svc).operations(),
        *WebTagApi(svc).operations(),
        *MessagingHistory(svc).operations(),
        *SurveyApi(svc).operations(),
        *DataAccessApi(svc, exporter).operations(),
        *ReportsApi(svc).operations(),
    ]
    ops = Ops(svc, operations)
    operations.extend(ops.own_operations())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc.db.migrate()
        svc.db.start()
        await svc.channels.start()
        if settings.seed_file:
            await load_seed_file(svc, settings.seed_file)
        log.info(
            "sdehub %s ready (database %s, emulator %s)",
            sdehub.__version__,
            svc.db.engine.url.render_as_string(hide_password=True),
            settings.emulator,
        )
        exporting = asyncio.create_task(exporter.loop()) if settings.export_enabled else None
        try:
            yield
        finally:
            await svc.channels.close()
            if exporting is not None:
                exporting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await exporting
            await svc.db.close()

    table = routes(operations)
    live = LiveApi(svc)
    fast = [
        FastRoute(
            op.method,
            op.path.removeprefix(ACCOUNT_PREFIX),
            route,
            op.endpoint,
            cors=MONITORING_PATH.match(op.path.replace("{", "").replace("}", "")) is not None,
        )
        for op, route in zip(operations, table, strict=True)
        if op.fast
    ]
    assert all(op.path.startswith(ACCOUNT_PREFIX) for op in operations if op.fast)
    app = Starlette(
        # The websocket is outside the OpenAPI operations (docs/agent-workspace.md describes it).
        routes=[*table, live.route()],
        middleware=[
            Middleware(RequestLog, metrics=svc.metrics),
            Middleware(FastPath, routes=fast),
            # Inside the fast path: CORS costs the Connector API's hot operations nothing.
            Middleware(Cors, policy=OriginPolicy(svc.db, svc.clock, emulator=settings.emulator)),
        ],
        lifespan=lifespan,
    )
    app.state.services = svc
    app.state.operations = operations
    app.state.live = live
    return app
