"""The admin API of an account's targeting set-up: the whole catalog, one item of it, its
revisions, why a visit is (not) offered each engagement, and the goals reached.

Authorised by an agent bearer. Every change stores a new revision of the whole catalog, which must
stay valid (every error is answered with its path). ``If-Match: <revision>`` (or ``"<revision>"``)
makes a change conditional: 409 when the catalog has moved on. Answers carry the revision in
``ETag``. Errors use sdehub's own error body (:mod:`sdehub.api.common`).
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sdehub.api.common import ErrorBody, if_match, int_param, render_error, require_agent
from sdehub.api.routing import JSON, Operation, Param, Resp, guarded
from sdehub.bodies import decode_json
from sdehub.campaigns import COLLECTIONS
from sdehub.errors import BadRequest, NotFound
from sdehub.model.campaigns import Catalog
from sdehub.model.validation import FieldError
from sdehub.services import Services
from sdehub.store.catalogs import GoalEvent
from sdehub.targeting import Verdict

PREFIX = "/api/account/{accountId}/admin"


class CatalogAnswer(msgspec.Struct, kw_only=True):
    revision: int
    catalog: dict[str, Any]
    createdTime: int | None = None
    author: str | None = None
    note: str | None = None


class Saved(msgspec.Struct, kw_only=True):
    revision: int


class RevisionInfo(msgspec.Struct, kw_only=True):
    revision: int
    createdTime: int
    author: str | None
    note: str | None


class GoalReachedRow(msgspec.Struct, kw_only=True):
    id: int | None
    visitorId: str
    sessionId: str
    goalId: str
    goalType: str
    campaignId: str | None
    engagementId: str | None
    conversationId: str | None
    value: float | None
    currency: str | None
    duplicate: bool
    dedupKey: str
    source: str
    reachedTime: int


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every collection present (stored documents omit empty ones)."""
    return {name: document.get(name, []) for name in COLLECTIONS}


