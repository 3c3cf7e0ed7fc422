"""An account's campaigns at work: the catalog (skills, goals, locations, visitor profiles and
behaviours, campaigns and engagements) stored by revision, and the bridge from a stored visit to
targeting (:mod:`sdehub.targeting`) and goals (:mod:`sdehub.goals`).

Targeting and goals run inside the write that changes the visit, so an engagement offered and a
goal reached commit with the SDEs that caused them, or not at all. The compiled catalog is cached
on the database connection per account and revision (SQLAlchemy's ``Connection.info`` lives as long
as the driver connection), so a decision costs one ``SELECT MAX(revision)`` and the evaluation.

Revisions: every change stores a whole new catalog under the next revision number; a change may
name the revision it was made from (``If-Match``) and is refused (409) when another change came
first. Every revision is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import msgspec
from sqlalchemy.engine import Connection

from sdehub.clock import Clock
from sdehub.errors import BadRequest, NotFound, expect_revision
from sdehub.goals import GoalReached, reached
from sdehub.model.campaigns import Catalog, decode_catalog
from sdehub.model.provenance import Entry
from sdehub.model.types import wire_type
from sdehub.model.visit import Conversation, Identity, Page, Visit, impression_of
from sdehub.store import Database, events
from sdehub.store import catalogs as store
from sdehub.store import conversations as conv_store
from sdehub.store import visits as visit_store
from sdehub.store.catalogs import GoalEvent, Revision
from sdehub.targeting import Targeting, Verdict, compile_catalog, explain

_CACHE: Final = "sdehub.catalogs"


# The SDE types that can reach a goal of each type; page views are reached by new pages.
_REACHED_BY: Final = {"purchase": "purchase", "lead": "lead", "service": "serviceActivity"}


class Compiled(msgspec.Struct, frozen=True):
    revision: int
    catalog: Catalog
    targeting: Targeting
    goal_types: frozenset[str]
    """The types of the goals some campaign has."""

    def may_reach(self, entries: Iterable[Entry], new_page: bool) -> bool:
        """Whether these new entries (and page) can reach a goal of this catalog."""
        if new_page and "pageViews" in self.goal_types:
            return True
        return any(_REACHED_BY.get(wire_type(e.record)) in self.goal_types for e in entries)


def current(conn: Connection, account_id: str) -> Compiled | None:
    """The account's latest catalog, compiled; None when it has none."""
    number = store.latest_number(conn, account_id)
    if number == 0:
        return None
    cache: dict[str, Compiled] = conn.info.setdefault(_CACHE, {})
    hit = cache.get(account_id)
    if hit is not None and hit.revision == number:
        return hit
    revision = store.get_revision(conn, account_id, number)
    assert revision is not None
    catalog, errors = decode_catalog(revision.document)
    if catalog is None:  # stored documents were validated when written
        raise RuntimeError(f"catalog revision {number} of {account_id} is invalid: {errors}")
    used = {c.goalId for c in catalog.campaigns}
    goal_types = frozenset(g.type for g in catalog.goals if g.id in used)
    compiled = Compiled(number, catalog, compile_catalog(catalog), goal_types)
    cache[account_id] = compiled
    return compiled


def validated(document: Any) -> Catalog:
    """The catalog a document describes, or :class:`BadRequest` naming every problem."""
    catalog, errors = decode_catalog(document)
    if catalog is None:
        raise BadRequest.from_errors(errors)
    return catalog


def put_catalog(
    conn: Connection,
    account_id: str,
    catalog: Catalog,
    *,
    expected: int | None,
    now_ms: int,
    author: str | None = None,
    note: str | None = None,
) -> int:
    """Store ``catalog`` as the next revision; returns its number."""
    number = store.latest_number(conn, account_id)
    expect_revision("the catalog is", number, expected)
    store.add_revision(
        conn,
        Revision(
            account_id=account_id,
            revision=number + 1,
            document=msgspec.to_builtins(catalog),
            created_ms=now_ms,
            author=author,
            note=note,
        ),
    )
    return number + 1


