"""Agents over HTTP (agent bearer): an agent's skills (admin), and the agent workspace's routing
queue and conversation actions (:mod:`sdehub.agents`). Errors use sdehub's own error body."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.agents import Desk
from sdehub.api.common import ErrorBody, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Resp, guarded
from sdehub.bodies import decode_json
from sdehub.errors import BadRequest
from sdehub.model.validation import validate
from sdehub.services import Services
from sdehub.store.agents import Transfer
from sdehub.store.conversations import Conversation

ADMIN = "/api/account/{accountId}/admin/agents/{agentId}"
DESK = "/api/account/{accountId}/agent-workspace/conversations"
ONE = DESK + "/{conversationId}"


class AgentSkills(msgspec.Struct, kw_only=True):
    skillIds: list[str | int]


class AgentAnswer(msgspec.Struct, kw_only=True):
    agentId: str
    skillIds: list[str]


class Line(msgspec.Struct, kw_only=True):
    text: str


class Sent(msgspec.Struct, kw_only=True):
    sequence: int


class TransferRequest(msgspec.Struct, kw_only=True):
    skillId: str | int | None
    reason: str | None = None


class TransferAnswer(msgspec.Struct, kw_only=True):
    conversationId: str
    fromAgentId: str
    fromSkillId: str | None
    toSkillId: str | None
    reason: str | None
    time: int


class QueueItem(msgspec.Struct, kw_only=True):
    conversationId: str
    skillId: str | None
    consumerId: str
    state: str
    startTime: int


class DeskAnswer(msgspec.Struct, kw_only=True):
    skillIds: list[str]
    waiting: list[QueueItem]
    """Open conversations no agent holds, in the queues of my skills or unassigned; oldest first."""
    mine: list[QueueItem]
    """Open conversations I hold."""


def _item(c: Conversation) -> QueueItem:
    return QueueItem(
        conversationId=c.conversation_id,
        skillId=c.skill_id,
        consumerId=c.consumer_id,
        state=c.state,
        startTime=c.created_ms,
    )


def _desk(d: Desk) -> DeskAnswer:
    return DeskAnswer(
        skillIds=d.skills, waiting=[_item(c) for c in d.waiting], mine=[_item(c) for c in d.mine]
    )


def _transfer(t: Transfer) -> TransferAnswer:
    return TransferAnswer(
        conversationId=t.conversation_id,
        fromAgentId=t.from_agent_id,
        fromSkillId=t.from_skill_id,
        toSkillId=t.to_skill_id,
        reason=t.reason,
        time=t.transferred_ms,
    )


async def _body(request: Request, typ: Any) -> Any:
    parsed, errors = validate(decode_json(await request.body()), typ)
    if errors:
        raise BadRequest.from_errors(errors)
    return parsed


class AgentsApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _me(self, request: Request) -> tuple[str, str]:
        account_id = request.path_params["accountId"]
        agent = await require_agent(self.svc, request, account_id)
        return account_id, agent.user_id

    async def get_agent(self, request: Request) -> Response:
        account_id, _ = await self._me(request)
        agent_id = request.path_params["agentId"]
        skills = await self.svc.agents.skills(account_id, agent_id)
        return JSON(AgentAnswer(agentId=agent_id, skillIds=skills))

    async def put_agent(self, request: Request) -> Response:
        account_id, _ = await self._me(request)
        agent_id = request.path_params["agentId"]
        body: AgentSkills = await _body(request, AgentSkills)
        await self.svc.agents.set_skills(account_id, agent_id, [str(s) for s in body.skillIds])
        return JSON(
            AgentAnswer(
                agentId=agent_id, skillIds=await self.svc.agents.skills(account_id, agent_id)
            )
        )

    async def desk(self, request: Request) -> Response:
        account_id, me = await self._me(request)
        return JSON(_desk(await self.svc.agents.desk(account_id, me)))

    async def accept(self, request: Request) -> Response:
        account_id, me = await self._me(request)
        await self.svc.agents.accept(account_id, request.path_params["conversationId"], me)
        return JSON(_desk(await self.svc.agents.desk(account_id, me)))

    async def send(self, request: Request) -> Response:
        account_id, me = await self._me(request)
        body: Line = await _body(request, Line)
        if not body.text:
            raise BadRequest("text must not be empty")
        conversation_id = request.path_params["conversationId"]
        sequence = await self.svc.agents.send(account_id, conversation_id, me, body.text)
        return JSON(Sent(sequence=sequence), status_code=201)

    async def transfer(self, request: Request) -> Response:
        account_id, me = await self._me(request)
        body: TransferRequest = await _body(request, TransferRequest)
        skill = None if body.skillId is None else str(body.skillId)
        done = await self.svc.agents.transfer(
            account_id, request.path_params["conversationId"], me, skill, body.reason
        )
        return JSON(_transfer(done))

    async def close(self, request: Request) -> Response:
        account_id, me = await self._me(request)
        await self.svc.agents.close(account_id, request.path_params["conversationId"], me)
        return Response(status_code=204)

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        err = ErrorBody
        auth = {401: Resp("Missing or invalid agent bearer.", err)}
        unknown = {404: Resp("Unknown conversation.", err)}
        held = {
            403: Resp("I do not hold the conversation.", err),
            409: Resp("The conversation is closed.", err),
            **unknown,
            **auth,
        }

        def op(
            method: str, path: str, fn: Any, summary: str, responses: dict[int, Resp], **kw: Any
        ) -> Operation:
            tag = "admin" if path.startswith(ADMIN) else "agent-workspace"
            return Operation(
                method, path, g(fn), summary, tag, responses, security=("agentBearer",), **kw
            )

        return [
            op(
                "GET",
                ADMIN,
                self.get_agent,
                "An agent's skills",
                {
                    200: Resp("The agent's skills.", AgentAnswer),
                    404: Resp("No such agent.", err),
                    **auth,
                },
            ),  # fmt: skip
            op(
                "PUT",
                ADMIN,
                self.put_agent,
                "Set an agent's skills",
                {
                    200: Resp("The agent's skills now.", AgentAnswer),
                    400: Resp("A skill id is not in the account's catalog.", err),
                    404: Resp("No such agent.", err),
                    **auth,
                },
                body=AgentSkills,
            ),
            op(
                "GET",
                DESK,
                self.desk,
                "The conversations waiting in my queues, and mine",
                {200: Resp("Waiting (oldest first) and held.", DeskAnswer), **auth},
            ),
            op(
                "POST",
                f"{ONE}/accept",
                self.accept,
                "Accept a waiting conversation (become its assigned agent)",
                {
                    200: Resp("Accepted; my desk now.", DeskAnswer),
                    409: Resp("Already taken, or closed.", err),
                    **unknown,
                    **auth,
                },
            ),
            op(
                "POST",
                f"{ONE}/messages",
                self.send,
                "Send a line to the consumer",
                {
                    201: Resp("Stored with this sequence.", Sent),
                    400: Resp("Invalid body.", err),
                    **held,
                },
                body=Line,
            ),  # fmt: skip
            op(
                "POST",
                f"{ONE}/transfer",
                self.transfer,
                "Transfer the conversation to another skill's queue",
                {
                    200: Resp("The transfer recorded.", TransferAnswer),
                    400: Resp("Unknown skill or invalid body.", err),
                    **held,
                },
                body=TransferRequest,
            ),  # fmt: skip
            op(
                "POST",
                f"{ONE}/close",
                self.close,
                "Close the conversation (close reason AGENT)",
                {204: Resp("Closed.", None), **held},
            ),  # fmt: skip
        ]
