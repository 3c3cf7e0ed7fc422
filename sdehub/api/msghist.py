"""The Messaging Interactions API (``msgHist``): conversation search, by id, by consumer.

Callers are an agent (the login bearer of ``POST /api/account/{id}/login?v=1.3``) or an OAuth 1.0
API key (sdehub.apikeys). LivePerson documents no error body for this API, so errors are a flat
``{"status", "message", "errors"?, "requestId"?}``.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub import msghist
from sdehub.api.common import int_param, require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.bodies import decode_json
from sdehub.errors import BadRequest, SdehubError, TooManyRequests, Unauthorized
from sdehub.model.sdesearch import SEARCH_KEYS, parse
from sdehub.model.validation import FieldError
from sdehub.msghist import Ask
from sdehub.services import Services
from sdehub.store import history as history_store
from sdehub.store.history import Criteria, SurveyFilter

T = TypeVar("T")
PREFIX = "/messaging_history/api/account/{accountId}/conversations"
TEN_MINUTES = 600_000
MAX_SPAN_MS = 92 * 24 * 3_600_000
""""Three months": the longest three consecutive months, 92 days."""


class Range(msgspec.Struct, kw_only=True):
    from_: int | None = msgspec.field(default=None, name="from")
    to: int | None = None


class AgentSurveySearch(msgspec.Struct, kw_only=True):
    pendingAgentSurvey: list[bool] | None = None
    questionId: list[str] | None = None
    questionName: list[str] | None = None
    questionKeywords: list[str] | None = None
    answerKeywords: list[str] | None = None
    surveyId: list[int] | None = None


class SearchBody(msgspec.Struct, kw_only=True):
    """The filters sdehub has data for; other documented filters are accepted and ignored."""

    start: Range
    end: Range | None = None
    status: list[Annotated[str, msgspec.Meta(pattern="^(OPEN|CLOSE)$")]] | None = None
    skillIds: list[str | int] | None = None
    latestSkillIds: list[str | int] | None = None
    agentIds: list[str | int] | None = None
    latestAgentIds: list[str | int] | None = None
    keyword: str | None = None
    duration: Range | None = None
    sdeSearch: dict[str, str] | None = None
    agentSurveySearch: AgentSurveySearch | None = None
    contentToRetrieve: list[str] | None = None


class ByIdBody(msgspec.Struct, kw_only=True):
    conversationId: str | None = None
    conversationIds: Annotated[list[str], msgspec.Meta(max_length=100)] | None = None
    contentToRetrieve: list[str] | None = None
    cappingConfiguration: str | None = None


class ByConsumerBody(msgspec.Struct, kw_only=True):
    consumer: str
    status: list[Annotated[str, msgspec.Meta(pattern="^(OPEN|CLOSE)$")]]
    contentToRetrieve: list[str] | None = None


class Link(msgspec.Struct):
    rel: str
    href: str


class Metadata(msgspec.Struct, kw_only=True, omit_defaults=True):
    count: int
    self: Link
    next: Link | None = None
    prev: Link | None = None
    shardsStatusResult: dict[str, bool] = msgspec.field(
        default_factory=lambda: {"partialResult": False}
    )


class HistoryPage(msgspec.Struct, kw_only=True):
    _metadata: Metadata = msgspec.field(name="_metadata")
    conversationHistoryRecords: list[dict[str, Any]]


class HistoryError(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: int
    message: str
    errors: list[FieldError] | None = None
    requestId: str | None = None


def render_error(exc: SdehubError, request: Request) -> Response:
    body = HistoryError(
        status=exc.status,
        message=exc.message,
        errors=exc.errors or None,
        requestId=request.scope.get("state", {}).get("request_id"),
    )
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": 'Bearer realm="sdehub", OAuth realm="sdehub"'}
    return JSON(body, status_code=exc.status, headers=headers)


def _decode(body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.convert(decode_json(body), kind)
    except msgspec.ValidationError as exc:
        text = str(exc)
        path = text.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in text else "$"
        raise BadRequest(text, errors=[FieldError(path, text.split(" - at ")[0])]) from None


def _content(raw: list[str] | None) -> frozenset[str]:
    if raw is None:
        return msghist.DEFAULT_CONTENT
    unknown = [c for c in raw if c not in msghist.CONTENT]
    if unknown:
        raise BadRequest(
            f"contentToRetrieve has unknown values {unknown}",
            errors=[FieldError("$.contentToRetrieve", f"expected any of {list(msghist.CONTENT)}")],
        )
    return frozenset(raw)


def _version(request: Request) -> int:
    return int_param(request, "v", 1, lo=1, hi=2)


def _range(r: Range, path: str, *, required: bool) -> tuple[int, int] | None:
    if r.from_ is None or r.to is None:
        if not required and r.from_ is None and r.to is None:
            return None
        raise BadRequest(
            f"{path} needs both from and to (epoch ms)",
            errors=[FieldError(path, "expected {from, to}")],
        )
    # Bounds are inclusive and widened to whole 10-minute steps, as documented.
    lo = r.from_ - r.from_ % TEN_MINUTES
    hi = r.to if r.to % TEN_MINUTES == 0 else r.to + TEN_MINUTES - r.to % TEN_MINUTES
    if hi < lo:
        raise BadRequest(f"{path}.to is before {path}.from", errors=[FieldError(path, "empty")])
    if hi - lo > MAX_SPAN_MS:
        raise BadRequest(
            f"{path} spans more than three months (92 days)",
            errors=[FieldError(path, "the range may span at most 92 days")],
        )
    return lo, hi


def _keyword(text: str) -> list[str]:
    """A quoted keyword is one phrase; otherwise each word must appear in a message."""
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
        phrase = stripped[1:-1].strip().lower()
        return [phrase] if phrase else []
    return [w.lower() for w in stripped.split() if w]


def criteria(body: SearchBody, sort: str, now_ms: int) -> Criteria:
    start = _range(body.start, "$.start", required=True)
    assert start is not None
    end = _range(body.end, "$.end", required=False) if body.end else None
    duration = body.duration or Range()
    matches = []
    for key, value in (body.sdeSearch or {}).items():
        if key not in SEARCH_KEYS:
            raise BadRequest(
                f"sdeSearch has no key {key!r}",
                errors=[FieldError(f"$.sdeSearch.{key}", f"expected one of {list(SEARCH_KEYS)}")],
            )
        match = parse(key, value)
        if match is not None:
            matches.append(match)
    field, _, direction = (sort or "start:desc").partition(":")
    if field not in ("start", "end") or direction.lower() not in ("", "asc", "desc"):
        raise BadRequest(
            f"sort {sort!r} is not start|end[:asc|desc]",
            errors=[FieldError("$query.sort", "expected start or end, :asc or :desc")],
        )
    skills = [str(s) for s in (body.skillIds or []) + (body.latestSkillIds or [])]
    agents = [str(a) for a in (body.agentIds or []) + (body.latestAgentIds or [])]
    fragments = _keyword(body.keyword) if body.keyword else []
    return Criteria(
        start_from=start[0],
        start_to=start[1],
        end_from=end[0] if end else None,
        end_to=end[1] if end else None,
        states=body.status or (),
        skill_ids=skills,
        agent_ids=agents,
        keywords=[fragments] if fragments else [],
        duration_from=duration.from_,
        duration_to=duration.to,
        sde_matches=matches,
        survey=_survey_filter(body.agentSurveySearch),
        sort_by=field,
        descending=direction.lower() != "asc",
        now_ms=now_ms,
    )


def _survey_filter(search: AgentSurveySearch | None) -> SurveyFilter | None:
    if search is None:
        return None
    wanted = SurveyFilter(
        pending=search.pendingAgentSurvey or (),
        survey_ids=search.surveyId or (),
        question_ids=search.questionId or (),
        question_names=search.questionName or (),
        question_keywords=[k.lower() for k in search.questionKeywords or ()],
        answer_keywords=[k.lower() for k in search.answerKeywords or ()],
    )
    return wanted


class MessagingHistory:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _caller(self, request: Request, account_id: str) -> None:
        auth = request.headers.get("authorization", "")
        if auth[:6].lower() == "oauth ":
            await self.svc.apikeys.verify(account_id, request)
        else:
            await require_agent(self.svc, request, account_id)

    def _page(
        self, request: Request, count: int, offset: int, limit: int, records: list[dict[str, Any]]
    ) -> HistoryPage:
        def link(rel: str, at: int) -> Link:
            url = request.url.include_query_params(offset=at, limit=limit)
            return Link(rel, str(url))

        meta = Metadata(count=count, self=link("self", offset))
        if offset + limit < count:
            meta.next = link("next", offset + limit)
        if offset > 0:
            meta.prev = link("prev", max(0, offset - limit))
        return HistoryPage(_metadata=meta, conversationHistoryRecords=records)

    async def _records(self, account_id: str, ids: list[str], ask: Ask) -> list[dict[str, Any]]:
        snaps = await self.svc.db.read(lambda c: msghist.snapshots(c, account_id, ids))
        now = self.svc.clock.now_ms()
        return [msghist.record(s, ask, now_ms=now) for s in snaps]

    async def search(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        await self._caller(request, account_id)
        offset = int_param(request, "offset", 0, lo=0, hi=10**9)
        limit = int_param(request, "limit", 50, lo=1, hi=100)
        body = _decode(await request.body(), SearchBody)
        query = criteria(body, request.query_params.get("sort", ""), self.svc.clock.now_ms())
        ask = Ask(
            content=_content(body.contentToRetrieve), version=_version(request), sdes="latest"
        )
        count, ids = await self.svc.db.read(
            lambda c: history_store.search(c, account_id, query, offset=offset, limit=limit)
        )
        records = await self._records(account_id, ids, ask)
        return JSON(self._page(request, count, offset, limit, records))

    async def by_id(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        await self._caller(request, account_id)
        body = _decode(await request.body(), ByIdBody)
        ids = list(
            dict.fromkeys([*(body.conversationIds or []), *filter(None, [body.conversationId])])
        )
        if not ids:
            raise BadRequest(
                "give conversationId or conversationIds",
                errors=[FieldError("$", "expected conversationId or conversationIds")],
            )
        caps = msghist.parse_caps(body.cappingConfiguration) if body.cappingConfiguration else None
        ask = Ask(content=_content(body.contentToRetrieve), version=_version(request), caps=caps)
        records = await self._records(account_id, ids, ask)
        return JSON(self._page(request, len(records), 0, max(len(ids), 1), records))

    async def by_consumer(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        await self._caller(request, account_id)
        body = _decode(await request.body(), ByConsumerBody)
        ids = await self.svc.db.read(
            lambda c: history_store.conversations_of_consumer(
                c, account_id, body.consumer, body.status
            )
        )
        ask = Ask(content=_content(body.contentToRetrieve), version=_version(request))
        records = await self._records(account_id, ids, ask)
        return JSON(self._page(request, len(records), 0, max(len(ids), 1), records))

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        errors = {
            400: Resp("Invalid filters or paging.", HistoryError),
            401: Resp("Missing or invalid agent bearer or OAuth 1.0 signature.", HistoryError),
        }
        common = (
            Param("v", int, False, "1 (default): authenticated SDEs, string values; 2: typed."),
            Param("source", str, False, "The caller's name (accepted, not checked)."),
        )
        security = ("agentBearer", "oauth1")
        ok = {200: Resp("A page of conversation records.", HistoryPage)}
        return [
            Operation(
                "POST",
                f"{PREFIX}/search",
                g(self.search),
                "Search conversations (Messaging Interactions)",
                "msghist",
                {**ok, **errors},
                params=(
                    Param("offset", int, False, "Records to skip (default 0)."),
                    Param("limit", int, False, "Records per page (default 50, max 100)."),
                    Param("sort", str, False, "start|end with :asc or :desc (start:desc)."),
                    *common,
                ),
                body=SearchBody,
                security=security,
            ),
            Operation(
                "POST",
                f"{PREFIX}/conversation/search",
                g(self.by_id),
                "Conversations by id, with every SDE (Messaging Interactions)",
                "msghist",
                {**ok, **errors},
                params=common,
                body=ByIdBody,
                security=security,
            ),
            Operation(
                "POST",
                f"{PREFIX}/consumer/search",
                g(self.by_consumer),
                "Conversations of a consumer (Messaging Interactions)",
                "msghist",
                {**ok, **errors},
                params=common,
                body=ByConsumerBody,
                security=security,
            ),
        ]