def _id(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not raw.isdigit() or int(raw) < 1:
        raise NotFound(f"{name} must be a positive number, got {raw!r}")
    return int(raw)


def _collection(request: Request) -> str:
    name: str = request.path_params["collection"]
    if name not in COLLECTIONS:
        raise NotFound(f"unknown collection {name!r}; known: {', '.join(COLLECTIONS)}")
    return name


class AdminApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _agent(self, request: Request) -> tuple[str, str]:
        account_id = request.path_params["accountId"]
        agent = await require_agent(self.svc, request, account_id)
        return account_id, agent.login_name or agent.user_id

    async def _document(self, account_id: str) -> tuple[int, dict[str, Any]]:
        latest = await self.svc.catalogs.latest(account_id)
        if latest is None:
            return 0, complete({})
        return latest.revision, complete(latest.document)

    def _saved(self, revision: int, status: int = 200) -> Response:
        return JSON(Saved(revision=revision), status_code=status, headers={"ETag": f'"{revision}"'})

    async def get_catalog(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        latest = await self.svc.catalogs.latest(account_id)
        if latest is None:
            answer = CatalogAnswer(revision=0, catalog=complete({}))
        else:
            answer = CatalogAnswer(
                revision=latest.revision,
                catalog=complete(latest.document),
                createdTime=latest.created_ms,
                author=latest.author,
                note=latest.note,
            )
        return JSON(answer, headers={"ETag": f'"{answer.revision}"'})

    async def put_catalog(self, request: Request) -> Response:
        account_id, author = await self._agent(request)
        document = decode_json(await request.body())
        revision = await self.svc.catalogs.replace(
            account_id, document, expected=if_match(request), author=author,
            note=request.query_params.get("note"),
        )  # fmt: skip
        return self._saved(revision)

    async def revisions(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        before = int_param(request, "before", 2**31 - 1, lo=1, hi=2**31 - 1)
        limit = int_param(request, "limit", 50, lo=1, hi=500)
        rows = await self.svc.catalogs.history(account_id, before=before, limit=limit)
        return JSON(
            [
                RevisionInfo(
                    revision=r.revision, createdTime=r.created_ms, author=r.author, note=r.note
                )
                for r in rows
            ]
        )

    async def revision(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        r = await self.svc.catalogs.revision(account_id, _id(request, "revision"))
        answer = CatalogAnswer(
            revision=r.revision,
            catalog=complete(r.document),
            createdTime=r.created_ms,
            author=r.author,
            note=r.note,
        )
        return JSON(answer, headers={"ETag": f'"{r.revision}"'})

    async def list_items(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        revision, document = await self._document(account_id)
        items = document.get(_collection(request), [])
        return JSON(items, headers={"ETag": f'"{revision}"'})

    async def get_item(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        collection, item_id = _collection(request), _id(request, "itemId")
        revision, document = await self._document(account_id)
        for item in document.get(collection, []):
            if item.get("id") == item_id:
                return JSON(item, headers={"ETag": f'"{revision}"'})
        raise NotFound(f"no item of {collection} has id {item_id}")

    async def _put(self, request: Request, collection: str, campaign_id: int | None) -> Response:
        account_id, author = await self._agent(request)
        item_id = _id(request, "itemId")
        item = decode_json(await request.body())
        if not isinstance(item, dict):
            raise BadRequest(
                "the body must be a JSON object (the item)",
                errors=[FieldError("$", "expected an object")],
            )
        if "id" in item and item["id"] != item_id:
            raise BadRequest(
                f"the body's id ({item['id']!r}) differs from the path's ({item_id})",
                errors=[FieldError("$.id", f"expected {item_id} or nothing")],
            )
        revision = await self.svc.catalogs.edit(
            account_id, collection, item_id, item, expected=if_match(request),
            campaign_id=campaign_id, author=author,
        )  # fmt: skip
        return self._saved(revision)

    async def _delete(self, request: Request, collection: str, campaign_id: int | None) -> Response:
        account_id, author = await self._agent(request)
        revision = await self.svc.catalogs.edit(
            account_id, collection, _id(request, "itemId"), None, expected=if_match(request),
            campaign_id=campaign_id, author=author,
        )  # fmt: skip
        return self._saved(revision)

    async def put_item(self, request: Request) -> Response:
        return await self._put(request, _collection(request), None)

    async def delete_item(self, request: Request) -> Response:
        return await self._delete(request, _collection(request), None)

    async def put_engagement(self, request: Request) -> Response:
        return await self._put(request, "engagements", _id(request, "campaignId"))

    async def delete_engagement(self, request: Request) -> Response:
        return await self._delete(request, "engagements", _id(request, "campaignId"))

    async def explain(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        vid, sid = request.query_params.get("vid"), request.query_params.get("sid")
        if not vid or not sid:
            raise BadRequest(
                "the query parameters vid and sid (the visit) are required",
                errors=[FieldError("$query.vid" if not vid else "$query.sid", "required")],
            )
        return JSON(await self.svc.catalogs.explain(account_id, vid, sid))

    async def goals(self, request: Request) -> Response:
        account_id, _ = await self._agent(request)
        now = self.svc.clock.now_ms()
        since = int_param(request, "from", now - 86_400_000, lo=0, hi=2**62)
        until = int_param(request, "to", now + 1, lo=0, hi=2**62)
        rows = await self.svc.catalogs.goals(account_id, since, until)
        return JSON([goal_row(g) for g in rows])

    def operations(self) -> list[Operation]:
        g = guarded(render_error)
        bearer = ("agentBearer",)
        err = ErrorBody
        common = {
            401: Resp("Missing or invalid agent bearer.", err),
            404: Resp("Unknown collection, item or revision.", err),
        }
        change = {
            200: Resp("Stored as a new revision (also in ETag).", Saved),
            400: Resp("The catalog would be invalid; every problem with its path.", err),
            409: Resp("If-Match names an older revision.", err),
            **common,
        }
        match = (Param("If-Match", str, False, "The revision the change was made from.", "header"),)
        coll = f"{PREFIX}/{{collection}}"
        engagement = f"{PREFIX}/campaigns/{{campaignId}}/engagements/{{itemId}}"

        def op(
            method: str, path: str, fn: Any, summary: str, responses: dict[int, Resp], **kw: Any
        ) -> Operation:
            return Operation(
                method, path, g(fn), summary, "admin", responses, security=bearer, **kw
            )

        return [
            op(
                "GET",
                f"{PREFIX}/catalog",
                self.get_catalog,
                "The account's targeting set-up",
                {
                    200: Resp("The latest revision (0: nothing configured).", CatalogAnswer),
                    **common,
                },
            ),
            op(
                "PUT",
                f"{PREFIX}/catalog",
                self.put_catalog,
                "Replace the whole set-up",
                change,
                params=(*match, Param("note", str, False, "Kept with the revision.")),
                body=Catalog,
            ),
            op(
                "GET",
                f"{PREFIX}/catalog/revisions",
                self.revisions,
                "Revision history",
                {200: Resp("Newest first.", list[RevisionInfo]), **common},
                params=(
                    Param("before", int, False, "Older than this revision."),
                    Param("limit", int, False, "At most this many (1-500)."),
                ),
            ),
            op(
                "GET",
                f"{PREFIX}/catalog/revisions/{{revision}}",
                self.revision,
                "One revision",
                {200: Resp("That revision.", CatalogAnswer), **common},
            ),
            op(
                "GET",
                f"{PREFIX}/targeting/explain",
                self.explain,
                "Why each engagement is or is not offered to a visit now",
                {200: Resp("One verdict per engagement.", list[Verdict]), **common},
                params=(
                    Param("vid", str, True, "Visitor id."),
                    Param("sid", str, True, "Session id."),
                ),
            ),
            op(
                "GET",
                f"{PREFIX}/goals/reached",
                self.goals,
                "Goals reached in visits",
                {200: Resp("Oldest first.", list[GoalReachedRow]), **common},
                params=(
                    Param("from", int, False, "Epoch ms, inclusive (default: a day ago)."),
                    Param("to", int, False, "Epoch ms, exclusive (default: now)."),
                ),
            ),
            op(
                "PUT",
                engagement,
                self.put_engagement,
                "Put an engagement of a campaign",
                change,
                params=match,
                body=dict[str, Any],
            ),
            op(
                "DELETE",
                engagement,
                self.delete_engagement,
                "Delete an engagement",
                change,
                params=match,
            ),
            op(
                "GET",
                coll,
                self.list_items,
                "The items of a collection",
                {200: Resp("The items.", list[dict[str, Any]]), **common},
            ),
            op(
                "GET",
                f"{coll}/{{itemId}}",
                self.get_item,
                "One item",
                {200: Resp("The item.", dict[str, Any]), **common},
            ),
            op(
                "PUT",
                f"{coll}/{{itemId}}",
                self.put_item,
                "Put (create or replace) an item",
                change,
                params=match,
                body=dict[str, Any],
            ),
            op(
                "DELETE",
                f"{coll}/{{itemId}}",
                self.delete_item,
                "Delete an item",
                change,
                params=match,
            ),
        ]


def goal_row(g: GoalEvent) -> GoalReachedRow:
    return GoalReachedRow(
        id=g.id,
        visitorId=g.visitor_id,
        sessionId=g.session_id,
        goalId=g.goal_id,
        goalType=g.goal_type,
        campaignId=g.campaign_id,
        engagementId=g.engagement_id,
        conversationId=g.conversation_id,
        value=g.value,
        currency=g.currency,
        duplicate=g.duplicate,
        dedupKey=g.dedup_key,
        source=g.source,
        reachedTime=g.reached_ms,
    )