# --- a stored visit, as targeting and goals read it ------------------------------------------


def visit_model(conn: Connection, account_id: str, visitor_id: str, session_id: str) -> Visit:
    row = visit_store.get_visit(conn, account_id, visitor_id, session_id)
    assert row is not None
    entries = events.for_visit(conn, account_id, visitor_id, session_id)
    props = row.client_properties or {}
    return Visit(
        visitor_id=visitor_id,
        session_id=session_id,
        started_ms=row.created_ms,
        returning=row.returning_visitor,
        device_family=props.get("deviceFamily"),
        os=props.get("os") or props.get("osName"),
        identities=tuple(
            Identity(sub=str(i.get("sub")), acr=str(i.get("acr", "0")), iss=i.get("iss"))
            for i in row.identities or ()
        ),
        pages=tuple(
            Page(page_id=p.page_id, at_ms=p.first_ms, entry_points=tuple(p.entry_points))
            for p in visit_store.pages(conn, account_id, visitor_id, session_id)
        ),
        entries=tuple(entries),
        impressions=tuple(i for i in map(impression_of, entries) if i is not None),
        conversations=tuple(
            Conversation(
                conversation_id=c.conversation_id,
                started_ms=c.created_ms,
                engagement_id=_int(c.engagement_id),
                campaign_id=_int(c.campaign_id),
                closed_ms=c.closed_ms,
            )
            for c in conv_store.conversations_of_visit(conn, account_id, visitor_id, session_id)
        ),
    )


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def engagement_of(compiled: Compiled, engagement_id: str | None) -> tuple[str, str | None] | None:
    """(campaign id, skill id) of an engagement of the catalog."""
    wanted = _int(engagement_id)
    if wanted is None:
        return None
    for campaign in compiled.catalog.campaigns:
        for engagement in campaign.engagements:
            if engagement.id == wanted:
                skill = None if engagement.skillId is None else str(engagement.skillId)
                return str(campaign.id), skill
    return None


def record_goals(
    conn: Connection,
    account_id: str,
    visit: Visit,
    compiled: Compiled,
    new_entries: Iterable[Entry],
    *,
    now_ms: int,
    source: str,
) -> list[GoalEvent]:
    """Evaluate the goals on what just changed in the visit and store what was reached."""
    previous = [
        _reached(g)
        for g in store.goals_of_visit(conn, account_id, visit.visitor_id, visit.session_id)
    ]
    found = reached(visit, compiled.catalog, new_entries, previous=previous)
    stored = []
    for goal in found:
        event = GoalEvent(
            account_id=account_id,
            visitor_id=visit.visitor_id,
            session_id=visit.session_id,
            goal_id=str(goal.goalId),
            goal_type=goal.goalType,
            dedup_key=goal.dedupKey or f"{goal.goalType}:{goal.seq or goal.atMs}",
            duplicate=goal.duplicate,
            source="agent" if goal.reportedByAgent else source,
            reached_ms=goal.atMs or now_ms,
            campaign_id=None if goal.campaignId is None else str(goal.campaignId),
            engagement_id=None if goal.engagementId is None else str(goal.engagementId),
            conversation_id=goal.conversationId,
            value=goal.value,
            currency=goal.currency,
            seq=goal.seq,
            details=msgspec.to_builtins(goal),
        )
        event.id = store.add_goal_event(conn, event)
        stored.append(event)
    return stored


def _reached(event: GoalEvent) -> GoalReached:
    return msgspec.convert(event.details or {}, GoalReached)


# --- the admin operations (in the server's process) ------------------------------------------

COLLECTIONS: Final = (
    "skills",
    "goals",
    "onsiteLocations",
    "visitorProfiles",
    "visitorBehaviors",
    "campaigns",
)


