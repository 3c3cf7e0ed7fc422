"""Reports over HTTP (agent bearer, account-checked): the goal tracker and the SDE activity
report as JSON, or as CSV (``?format=csv`` or ``Accept: text/csv``) with a file name; and the
reports page (``/reports/``), its assets, and the vendored browser libraries (``/vendor/...``).

The definitions of every column are in :mod:`sdehub.reports`; docs/reports.md shows them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.common import ErrorBody, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.errors import BadRequest, NotFound
from sdehub.model.validation import FieldError
from sdehub.reports import (
    GOAL_DIMENSIONS,
    SDE_DIMENSIONS,
    GoalTracker,
    Reports,
    SdeActivity,
    parse_attribution_days,
    parse_group_by,
    parse_range,
    to_csv,
)
from sdehub.services import Services

BASE: Final = "/api/account/{accountId}/reports"
CSV: Final = "text/csv; charset=utf-8"
_MEDIA: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media: str
    etag: str


def _folder(*parts: str) -> dict[str, StaticFile]:
    """The files of a package folder, by name, loaded once (they are package data)."""
    folder = files("sdehub").joinpath(*parts)
    out = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1]
        if item.is_file() and suffix in _MEDIA:
            body = item.read_bytes()
            etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
            out[item.name] = StaticFile(body, _MEDIA[suffix], etag)
    return out


def _serve(request: Request, found: StaticFile | None, cache: str) -> Response:
    if found is None:
        raise NotFound(f"no file {request.url.path}")
    headers = {"ETag": found.etag, "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media, headers=headers)


class ReportsApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.reports: Reports = svc.reports
        self._page = _folder("web", "reports")
        self._vendor = _folder("web", "vendor")

    async def _account(self, request: Request) -> str:
        account_id: str = request.path_params["accountId"]
        await require_agent(self.svc, request, account_id)
        return account_id

    @staticmethod
    def _wants_csv(request: Request) -> bool:
        fmt = request.query_params.get("format")
        if fmt is not None:
            if fmt not in ("json", "csv"):
                raise BadRequest.from_errors([FieldError("$query.format", "expected json or csv")])
            return fmt == "csv"
        accept = request.headers.get("accept", "")
        return "text/csv" in accept and "application/json" not in accept

    @staticmethod
    def _answer(report: GoalTracker | SdeActivity, csv: bool, name: str) -> Response:
        if not csv:
            return JSON(report)
        filename = f"{name}-{report.accountId}-{report.from_}-{report.to}.csv"
        return Response(
            to_csv(report),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def goal_tracker(self, request: Request) -> Response:
        account_id = await self._account(request)
        q = request.query_params
        csv = self._wants_csv(request)
        span = parse_range(dict(q), self.reports.today())
        group_by = parse_group_by(q.get("groupBy"), GOAL_DIMENSIONS, ("day",))
        days = parse_attribution_days(q.get("attributionDays"))
        report = await self.reports.goal_tracker(account_id, span, group_by, days)
        return self._answer(report, csv, "goal-tracker")

    async def sde_activity(self, request: Request) -> Response:
        account_id = await self._account(request)
        q = request.query_params
        csv = self._wants_csv(request)
        span = parse_range(dict(q), self.reports.today())
        group_by = parse_group_by(q.get("groupBy"), SDE_DIMENSIONS, SDE_DIMENSIONS)
        report = await self.reports.sde_activity(account_id, span, group_by)
        return self._answer(report, csv, "sde-activity")

    # -- the page -------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        return _serve(request, self._page.get("index.html"), "no-cache")

    async def page_asset(self, request: Request) -> Response:
        return _serve(request, self._page.get(request.path_params["name"]), "no-cache")

    async def vendor(self, request: Request) -> Response:
        # Vendored files change only with sdehub's version; the ETag makes rechecks cheap.
        found = self._vendor.get(request.path_params["name"])
        return _serve(request, found, "public, max-age=3600")

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        err = ErrorBody
        span = (
            Param("from", str, False, "First UTC day, YYYY-MM-DD (default: six days before to)."),
            Param("to", str, False, "Last UTC day, inclusive (default: today; at most 366 days)."),
            Param("format", str, False, "json (default) or csv; Accept: text/csv also gives CSV."),
        )
        answers = {
            400: Resp("A parameter is invalid; the error names it ($query.from ...).", err),
            401: Resp("Missing or invalid agent bearer, or another account's.", err),
        }
        csv = Resp("The same rows as CSV, as an attachment.", str, media="text/csv",
                   headers=("Content-Disposition",))  # fmt: skip
        files_ok = {
            200: Resp("The file.", str, media="text/plain", headers=("ETag",)),
            304: Resp("Not modified (If-None-Match).", None),
            404: Resp("No such file.", err),
        }
        return [
            Operation(
                "GET", f"{BASE}/goal-tracker", g(self.goal_tracker),
                "Agent goal tracker: goals reached, assisted conversions, transactions, leads "
                "and service activities, agent- vs consumer-reported", "reports",
                {200: Resp("The report (JSON; CSV when asked).", GoalTracker), **answers},
                params=(
                    *span,
                    Param("groupBy", str, False,
                          "Comma-separated: day, campaign, skill, agent (default day; empty: "
                          "totals)."),
                    Param("attributionDays", int, False,
                          "Cross-session attribution window: 0, 1, 7, 14 or 31 (default)."),
                ),
                security=("agentBearer",),
                description="CSV: " + csv.description,
            ),
            Operation(
                "GET", f"{BASE}/sde-activity", g(self.sde_activity),
                "SDE activity: SDEs accepted per day, type, source and authentication",
                "reports",
                {200: Resp("The report (JSON; CSV when asked).", SdeActivity), **answers},
                params=(
                    *span,
                    Param("groupBy", str, False,
                          "Comma-separated: day, type, source, authenticated (default: all)."),
                ),
                security=("agentBearer",),
                description="CSV: " + csv.description,
            ),
            Operation(
                "GET", "/reports/", g(self.page), "The reports page", "reports",
                {200: Resp("The page (it logs in with the agent login API).", str,
                           media="text/html")},
            ),
            Operation(
                "GET", "/reports/static/{name}", g(self.page_asset), "The reports page's assets",
                "reports", files_ok,
            ),
            Operation(
                "GET", "/vendor/{name}", g(self.vendor),
                "Vendored browser libraries (Chart.js, with its licence)", "reports", files_ok,
            ),
        ]  # fmt: skip
