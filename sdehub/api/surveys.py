"""The Agent Survey for Messaging APIs (agent bearer): the configuration API
(``configuration/ac-common/agent_surveys``) and the runtime API (``forms/agent_survey``).

Configuration answers carry the revision in ``ac-revision`` and ``ETag``; ``If-Match`` makes a
change conditional (409 when the survey changed since). Runtime answers carry the conversation's
survey state revision in ``x-lp-state-rev``; submit and dismiss must name it, save may. The rules
are in :mod:`sdehub.surveys`; errors use sdehub's own error body (:mod:`sdehub.api.common`).
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.common import ErrorBody, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded, query_flag
from sdehub.bodies import decode_json
from sdehub.errors import BadRequest, NotFound
from sdehub.model.survey_answers import QuestionState, decode_states
from sdehub.model.surveys import Question, Survey
from sdehub.model.validation import FieldError
from sdehub.services import Services
from sdehub.store.surveys import StoredSurvey
from sdehub.surveys import Action, Context, Runtime

CONFIG = "/api/account/{accountId}/configuration/ac-common/agent_surveys"
RUNTIME = "/api/account/{accountId}/forms/agent_survey"
STATE_REV = "x-lp-state-rev"
VERSIONS = ("1.0", "2.0", "1", "2")


class SurveyEntity(Survey, kw_only=True):
    id: int
    deleted: bool


class RuntimeQuestion(Question, kw_only=True):
    questionState: QuestionState | None = None


class RuntimeSurvey(msgspec.Struct, kw_only=True):
    id: int
    name: str
    description: str
    root: int | None
    actualTimeInMinutes: int
    questions: list[RuntimeQuestion]
    agentSurveyContext: Context


def entity(stored: StoredSurvey) -> SurveyEntity:
    return msgspec.convert(
        {**stored.document, "id": stored.survey_id, "deleted": stored.deleted}, SurveyEntity
    )


def _revision_header(request: Request, name: str) -> int | None:
    raw = request.headers.get(name)
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise BadRequest(
            f"{name} must be a revision number, got {raw!r}",
            errors=[FieldError(f"$header.{name}", "expected a revision number")],
        )
    return int(value)


def _survey_id(request: Request) -> int:
    raw = request.path_params["surveyId"]
    if not raw.isdigit() or int(raw) < 1:
        raise NotFound(f"surveyId must be a positive number, got {raw!r}")
    return int(raw)


class SurveyApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _account(self, request: Request) -> tuple[str, str]:
        account_id = request.path_params["accountId"]
        agent = await require_agent(self.svc, request, account_id)
        return account_id, agent.user_id

    @staticmethod
    def _one(stored: StoredSurvey, status: int = 200) -> Response:
        revision = str(stored.revision)
        headers = {"ac-revision": revision, "ETag": f'"{revision}"'}
        return JSON(entity(stored), status_code=status, headers=headers)

    # -- configuration ------------------------------------------------------------------

    async def list_surveys(self, request: Request) -> Response:
        account_id, _ = await self._account(request)
        revision, found = await self.svc.surveys.list_all(
            account_id, include_deleted=query_flag(request, "include_deleted")
        )
        headers = {"ac-revision": str(revision), "ETag": f'"{revision}"'}
        return JSON([entity(s) for s in found], headers=headers)

    async def create(self, request: Request) -> Response:
        account_id, _ = await self._account(request)
        document = decode_json(await request.body())
        stored = await self.svc.surveys.save(account_id, None, document, None)
        return self._one(stored, 201)

    async def get(self, request: Request) -> Response:
        account_id, _ = await self._account(request)
        return self._one(await self.svc.surveys.get(account_id, _survey_id(request)))

    async def update(self, request: Request) -> Response:
        account_id, _ = await self._account(request)
        survey_id = _survey_id(request)
        document = decode_json(await request.body())
        if isinstance(document, dict) and document.get("id", survey_id) != survey_id:
            raise BadRequest(
                f"the body's id ({document['id']!r}) differs from the path's ({survey_id})",
                errors=[FieldError("$.id", f"expected {survey_id} or nothing")],
            )
        expected = _revision_header(request, "If-Match")
        stored = await self.svc.surveys.save(account_id, survey_id, document, expected)
        return self._one(stored)

    async def delete(self, request: Request) -> Response:
        account_id, _ = await self._account(request)
        expected = _revision_header(request, "If-Match")
        return self._one(await self.svc.surveys.delete(account_id, _survey_id(request), expected))

    # -- runtime ------------------------------------------------------------------------

    def _runtime_query(self, request: Request) -> tuple[str, str | None]:
        q = request.query_params
        errors = []
        if q.get("v") not in VERSIONS:
            errors.append(FieldError("$query.v", "the API version is required: 1.0 or 2.0"))
        conversation_id = q.get("conv", "")
        if not conversation_id or len(conversation_id) > 128:
            errors.append(FieldError("$query.conv", "the conversation id is required"))
        if errors:
            raise BadRequest.from_errors(errors)
        return conversation_id, q.get("skill")

    @staticmethod
    def _runtime_answer(runtime: Runtime, with_state: bool) -> Response:
        states = {}
        if with_state and runtime.state is not None:
            states = {s.id: s for s in msgspec.convert(runtime.state.answers, list[QuestionState])}
        survey = runtime.survey
        body = RuntimeSurvey(
            id=runtime.survey_id,
            name=survey.name,
            description=survey.description,
            root=survey.root,
            actualTimeInMinutes=survey.defaultTimeoutInMinutes,
            questions=[
                RuntimeQuestion(**msgspec.structs.asdict(q), questionState=states.get(q.id))
                for q in survey.questions
            ],
            agentSurveyContext=runtime.context,
        )
        return JSON(body, headers={STATE_REV: str(runtime.context.stateRevision)})

    async def survey(self, request: Request) -> Response:
        account_id, _ = await self._account(request)
        conversation_id, skill = self._runtime_query(request)
        runtime = await self.svc.surveys.runtime(account_id, conversation_id, skill)
        return self._runtime_answer(runtime, with_state=False)

    async def state(self, request: Request) -> Response:
        account_id, _ = await self._account(request)
        conversation_id, skill = self._runtime_query(request)
        runtime = await self.svc.surveys.runtime(account_id, conversation_id, skill)
        return self._runtime_answer(runtime, with_state=True)

    async def _act(self, request: Request, action: Action) -> Response:
        account_id, agent_id = await self._account(request)
        conversation_id, skill = self._runtime_query(request)
        expected = _revision_header(request, STATE_REV)
        if expected is None and action != "save":
            raise BadRequest(
                f"{STATE_REV} (the state revision read last) is required",
                errors=[FieldError(f"$header.{STATE_REV}", "required")],
            )
        states: list[QuestionState] = []
        if action != "dismiss":
            states, errors = decode_states(decode_json(await request.body()))
            if errors:
                raise BadRequest.from_errors(errors)
        ctx = await self.svc.surveys.act(
            account_id, conversation_id, skill, action, states, expected, agent_id
        )
        return JSON(ctx, headers={STATE_REV: str(ctx.stateRevision)})

    async def save(self, request: Request) -> Response:
        return await self._act(request, "save")

    async def submit(self, request: Request) -> Response:
        return await self._act(request, "submit")

    async def dismiss(self, request: Request) -> Response:
        return await self._act(request, "dismiss")

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        err = ErrorBody
        common = {
            400: Resp("Invalid request; every problem with its path.", err),
            401: Resp("Missing or invalid agent bearer.", err),
            404: Resp("Unknown survey or conversation, or no survey applies.", err),
        }
        revised = ("ac-revision", "ETag")
        match = (Param("If-Match", str, False, "The revision the change was made from.", "header"),)
        one = f"{CONFIG}/{{surveyId}}"
        run_params = (
            Param("conv", str, True, "The conversation id."),
            Param("skill", str, False, "The skill id (-1: unassigned); the conversation's wins."),
            Param("v", str, True, "API version: 1.0 or 2.0."),
        )
        rev = (Param(STATE_REV, str, False, "The state revision read last.", "header"),)
        acted = {
            200: Resp("The survey's new context.", Context, headers=(STATE_REV,)),
            403: Resp("Another agent is assigned to the conversation.", err),
            409: Resp("The state changed since that revision: read it again.", err),
            410: Resp("The survey was dismissed or closed on timeout.", err),
            **common,
        }

        def op(
            method: str, path: str, fn: Any, summary: str, responses: dict[int, Resp], **kw: Any
        ) -> Operation:
            return Operation(
                method, path, g(fn), summary, "agent-survey", responses,
                security=("agentBearer",), **kw,
            )  # fmt: skip

        return [
            op("GET", CONFIG, self.list_surveys, "The account's agent surveys",
               {200: Resp("Every survey not deleted.", list[SurveyEntity], headers=revised),
                **common},
               params=(Param("include_deleted", bool, False, "Deleted ones too."),)),
            op("POST", CONFIG, self.create, "Create an agent survey",
               {201: Resp("Created.", SurveyEntity, headers=revised), **common}, body=Survey),
            op("GET", one, self.get, "One agent survey",
               {200: Resp("The survey.", SurveyEntity, headers=revised), **common}),
            op("PUT", one, self.update, "Replace an agent survey",
               {200: Resp("Stored.", SurveyEntity, headers=revised),
                409: Resp("The survey changed after If-Match's revision.", err), **common},
               params=match, body=Survey),
            op("DELETE", one, self.delete, "Delete an agent survey (its skills are released)",
               {200: Resp("Marked deleted.", SurveyEntity, headers=revised),
                409: Resp("The survey changed after If-Match's revision.", err), **common},
               params=match),
            op("GET", RUNTIME, self.survey, "The agent survey of a conversation",
               {200: Resp("The survey and its context.", RuntimeSurvey, headers=(STATE_REV,)),
                **common}, params=run_params),
            op("GET", f"{RUNTIME}/state", self.state, "The survey with the answers so far",
               {200: Resp("With questions[].questionState.", RuntimeSurvey,
                          headers=(STATE_REV,)), **common}, params=run_params),
            op("PUT", f"{RUNTIME}/state", self.save, "Save answers (no event)", acted,
               params=(*run_params, *rev), body=list[QuestionState]),
            op("POST", f"{RUNTIME}/state", self.submit, "Submit the survey", acted,
               params=(*run_params, *rev), body=list[QuestionState]),
            op("DELETE", f"{RUNTIME}/state", self.dismiss, "Dismiss the survey", acted,
               params=(*run_params, *rev)),
        ]  # fmt: skip