def edited(
    document: dict[str, Any],
    collection: str,
    item_id: int,
    item: dict[str, Any] | None,
    *,
    campaign_id: int | None = None,
) -> dict[str, Any]:
    """``document`` with one item put (``item``) or deleted (None). With ``campaign_id`` the
    collection is that campaign's ``engagements``. Raises :class:`LookupError` for a missing
    item to delete or campaign to edit."""
    document = dict(document)
    if campaign_id is not None:
        campaigns = [dict(c) for c in document.get("campaigns", [])]
        for campaign in campaigns:
            if campaign.get("id") == campaign_id:
                campaign.update(edited(campaign, "engagements", item_id, item))
                break
        else:
            raise LookupError(f"no campaign has id {campaign_id}")
        document["campaigns"] = campaigns
        return document
    items = [i for i in document.get(collection, []) if i.get("id") != item_id]
    if item is None:
        if len(items) == len(document.get(collection, [])):
            raise LookupError(f"no item of {collection} has id {item_id}")
    else:
        at = next(
            (n for n, i in enumerate(document.get(collection, [])) if i.get("id") == item_id),
            len(items),
        )
        items.insert(at, {**item, "id": item_id})
    document[collection] = items
    return document


class Catalogs:
    """The catalog of each account, read and changed by the admin API and the CLI."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def latest(self, account_id: str) -> Revision | None:
        return await self._db.read(lambda c: store.latest(c, account_id))

    async def revision(self, account_id: str, number: int) -> Revision:
        found = await self._db.read(lambda c: store.get_revision(c, account_id, number))
        if found is None:
            raise NotFound(f"the catalog of account {account_id} has no revision {number}")
        return found

    async def history(self, account_id: str, *, before: int, limit: int) -> list[Revision]:
        return await self._db.read(
            lambda c: store.revisions(c, account_id, before=before, limit=limit)
        )

    async def replace(
        self,
        account_id: str,
        document: Any,
        *,
        expected: int | None = None,
        author: str | None = None,
        note: str | None = None,
    ) -> int:
        """Validate and store a whole catalog; returns its revision."""
        catalog = validated(document)
        return await self._db.write(
            put_catalog,
            account_id,
            catalog,
            expected=expected,
            now_ms=self._clock.now_ms(),
            author=author,
            note=note,
        )

    async def edit(
        self,
        account_id: str,
        collection: str,
        item_id: int,
        item: dict[str, Any] | None,
        *,
        expected: int | None = None,
        campaign_id: int | None = None,
        author: str | None = None,
    ) -> int:
        """Put or delete one item; the whole catalog must stay valid."""
        latest = await self.latest(account_id)
        number = latest.revision if latest is not None else 0
        expect_revision("the catalog is", number, expected)
        try:
            document = edited(
                latest.document if latest else {}, collection, item_id, item,
                campaign_id=campaign_id,
            )  # fmt: skip
        except LookupError as exc:
            raise NotFound(str(exc)) from None
        what = f"{'delete' if item is None else 'put'} {collection} {item_id}"
        # The write checks that nobody changed the catalog since it was read here.
        return await self._db.write(
            put_catalog,
            account_id,
            validated(document),
            expected=number,
            now_ms=self._clock.now_ms(),
            author=author,
            note=what,
        )

    async def explain(self, account_id: str, visitor_id: str, session_id: str) -> list[Verdict]:
        """Why each engagement would or would not be offered to a visit now."""
        now = self._clock.now_ms()

        def read(conn: Connection) -> list[Verdict]:
            if visit_store.get_visit(conn, account_id, visitor_id, session_id) is None:
                raise NotFound(f"no visit {visitor_id}/{session_id} on account {account_id}")
            compiled = current(conn, account_id)
            if compiled is None:
                return []
            visit = visit_model(conn, account_id, visitor_id, session_id)
            return explain(visit, compiled.targeting, now)

        return await self._db.read(read)

    async def goals(self, account_id: str, since_ms: int, until_ms: int) -> list[GoalEvent]:
        return await self._db.read(
            lambda c: store.goal_events_between(c, account_id, since_ms, until_ms)
        )
