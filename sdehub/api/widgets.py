"""The agent workspace's custom widgets over HTTP (agent bearer): the account's configuration
(admin, revisions like the catalog's, ``If-Match`` for a conditional change) and the widgets an
agent sees for a skill. :mod:`sdehub.widgets` holds the rules; docs/widgets.md the protocol the
workspace speaks to them."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.common import ErrorBody, if_match, int_param, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.bodies import decode_json
from sdehub.errors import NotFound
from sdehub.services import Services
from sdehub.widgets import Widget, WidgetConfig, WidgetsInput

ADMIN = "/api/account/{accountId}/admin/widgets"
AGENT = "/api/account/{accountId}/agent-workspace/widgets"


class Shown(msgspec.Struct, kw_only=True):
    widgets: list[Widget]


class RevisionInfo(msgspec.Struct, kw_only=True):
    revision: int
    createdTime: int
    author: str | None


def _config(config: WidgetConfig) -> Response:
    return JSON(config, headers={"ETag": f'"{config.revision}"'})


class WidgetsApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _agent(self, request: Request) -> tuple[str, str]:
        account_id = request.path_params["accountId"]
        agent = await require_agent(self.svc, request, account_id)
        return account_id, agent.login_name or agent.user_id

    async def get_config(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        return _config(await self.svc.widgets.config(account_id))

    async def put_config(self, request: Request) -> Response:
        account_id, author = await self._agent(request)
        document = decode_json(await request.body())
        await self.svc.widgets.replace(
            account_id, document, expected=if_match(request), author=author
        )
        return _config(await self.svc.widgets.config(account_id))

    async def revisions(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        before = int_param(request, "before", 2**31 - 1, lo=1, hi=2**31 - 1)
        limit = int_param(request, "limit", 50, lo=1, hi=500)
        rows = await self.svc.widgets.history(account_id, before=before, limit=limit)
        return JSON(
            [
                RevisionInfo(revision=r.revision, createdTime=r.created_ms, author=r.author)
                for r in rows
            ]
        )

    async def revision(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        raw = request.path_params["revision"]
        if not raw.isdigit() or int(raw) < 1:
            raise NotFound(f"revision must be a positive number, got {raw!r}")
        return _config(await self.svc.widgets.revision(account_id, int(raw)))

    async def shown(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        skill = request.query_params.get("skillId") or None
        return JSON(Shown(widgets=await self.svc.widgets.for_skill(account_id, skill)))

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        auth = {401: Resp("Missing or invalid agent bearer.", ErrorBody)}
        bearer = ("agentBearer",)
        return [
            Operation(
                "GET",
                ADMIN,
                g(self.get_config),
                "The account's custom widgets",
                "admin",
                {200: Resp("The latest revision (0: none configured).", WidgetConfig), **auth},
                security=bearer,
            ),
            Operation(
                "PUT",
                ADMIN,
                g(self.put_config),
                "Replace the account's custom widgets",
                "admin",
                {
                    200: Resp("Stored as a new revision (also in ETag).", WidgetConfig),
                    400: Resp("Invalid; every problem with its JSON path.", ErrorBody),
                    409: Resp("If-Match names an older revision.", ErrorBody),
                    **auth,
                },
                params=(Param("If-Match", str, False, "The revision changed from.", "header"),),
                body=WidgetsInput,
                security=bearer,
            ),
            Operation(
                "GET",
                f"{ADMIN}/revisions",
                g(self.revisions),
                "The revision history of the account's custom widgets",
                "admin",
                {200: Resp("Newest first.", list[RevisionInfo]), **auth},
                params=(
                    Param("before", int, False, "Older than this revision."),
                    Param("limit", int, False, "At most this many (1-500)."),
                ),
                security=bearer,
            ),
            Operation(
                "GET",
                f"{ADMIN}/revisions/{{revision}}",
                g(self.revision),
                "One revision of the account's custom widgets",
                "admin",
                {
                    200: Resp("That revision.", WidgetConfig),
                    404: Resp("No such revision.", ErrorBody),
                    **auth,
                },
                security=bearer,
            ),
            Operation(
                "GET",
                AGENT,
                g(self.shown),
                "The widgets to show for a conversation of a skill",
                "agent-workspace",
                {200: Resp("Those for every skill, and those for this one.", Shown), **auth},
                params=(Param("skillId", str, False, "The conversation's skill, if any."),),
                security=bearer,
            ),
        ]
