"""Conversation outcomes over HTTP (agent bearer): the configuration (admin; revisions and
``If-Match`` like the catalog's) and, per conversation, the form and its submissions (the rules
are in :mod:`sdehub.outcomes`). Errors use sdehub's own error body."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.common import ErrorBody, if_match, int_param, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.bodies import decode_json
from sdehub.errors import BadRequest, NotFound
from sdehub.model.outcomes import FORMS, Outcome, OutcomesConfig, Sde
from sdehub.model.validation import validate
from sdehub.outcomes import Form
from sdehub.services import Services
from sdehub.store.outcomes import ConfigRevision, Submission
from sdehub.workspace import iso

ADMIN = "/api/account/{accountId}/admin/outcomes"
RUNTIME = "/api/account/{accountId}/agent-workspace/conversations/{conversationId}/outcomes"


class ConfigAnswer(msgspec.Struct, kw_only=True, omit_defaults=True):
    revision: int
    """0: nothing configured yet."""
    outcomes: list[Outcome]
    createdTime: int | None = None
    author: str | None = None


class RevisionInfo(msgspec.Struct, kw_only=True):
    revision: int
    createdTime: int
    author: str | None


class FormField(msgspec.Struct, kw_only=True, omit_defaults=True):
    field: str
    displayName: str
    type: Literal["number", "integer", "string"]
    enum: list[str] | None = None
    """The names of the values 0, 1, ... (Service Activity status)."""


class Section(msgspec.Struct, kw_only=True):
    sde: str
    title: str
    fields: list[FormField]


class SubmissionAnswer(msgspec.Struct, kw_only=True):
    sde: str
    values: dict[str, Any]
    agentId: str
    time: str


class FormAnswer(msgspec.Struct, kw_only=True):
    conversationId: str
    skillId: str | None
    open: bool
    """Whether submissions are accepted now."""
    deadline: str | None
    """After a close: the last moment to submit (close + 30 minutes)."""
    sections: list[Section]
    submissions: list[SubmissionAnswer]


class SubmitRequest(msgspec.Struct, kw_only=True):
    sde: Sde
    values: dict[str, Any]


def _config(stored: ConfigRevision | None) -> ConfigAnswer:
    if stored is None:
        return ConfigAnswer(revision=0, outcomes=[])
    return ConfigAnswer(
        revision=stored.revision,
        outcomes=msgspec.convert(stored.document, OutcomesConfig).outcomes,
        createdTime=stored.created_ms,
        author=stored.author,
    )


def _section(entry: Outcome) -> Section:
    spec = FORMS[entry.sde]
    return Section(
        sde=entry.sde,
        title=spec.title,
        fields=[
            FormField(
                field=f.field,
                displayName=f.displayName,
                type=spec.fields[f.field].type,
                enum=list(e) if (e := spec.fields[f.field].enum) else None,
            )
            for f in entry.fields
        ],
    )


def _submission(s: Submission) -> SubmissionAnswer:
    return SubmissionAnswer(
        sde=s.sde, values=s.form_values, agentId=s.agent_id, time=iso(s.submitted_ms)
    )


def _form(form: Form) -> FormAnswer:
    return FormAnswer(
        conversationId=form.conversation.conversation_id,
        skillId=form.conversation.skill_id,
        open=form.open,
        deadline=None if form.deadline_ms is None else iso(form.deadline_ms),
        sections=[_section(e) for e in form.sections],
        submissions=[_submission(s) for s in form.submissions],
    )


class OutcomesApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _agent(self, request: Request) -> tuple[str, str, str]:
        """(account, agent id, login name)."""
        account_id = request.path_params["accountId"]
        agent = await require_agent(self.svc, request, account_id)
        return account_id, agent.user_id, agent.login_name or agent.user_id

    @staticmethod
    def _answer(answer: ConfigAnswer) -> Response:
        return JSON(answer, headers={"ETag": f'"{answer.revision}"'})

    async def get_config(self, request: Request) -> Response:
        account_id, _, _ = await self._agent(request)
        return self._answer(_config(await self.svc.outcomes.latest(account_id)))

    async def put_config(self, request: Request) -> Response:
        account_id, _, author = await self._agent(request)
        document = decode_json(await request.body())
        stored = await self.svc.outcomes.put(
            account_id, document, expected=if_match(request), author=author
        )
        return self._answer(_config(stored))

    async def revisions(self, request: Request) -> Response:
        account_id, _, _ = await self._agent(request)
        before = int_param(request, "before", 2**31 - 1, lo=1, hi=2**31 - 1)
        limit = int_param(request, "limit", 50, lo=1, hi=500)
        rows = await self.svc.outcomes.history(account_id, before=before, limit=limit)
        return JSON(
            [RevisionInfo(revision=r.revision, createdTime=r.created_ms, author=r.author)
             for r in rows]
        )  # fmt: skip

    async def revision(self, request: Request) -> Response:
        account_id, _, _ = await self._agent(request)
        raw = request.path_params["revision"]
        if not raw.isdigit() or int(raw) < 1:
            raise NotFound(f"revision must be a positive number, got {raw!r}")
        return self._answer(_config(await self.svc.outcomes.revision(account_id, int(raw))))

    async def form(self, request: Request) -> Response:
        account_id, _, _ = await self._agent(request)
        form = await self.svc.outcomes.form(account_id, request.path_params["conversationId"])
        return JSON(_form(form))

    async def submit(self, request: Request) -> Response:
        account_id, me, _ = await self._agent(request)
        body, errors = validate(decode_json(await request.body()), SubmitRequest)
        if body is None:
            raise BadRequest.from_errors(errors)
        done = await self.svc.outcomes.submit(
            account_id, request.path_params["conversationId"], me, body.sde, body.values
        )
        return JSON(_submission(done), status_code=201)

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        err = ErrorBody
        auth = {401: Resp("Missing or invalid agent bearer.", err)}
        etag = ("ETag",)

        def op(
            method: str, path: str, fn: Any, summary: str, responses: dict[int, Resp], **kw: Any
        ) -> Operation:
            tag = "admin" if path.startswith(ADMIN) else "agent-workspace"
            return Operation(
                method, path, g(fn), summary, tag, {**responses, **auth},
                security=("agentBearer",), **kw,
            )  # fmt: skip

        return [
            op("GET", ADMIN, self.get_config, "Which SDEs agents of which skills report",
               {200: Resp("The latest revision (0: nothing configured).", ConfigAnswer,
                          headers=etag)}),
            op("PUT", ADMIN, self.put_config, "Replace the conversation outcomes configuration",
               {200: Resp("Stored as the next revision (also in ETag).", ConfigAnswer,
                          headers=etag),
                400: Resp("Invalid; every problem with its path.", err),
                409: Resp("If-Match names an older revision.", err)},
               params=(Param("If-Match", str, False, "The revision the change was made from.",
                             "header"),),
               body=OutcomesConfig),
            op("GET", f"{ADMIN}/revisions", self.revisions, "Revision history",
               {200: Resp("Newest first.", list[RevisionInfo]),
                400: Resp("Invalid paging.", err)},
               params=(Param("before", int, False, "Older than this revision."),
                       Param("limit", int, False, "At most this many (1-500)."))),
            op("GET", f"{ADMIN}/revisions/{{revision}}", self.revision, "One revision",
               {200: Resp("That revision.", ConfigAnswer, headers=etag),
                404: Resp("No such revision.", err)}),
            op("GET", RUNTIME, self.form, "The conversation outcomes form of a conversation",
               {200: Resp("The form of its skill and what was submitted.", FormAnswer),
                404: Resp("Unknown conversation.", err)}),
            op("POST", RUNTIME, self.submit, "Report an outcome of the conversation",
               {201: Resp("Recorded as an SDE of the conversation.", SubmissionAnswer),
                400: Resp("Invalid; every problem with its path ($.values.total).", err),
                403: Resp("I do not hold the conversation (nor did when it closed).", err),
                404: Resp("Unknown conversation.", err),
                409: Resp("More than 30 minutes after the close.", err)},
               body=SubmitRequest),
        ]  # fmt: skip
