"""The web journey of a conversation over HTTP (agent bearer), for the agent workspace page: the
visit it came from, its pages with their sections and URLs, and the engagements offered there
(:mod:`sdehub.journey`)."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.common import ErrorBody, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Resp, guarded
from sdehub.journey import Journey, journey
from sdehub.services import Services
from sdehub.store.visits import Offer, Page

PATH = "/api/account/{accountId}/agent-workspace/conversations/{conversationId}/journey"
SECTION = "sec://"


class VisitInfo(msgspec.Struct, kw_only=True):
    visitorId: str
    sessionId: str
    startTime: int
    lastTime: int
    returningVisitor: bool


class JourneyPage(msgspec.Struct, kw_only=True):
    pageId: str
    firstTime: int
    lastTime: int
    sections: list[str]
    """The ``sec://`` entry points, without the scheme."""
    urls: list[str]
    """The entry points that are web addresses (the web tag reports the page's own)."""
    entryPoints: list[str]
    """Everything the page reported, as sent."""


class JourneyEngagement(msgspec.Struct, kw_only=True):
    contextId: str
    campaignId: str
    engagementId: str
    pageId: str
    offeredTime: int


class JourneyAnswer(msgspec.Struct, kw_only=True):
    conversationId: str
    visit: VisitInfo | None
    """None when the conversation did not come from a web visit (or the visit is gone)."""
    pages: list[JourneyPage]
    engagements: list[JourneyEngagement]


def _page(p: Page) -> JourneyPage:
    return JourneyPage(
        pageId=p.page_id,
        firstTime=p.first_ms,
        lastTime=p.last_ms,
        sections=[e.removeprefix(SECTION) for e in p.entry_points if e.startswith(SECTION)],
        urls=[e for e in p.entry_points if e.startswith(("http://", "https://"))],
        entryPoints=list(p.entry_points),
    )


def _engagement(o: Offer) -> JourneyEngagement:
    return JourneyEngagement(
        contextId=o.context_id,
        campaignId=o.campaign_id,
        engagementId=o.engagement_id,
        pageId=o.page_id,
        offeredTime=o.offered_ms,
    )


def answer(j: Journey) -> JourneyAnswer:
    v = j.visit
    return JourneyAnswer(
        conversationId=j.conversation_id,
        visit=None
        if v is None
        else VisitInfo(
            visitorId=v.visitor_id,
            sessionId=v.session_id,
            startTime=v.created_ms,
            lastTime=v.last_ms,
            returningVisitor=v.returning_visitor,
        ),
        pages=[_page(p) for p in j.pages],
        engagements=[_engagement(o) for o in j.offers],
    )


class JourneyApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def get(self, request: Request) -> Response:
        account_id = request.path_params["accountId"]
        await require_agent(self.svc, request, account_id)
        found = await journey(self.svc.db, account_id, request.path_params["conversationId"])
        return JSON(answer(found))

    def operations(self) -> list[Operation]:
        return [
            Operation(
                "GET",
                PATH,
                guarded(render_error)(self.get),
                "The web journey a conversation came from: pages, sections, engagements",
                "agent-workspace",
                {
                    200: Resp("The visit (null: none), its pages and offers.", JourneyAnswer),
                    401: Resp("Missing or invalid agent bearer.", ErrorBody),
                    404: Resp("Unknown conversation.", ErrorBody),
                },
                security=("agentBearer",),
            )
        ]
