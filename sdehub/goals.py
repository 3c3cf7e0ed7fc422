"""Goals reached in a visit (consume.md §5.3), evaluated when the visit changes.

Call :func:`reached` after new SDE entries arrive, a page is added or a conversation starts,
passing every :class:`GoalReached` already recorded for this visit as ``previous``; it returns
only what is new. Feeding the same entries again returns nothing: an entry whose ``seq`` is in
``previous`` is skipped, and one that reached nothing reaches nothing again.

When a goal is reached:

* ``purchase``: a Transaction whose ``total`` is more than ``minTotal`` (any Transaction when
  ``minTotal`` is absent); the currency is ignored. ``lead``: any Lead. ``serviceActivity``: a
  Service Activity whose topic (casefolded) is one of the goal's topics and whose status is one
  of its success statuses. Each matching event counts.
* ``pageViews``: the visit's Nth page, and each page after it unless ``countOncePerVisit``.
* ``interact``: the first conversation of the session; several conversations are one reach
  (per campaign, see attribution below).
* ``countOncePerVisit`` caps every type at one counted reach per goal and campaign.
* Only goals some campaign uses are evaluated (whatever that campaign's status: a campaign
  unpublished mid-visit keeps the conversions its engagements earned).

De-duplication is LivePerson's built-in one, per session and not optional: a Transaction
repeating an ``orderId``, a Lead repeating a ``leadId``, a Service Activity repeating
``serviceId`` + ``topic`` + ``status`` is still returned but with ``duplicate=True``, and reports
must not count it. The key is ``dedupKey`` (a JSON array: ``["purchase","DRV1534XC"]``); events
without the id are never duplicates.

Attribution (our rule; the docs describe report-side models, not this): a reach belongs to each
campaign whose goal it is and whose engagement the visitor met in this session at or before the
reach — a conversation from one of its engagements, else an impression ``exposed`` or
``accepted``. The engagement is the one of the latest such conversation (a conversation beats a
content engagement, as the attribution docs say), else of the latest such impression, and
``conversationId`` is that conversation's (the reach is *assisted*). When no campaign of the goal
was met, one un-attributed reach is returned (``campaignId`` None): a self-serve conversion,
which the goal tracker leaves out but campaign reporting can still count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain

import msgspec

from sdehub.model.campaigns import Campaign, Catalog, Goal, GoalType
from sdehub.model.provenance import Entry
from sdehub.model.types import Event, Lead, ServiceActivity, Transaction
from sdehub.model.visit import Visit

Attribution = tuple[int | None, int | None, str | None]
"""(campaign id, engagement id, conversation id)"""
_SDE_GOALS: dict[type, GoalType] = {
    Transaction: "purchase",
    Lead: "lead",
    ServiceActivity: "serviceActivity",
}


class GoalReached(msgspec.Struct, kw_only=True, omit_defaults=True):
    goalId: int
    goalType: GoalType
    atMs: int
    """When: the server time of the entry, page or conversation that reached it."""
    campaignId: int | None = None
    engagementId: int | None = None
    conversationId: str | None = None
    value: float | None = None
    """The Transaction total or Lead value."""
    currency: str | None = None
    dedupKey: str | None = None
    duplicate: bool = False
    seq: int | None = None
    """The entry that reached it (SDE goals)."""
    pages: int | None = None
    """The page count that reached it (page-view goals)."""
    reportedByAgent: bool = False
    """The SDE came from an agent (conversation outcomes / agent survey, consume.md §4.1)."""


def dedup_key(record: Event) -> str | None:
    """The key LivePerson de-duplicates a Transaction, Lead or Service Activity by."""
    parts: list[object] | None = None
    if isinstance(record, Transaction) and record.orderId is not None:
        parts = ["purchase", record.orderId]
    elif isinstance(record, Lead) and record.lead.leadId is not None:
        parts = ["lead", record.lead.leadId]
    elif isinstance(record, ServiceActivity) and record.service.serviceId is not None:
        s = record.service
        parts = ["service", s.serviceId, s.topic, s.status]
    return None if parts is None else msgspec.json.encode(parts).decode()


def reached(
    visit: Visit,
    catalog: Catalog,
    new_entries: Iterable[Entry] = (),
    *,
    previous: Iterable[GoalReached] = (),
) -> list[GoalReached]:
    """The goals reached since ``previous``: by ``new_entries`` and by the visit's pages and
    conversations. Duplicates are included, flagged."""
    new_entries = list(new_entries)
    previous = list(previous)
    tracker = _Tracker(visit, catalog, previous)
    out: list[GoalReached] = []
    evaluated = {r.seq for r in previous if r.seq is not None}
    # Where each id was first reported: a later report of it is the duplicate. Earlier records
    # count too, for entries the visit no longer holds.
    reports = chain(
        ((r.dedupKey, r.seq) for r in previous if r.seq is not None),
        ((dedup_key(e.record), e.meta.seq) for e in chain(visit.entries, new_entries)),
    )
    first_seq: dict[str, int] = {}
    for key, seq in reports:
        if key is not None:
            first_seq[key] = min(first_seq.get(key, seq), seq)
    for entry in sorted(new_entries, key=lambda e: e.meta.seq):
        if entry.meta.seq in evaluated:
            continue
        evaluated.add(entry.meta.seq)
        out += tracker.sde(entry, first_seq)
    out += tracker.page_views()
    out += tracker.interactions()
    return sorted(out, key=lambda r: (r.atMs, r.seq or 0, r.goalId, r.campaignId or 0))


class _Tracker:
    """The goals of a catalog and what ``previous`` already recorded, for one evaluation."""

    def __init__(self, visit: Visit, catalog: Catalog, previous: Sequence[GoalReached]) -> None:
        self.visit = visit
        self.campaigns: dict[int, list[Campaign]] = defaultdict(list)
        for campaign in sorted(catalog.campaigns, key=lambda c: c.id):
            self.campaigns[campaign.goalId].append(campaign)
        self.goals: dict[str, list[Goal]] = defaultdict(list)
        for goal in sorted(catalog.goals, key=lambda g: g.id):
            if goal.id in self.campaigns:
                self.goals[goal.type].append(goal)
        self.done = {(r.goalId, r.campaignId, r.dedupKey) for r in previous}
        self.counted = {(r.goalId, r.campaignId) for r in previous if not r.duplicate}

    def sde(self, entry: Entry, first_seq: dict[str, int]) -> list[GoalReached]:
        record, meta = entry.record, entry.meta
        goal_type = _SDE_GOALS.get(type(record))
        if goal_type is None:
            return []
        key = dedup_key(record)
        duplicate = key is not None and first_seq[key] < meta.seq
        value, currency = _value(record)
        out = []
        for goal in self.goals[goal_type]:
            if not _satisfies(goal, record):
                continue
            touches = self.attribution(goal, meta.serverTs)
            for campaign_id, engagement_id, conversation_id in touches:
                if not duplicate and not self.count(goal, campaign_id):
                    continue
                out.append(
                    GoalReached(
                        goalId=goal.id,
                        goalType=goal.type,
                        atMs=meta.serverTs,
                        campaignId=campaign_id,
                        engagementId=engagement_id,
                        conversationId=conversation_id,
                        value=value,
                        currency=currency,
                        dedupKey=key,
                        duplicate=duplicate,
                        seq=meta.seq,
                        reportedByAgent=meta.source == "agent",
                    )
                )
        return out

    def page_views(self) -> list[GoalReached]:
        pages = self.visit.pages
        out = []
        for goal in self.goals["pageViews"]:
            n = goal.pages or 1
            if goal.countOncePerVisit:
                reaches = [(n, _key("pageViews", goal.id))]
            else:
                reaches = [(c, _key("pageViews", goal.id, c)) for c in range(n, len(pages) + 1)]
            for count, key in reaches:
                if count <= len(pages):
                    out += self._once(goal, key, pages[count - 1].at_ms, pages=count)
        return out

    def interactions(self) -> list[GoalReached]:
        conversations = sorted(self.visit.conversations, key=lambda c: c.started_ms)
        if not conversations:
            return []
        out = []
        for goal in self.goals["interact"]:
            key = _key("interact", goal.id)
            attributed = False
            for campaign in self.campaigns[goal.id]:
                mine = [c for c in conversations if _of(campaign, c.campaign_id, c.engagement_id)]
                if mine:
                    attributed = True
                    first = mine[0]
                    touch = (campaign.id, first.engagement_id, first.conversation_id)
                    out += self._once(goal, key, first.started_ms, touches=[touch])
            if not attributed:
                out += self._once(goal, key, conversations[0].started_ms)
        return out

    def _once(
        self,
        goal: Goal,
        key: str,
        at_ms: int,
        *,
        pages: int | None = None,
        touches: list[Attribution] | None = None,
    ) -> list[GoalReached]:
        """A reach identified by ``key`` (a page count, the session's interaction), returned
        once per campaign."""
        out = []
        for campaign_id, engagement_id, conversation_id in touches or self.attribution(goal, at_ms):
            if (goal.id, campaign_id, key) in self.done or not self.count(goal, campaign_id):
                continue
            self.done.add((goal.id, campaign_id, key))
            out.append(
                GoalReached(
                    goalId=goal.id,
                    goalType=goal.type,
                    atMs=at_ms,
                    campaignId=campaign_id,
                    engagementId=engagement_id,
                    conversationId=conversation_id,
                    dedupKey=key,
                    pages=pages,
                )
            )
        return out

    def count(self, goal: Goal, campaign_id: int | None) -> bool:
        """Whether one more counted reach is allowed (``countOncePerVisit``), and note it."""
        if goal.countOncePerVisit and (goal.id, campaign_id) in self.counted:
            return False
        self.counted.add((goal.id, campaign_id))
        return True

    def attribution(self, goal: Goal, at_ms: int) -> list[Attribution]:
        out: list[Attribution] = []
        for campaign in self.campaigns[goal.id]:
            conversations = [
                c
                for c in self.visit.conversations
                if c.started_ms <= at_ms and _of(campaign, c.campaign_id, c.engagement_id)
            ]
            if conversations:
                last = max(conversations, key=lambda c: c.started_ms)
                out.append((campaign.id, last.engagement_id, last.conversation_id))
                continue
            impressions = [
                i
                for i in self.visit.impressions
                if i.kind in ("exposed", "accepted")
                and i.at_ms <= at_ms
                and _of(campaign, i.campaign_id, i.engagement_id)
            ]
            if impressions:
                latest = max(impressions, key=lambda i: i.at_ms)
                out.append((campaign.id, latest.engagement_id, None))
        return out or [(None, None, None)]


def _of(campaign: Campaign, campaign_id: int | None, engagement_id: int | None) -> bool:
    """Whether a touch names this campaign, or else one of its engagements."""
    if campaign_id is not None:
        return campaign_id == campaign.id
    return any(e.id == engagement_id for e in campaign.engagements)


def _key(*parts: object) -> str:
    return msgspec.json.encode(parts).decode()


def _satisfies(goal: Goal, record: Event) -> bool:
    if isinstance(record, Transaction):
        total = record.total
        return goal.minTotal is None or (total is not None and total > goal.minTotal)
    if isinstance(record, ServiceActivity):
        topic, status = record.service.topic, record.service.status
        topics = {t.casefold() for t in goal.topics}
        return topic is not None and topic.casefold() in topics and status in goal.statuses
    return isinstance(record, Lead)


def _value(record: Event) -> tuple[float | None, str | None]:
    if isinstance(record, Transaction):
        return record.total, record.currency
    if isinstance(record, Lead):
        return record.lead.value, record.lead.currency
    return None, None
