"""Goals (consume.md §5.3; sdehub.goals): when each goal type is reached, thresholds at the
boundary, the built-in de-duplication, once per visit, and attribution to campaigns."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdehub.goals import GoalReached, dedup_key, reached
from sdehub.model.campaigns import Catalog
from sdehub.model.visit import Conversation, Impression, ImpressionKind, Visit
from tests.test_campaign_model import (
    NOW,
    catalog_of,
    entries_of,
    pages_of,
    raw_catalog,
    sde,
    visit_of,
)
from tests.test_model_validation import decode_one

PURCHASE = sde("purchase")  # total 11.7 USD, orderId DRV1534XC
LEAD = sde("lead")  # value 22.22 USD, leadId xyz123
SERVICE = sde("service")  # "order checkbook", status 0, serviceId service12
FIRST_AT = NOW - 10_000  # when visit_of's first entry arrived (one per second after it)


def goal_catalog(**goal: Any) -> Catalog:
    """Campaign 100 (engagement 200) whose goal 1 is ``goal``."""
    return catalog_of(raw_catalog(goal=goal))


def counted(results: list[GoalReached]) -> list[tuple[float | None, str | None]]:
    return [(r.value, r.currency) for r in results if not r.duplicate]


def purchase(total: float | None = 11.7, order: str | None = "o1", **more: Any) -> dict[str, Any]:
    return sde("purchase", total=total, orderId=order, **more)


def service(status: int, service_id: str | None = "s1", topic: str = "loan") -> dict[str, Any]:
    return sde("service", service={"status": status, "serviceId": service_id, "topic": topic})


def lead(lead_id: str | None) -> dict[str, Any]:
    return sde("lead", lead={"leadId": lead_id})


# --- when a goal is reached ---------------------------------------------------------------

REACH_CASES = [
    pytest.param({"type": "purchase"}, [PURCHASE], [(11.7, "USD")], id="purchase-any-value"),
    pytest.param({"type": "purchase"}, [purchase(None)], [(None, "USD")],
                 id="purchase-any-value-even-none"),
    pytest.param({"type": "purchase", "minTotal": 10}, [PURCHASE], [(11.7, "USD")],
                 id="purchase-more-than"),
    pytest.param({"type": "purchase", "minTotal": 11.7}, [PURCHASE], [],
                 id="purchase-equal-is-not-more"),
    pytest.param({"type": "purchase", "minTotal": 11.69}, [PURCHASE], [(11.7, "USD")],
                 id="purchase-just-more"),
    pytest.param({"type": "purchase", "minTotal": 0}, [purchase(None)], [],
                 id="purchase-threshold-needs-a-total"),
    pytest.param({"type": "purchase", "minTotal": 10}, [purchase(12, currency="JPY")],
                 [(12.0, "JPY")], id="purchase-currency-ignored"),
    pytest.param({"type": "purchase"}, [LEAD, SERVICE, sde("cart"), sde("ctmrinfo")], [],
                 id="purchase-not-other-sdes"),
    pytest.param({"type": "lead"}, [LEAD], [(22.22, "USD")], id="lead"),
    pytest.param({"type": "lead"}, [PURCHASE], [], id="lead-not-a-purchase"),
    pytest.param({"type": "serviceActivity", "topics": ["ORDER CHECKBOOK"], "statuses": [0]},
                 [SERVICE], [(None, None)], id="service-topic-and-success-status"),
    pytest.param({"type": "serviceActivity", "topics": ["order checkbook"], "statuses": [13]},
                 [SERVICE], [], id="service-status-not-a-success"),
    pytest.param({"type": "serviceActivity", "topics": ["loan"], "statuses": [0]},
                 [SERVICE], [], id="service-other-topic"),
    pytest.param({"type": "serviceActivity", "topics": ["loan", "order checkbook"],
                  "statuses": [1, 0]}, [SERVICE], [(None, None)], id="service-any-of-many"),
    pytest.param({"type": "serviceActivity", "topics": ["loan"], "statuses": [0]},
                 [sde("service", service={"topic": None})], [], id="service-without-topic"),
    pytest.param({}, [PURCHASE, LEAD], [], id="interact-is-not-an-sde"),
    pytest.param({"type": "purchase"}, [PURCHASE, purchase(order="o2")],
                 [(11.7, "USD"), (11.7, "USD")], id="every-purchase-counts"),
    pytest.param({"type": "purchase", "countOncePerVisit": True},
                 [PURCHASE, purchase(order="o2")], [(11.7, "USD")], id="once-per-visit"),
]  # fmt: skip


@pytest.mark.parametrize(("goal", "sdes", "expected"), REACH_CASES)
def test_when_a_goal_is_reached(
    goal: dict[str, Any], sdes: list[dict[str, Any]], expected: list[tuple[Any, Any]]
) -> None:
    visit = visit_of(*sdes)
    results = reached(visit, goal_catalog(**goal), visit.entries)
    assert counted(results) == expected
    assert all(r.goalId == 1 and r.goalType == goal.get("type", "interact") for r in results)


def test_a_reach_records_the_event() -> None:
    visit = visit_of(sde("ctmrinfo"), PURCHASE)
    (result,) = reached(visit, goal_catalog(type="purchase"), visit.entries)
    assert msgspec.to_builtins(result) == {
        "goalId": 1, "goalType": "purchase", "atMs": FIRST_AT + 1000, "value": 11.7,
        "currency": "USD", "dedupKey": '["purchase","DRV1534XC"]', "seq": 2,
    }  # fmt: skip


def test_agent_reported_sdes_are_flagged() -> None:
    entries = entries_of(LEAD, source="agent")
    visit = Visit(visitor_id="V", session_id="S", started_ms=0, entries=entries)
    (result,) = reached(visit, goal_catalog(type="lead"), entries)
    assert result.reportedByAgent


def test_only_new_entries_are_evaluated() -> None:
    visit = visit_of(PURCHASE, purchase(order="o2"))
    results = reached(visit, goal_catalog(type="purchase"), visit.entries[1:])
    assert [r.seq for r in results] == [2]
    assert reached(visit, goal_catalog(type="purchase")) == []


def test_a_goal_no_campaign_uses_is_not_evaluated() -> None:
    raw = raw_catalog()
    raw["goals"].append({"id": 2, "type": "purchase"})
    visit = visit_of(PURCHASE)
    assert reached(visit, catalog_of(raw), visit.entries) == []


# --- de-duplication -----------------------------------------------------------------------

DEDUP_CASES = [
    pytest.param({"type": "purchase"}, [purchase(order="o1"), purchase(order="o1")],
                 [False, True], id="purchase-same-order"),
    pytest.param({"type": "purchase"}, [purchase(order="o1"), purchase(order="O1")],
                 [False, False], id="order-ids-are-exact"),
    pytest.param({"type": "purchase"}, [purchase(order="o1"), purchase(order="o2")],
                 [False, False], id="purchase-other-order"),
    pytest.param({"type": "purchase"}, [purchase(order=None), purchase(order=None)],
                 [False, False], id="purchase-without-order-id"),
    pytest.param({"type": "purchase", "minTotal": 10}, [purchase(5), purchase(50)],
                 [True], id="repeat-of-an-order-below-the-threshold"),
    pytest.param({"type": "lead"}, [lead("l1"), lead("l1")], [False, True], id="lead-same-id"),
    pytest.param({"type": "lead"}, [lead("l1"), lead("l2")], [False, False], id="lead-other-id"),
    pytest.param({"type": "lead"}, [lead(None), lead(None)], [False, False], id="lead-without-id"),
    pytest.param({"type": "serviceActivity", "topics": ["loan"], "statuses": [0, 13]},
                 [service(0), service(0)], [False, True], id="service-same-id-topic-status"),
    pytest.param({"type": "serviceActivity", "topics": ["loan"], "statuses": [0, 13]},
                 [service(0), service(13)], [False, False], id="service-status-changed"),
    pytest.param({"type": "serviceActivity", "topics": ["loan", "car"], "statuses": [0]},
                 [service(0), service(0, topic="car")], [False, False], id="service-other-topic"),
    pytest.param({"type": "serviceActivity", "topics": ["loan"], "statuses": [0]},
                 [service(0), service(0, "s2")], [False, False], id="service-other-id"),
    pytest.param({"type": "serviceActivity", "topics": ["loan"], "statuses": [0]},
                 [service(0, None), service(0, None)], [False, False], id="service-without-id"),
    pytest.param({"type": "purchase", "countOncePerVisit": True},
                 [purchase(order="o1"), purchase(order="o1")], [False, True],
                 id="duplicates-are-flagged-even-once-per-visit"),
]  # fmt: skip


@pytest.mark.parametrize(("goal", "sdes", "duplicates"), DEDUP_CASES)
def test_duplicates_are_flagged_not_counted(
    goal: dict[str, Any], sdes: list[dict[str, Any]], duplicates: list[bool]
) -> None:
    catalog = goal_catalog(**goal)
    visit = visit_of(*sdes)
    at_once = reached(visit, catalog, visit.entries)
    assert [r.duplicate for r in at_once] == duplicates
    # The same, reported one at a time.
    previous: list[GoalReached] = []
    for k in range(1, len(sdes) + 1):
        partial = msgspec.structs.replace(visit, entries=visit.entries[:k])
        previous += reached(partial, catalog, visit.entries[k - 1 : k], previous=previous)
    assert previous == at_once


def test_a_duplicate_of_an_earlier_call_is_flagged() -> None:
    catalog = goal_catalog(type="lead")
    visit = visit_of(lead("l1"), lead("l1"))
    first = reached(visit, catalog, visit.entries[:1])
    # Even when the earlier entry is not part of the visit any more (e.g. a trimmed view).
    later = msgspec.structs.replace(visit, entries=visit.entries[1:])
    (again,) = reached(later, catalog, later.entries, previous=first)
    assert again.duplicate and again.dedupKey == first[0].dedupKey == '["lead","l1"]'


def test_feeding_the_same_entries_again_reaches_nothing() -> None:
    catalog = catalog_of(raw_catalog(goal={"type": "purchase"}))
    visit = visit_of(PURCHASE, PURCHASE, pages=pages_of(*["sec://a"] * 3))
    first = reached(visit, catalog, visit.entries)
    assert [r.duplicate for r in first] == [False, True]
    assert reached(visit, catalog, visit.entries, previous=first) == []


@pytest.mark.parametrize(
    ("record", "key"),
    [
        pytest.param(PURCHASE, '["purchase","DRV1534XC"]', id="purchase"),
        pytest.param(LEAD, '["lead","xyz123"]', id="lead"),
        pytest.param(SERVICE, '["service","service12","order checkbook",0]', id="service"),
        pytest.param(sde("service", service={"topic": None}), '["service","service12",null,0]',
                     id="service-without-topic"),
        pytest.param(purchase(order=None), None, id="no-order-id"),
        pytest.param(sde("cart"), None, id="cart"),
    ],
)  # fmt: skip
def test_dedup_keys(record: dict[str, Any], key: str | None) -> None:
    assert dedup_key(decode_one(record)) == key


# --- page views and interaction ------------------------------------------------------------


@pytest.mark.parametrize(
    ("pages", "once", "reached_at"),
    [
        pytest.param(4, False, [], id="one-page-short"),
        pytest.param(5, False, [5], id="exactly-n"),
        pytest.param(7, False, [5, 6, 7], id="each-page-after"),
        pytest.param(7, True, [5], id="once-per-visit"),
    ],
)
def test_page_views(pages: int, once: bool, reached_at: list[int]) -> None:
    catalog = goal_catalog(type="pageViews", pages=5, countOncePerVisit=once)
    visit = visit_of(pages=pages_of(*[f"sec://p{i}" for i in range(pages)]))
    results = reached(visit, catalog)
    assert [r.pages for r in results] == reached_at
    assert [r.atMs for r in results] == [visit.pages[n - 1].at_ms for n in reached_at]
    assert reached(visit, catalog, previous=results) == []


@pytest.mark.parametrize("once", [False, True], ids=["each-page", "once-per-visit"])
def test_page_views_as_the_visit_grows(once: bool) -> None:
    catalog = goal_catalog(type="pageViews", pages=2, countOncePerVisit=once)
    pages = pages_of("sec://a", "sec://b", "sec://c")
    previous: list[GoalReached] = []
    found = []
    for n in range(1, 4):
        new = reached(visit_of(pages=pages[:n]), catalog, previous=previous)
        found.append([r.pages for r in new])
        previous += new
    assert found == ([[], [2], []] if once else [[], [2], [3]])


def test_interacting_is_one_reach_however_many_conversations() -> None:
    catalog = goal_catalog()
    assert reached(visit_of(), catalog) == []
    conversations = (Conversation(conversation_id="c1", started_ms=NOW - 5000),
                     Conversation(conversation_id="c2", started_ms=NOW - 3000))  # fmt: skip
    visit = visit_of(conversations=conversations)
    (result,) = reached(visit, catalog)
    assert (result.goalType, result.atMs, result.campaignId) == ("interact", NOW - 5000, None)
    assert reached(visit, catalog, previous=[result]) == []


def test_interacting_through_the_campaigns_engagement_is_attributed() -> None:
    conversations = (Conversation(conversation_id="c0", started_ms=NOW - 9000),
                     Conversation(conversation_id="c1", started_ms=NOW - 5000,
                                  engagement_id=200, campaign_id=100))  # fmt: skip
    (result,) = reached(visit_of(conversations=conversations), goal_catalog())
    assert (result.campaignId, result.engagementId, result.conversationId, result.atMs) == (
        100, 200, "c1", NOW - 5000)  # fmt: skip


# --- attribution --------------------------------------------------------------------------

BEFORE, AFTER = FIRST_AT - 1000, FIRST_AT + 1000  # around the purchase


def seen(
    engagement: int, at: int, kind: ImpressionKind = "exposed", campaign: int | None = None
) -> Impression:
    return Impression(kind=kind, engagement_id=engagement, at_ms=at, campaign_id=campaign)


def talked(engagement: int, at: int, conversation: str = "c1") -> Conversation:
    return Conversation(conversation_id=conversation, started_ms=at, engagement_id=engagement)


ATTRIBUTION_CASES = [
    pytest.param([seen(200, BEFORE)], [], [(100, 200, None)], id="exposed-before"),
    pytest.param([seen(200, FIRST_AT)], [], [(100, 200, None)], id="exposed-at-the-same-ms"),
    pytest.param([seen(200, AFTER)], [], [(None, None, None)], id="exposed-after"),
    pytest.param([seen(200, BEFORE, "accepted")], [], [(100, 200, None)], id="accepted"),
    pytest.param([seen(200, BEFORE, "declined"), seen(200, BEFORE, "closed")], [],
                 [(None, None, None)], id="declined-or-closed-only"),
    pytest.param([seen(200, BEFORE, campaign=100)], [], [(100, 200, None)], id="campaign-named"),
    pytest.param([seen(200, BEFORE, campaign=999)], [], [(None, None, None)],
                 id="another-campaign-named"),
    pytest.param([seen(777, BEFORE)], [], [(None, None, None)], id="another-engagement"),
    pytest.param([seen(200, BEFORE - 1000), seen(201, BEFORE)], [], [(100, 201, None)],
                 id="the-latest-impression"),
    pytest.param([], [talked(200, BEFORE)], [(100, 200, "c1")], id="assisted-by-conversation"),
    pytest.param([], [talked(200, AFTER)], [(None, None, None)], id="conversation-after"),
    pytest.param([seen(201, BEFORE)], [talked(200, BEFORE - 1000)], [(100, 200, "c1")],
                 id="conversation-beats-content"),
    pytest.param([], [talked(200, BEFORE - 1000, "c1"), talked(201, BEFORE, "c2")],
                 [(100, 201, "c2")], id="the-latest-conversation"),
]  # fmt: skip


@pytest.mark.parametrize(("impressions", "conversations", "expected"), ATTRIBUTION_CASES)
def test_attribution(
    impressions: list[Impression],
    conversations: list[Conversation],
    expected: list[tuple[int | None, int | None, str | None]],
) -> None:
    raw = raw_catalog(goal={"type": "purchase"})
    raw["campaigns"][0]["engagements"].append({"id": 201})
    visit = visit_of(PURCHASE, impressions=tuple(impressions), conversations=tuple(conversations))
    results = reached(visit, catalog_of(raw), visit.entries)
    assert [(r.campaignId, r.engagementId, r.conversationId) for r in results] == expected


def shared_goal() -> Catalog:
    """Campaigns 100 (engagement 200), 101 (201, unpublished) and 102 (202) share goal 1."""
    raw = raw_catalog(goal={"type": "lead"})
    raw["campaigns"] += [
        {"id": 101, "goalId": 1, "engagements": [{"id": 201}]},
        {"id": 102, "goalId": 1, "status": "Published", "engagements": [{"id": 202}]},
    ]
    return catalog_of(raw)


@pytest.mark.parametrize(
    ("impressions", "campaigns"),
    [
        pytest.param([], [None], id="none-met"),
        pytest.param([seen(202, BEFORE)], [102], id="one-met"),
        pytest.param([seen(200, BEFORE), seen(202, BEFORE)], [100, 102], id="both-met"),
        pytest.param([seen(201, BEFORE)], [101], id="unpublished-since"),
    ],
)
def test_a_shared_goal_counts_for_each_campaign_met(
    impressions: list[Impression], campaigns: list[int | None]
) -> None:
    visit = visit_of(LEAD, impressions=tuple(impressions))
    results = reached(visit, shared_goal(), visit.entries)
    assert [r.campaignId for r in results] == campaigns
    assert all(r.value == 22.22 and not r.duplicate for r in results)


def test_once_per_visit_counts_per_campaign() -> None:
    raw = raw_catalog(goal={"type": "lead", "countOncePerVisit": True})
    raw["campaigns"].append({"id": 101, "goalId": 1, "engagements": [{"id": 201}]})
    visit = visit_of(lead("l1"), lead("l2"), impressions=(seen(201, FIRST_AT + 500),))
    results = reached(visit, catalog_of(raw), visit.entries)
    # l1 is self-serve; l2 came after engagement 201 was shown, so campaign 101 counts it.
    assert [(r.seq, r.campaignId) for r in results] == [(1, None), (2, 101)]


# --- properties ---------------------------------------------------------------------------

POOL = [purchase(total, order) for total in (5, 50) for order in ("o1", "o2", None)]
POOL += [lead(i) for i in ("l1", None)]
POOL += [service(status, sid) for status in (0, 1, 7) for sid in ("s1", None)]
POOL += [sde("cart"), sde("ctmrinfo")]


def property_catalog(once: bool) -> Catalog:
    raw = raw_catalog(goal={"type": "purchase", "minTotal": 10, "countOncePerVisit": once})
    raw["goals"] += [
        {"id": 2, "type": "lead"},
        {"id": 3, "type": "serviceActivity", "topics": ["LOAN"], "statuses": [0, 1]},
    ]
    raw["campaigns"] += [{"id": 101, "goalId": 2, "engagements": [{"id": 201}]},
                         {"id": 102, "goalId": 3, "engagements": [{"id": 202}]}]  # fmt: skip
    return catalog_of(raw)


@settings(deadline=None, max_examples=200)
@given(
    st.lists(st.sampled_from(POOL), max_size=10),
    st.lists(st.integers(1, 10), max_size=3),
    st.booleans(),
)
def test_goals_are_idempotent_and_independent_of_batching(
    sdes: list[dict[str, Any]], cuts: list[int], once: bool
) -> None:
    catalog = property_catalog(once)
    impressions = (seen(200, FIRST_AT + 2500), seen(201, FIRST_AT + 4500))
    visit = visit_of(*sdes, impressions=impressions)
    at_once = reached(visit, catalog, visit.entries)
    assert reached(visit, catalog, visit.entries, previous=at_once) == []
    keys = [(r.goalId, r.campaignId, r.dedupKey) for r in at_once if not r.duplicate and r.dedupKey]
    assert len(keys) == len(set(keys))  # an id counts once per goal and campaign
    batched: list[GoalReached] = []
    bounds = sorted({0, *(c for c in cuts if c < len(sdes)), len(sdes)})
    for start, end in pairwise(bounds):
        partial = msgspec.structs.replace(visit, entries=visit.entries[:end])
        batched += reached(partial, catalog, visit.entries[start:end], previous=batched)
    assert batched == at_once
