"""The Agent Workspace public model of a conversation, over HTTP (agent bearer)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sdehub import workspace
from sdehub.api.common import ErrorBody, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.services import Services


class WorkspaceApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def public_model(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        agent = await require_agent(self.svc, request, account_id)
        snap = await workspace.snapshot(
            self.svc.db, account_id, request.path_params["conversationId"], agent.user_id
        )
        model = workspace.build(snap)
        path = request.query_params.get("path")
        return JSON(workspace.select(model, path) if path else model)

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        return [
            Operation(
                "GET",
                "/api/account/{accountId}/agent-workspace/conversations/{conversationId}"
                "/public-model",
                g(self.public_model),
                "The public model of a conversation (or one path of it)",
                "workspace",
                {
                    200: Resp("The public model, or the value at ?path=.", dict[str, Any]),
                    401: Resp("Missing or invalid agent bearer.", ErrorBody),
                    404: Resp("Unknown conversation or path.", ErrorBody),
                },
                params=(
                    Param(
                        "path", str, False, "A dotted public-model path, e.g. SDE.customerDetails."
                    ),
                ),
                security=("agentBearer",),
            ),
        ]
