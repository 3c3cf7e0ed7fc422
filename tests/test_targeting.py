"""Targeting (consume.md §5.1, §5.2; sdehub.targeting, sdehub.rules, sdehub.facts): every
target-audience and behaviour condition matching and not, include and exclude, what an SDE that
was never reported means, locations, campaign order, dates and status, and explanations."""

from __future__ import annotations

import calendar
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdehub.facts import page_facts
from sdehub.model.campaigns import Campaign, Catalog, Engagement
from sdehub.model.conditions import LocationRule
from sdehub.model.visit import Conversation, Impression, Page, Visit
from sdehub.rules import PageTest, flow_state, location_test
from sdehub.targeting import Decision, compile_catalog, decide, explain
from tests.test_campaign_model import (
    ACCOUNT,
    DAY,
    NOW,
    catalog_of,
    entries_of,
    pages_of,
    raw_catalog,
    sde,
    visit_of,
)

CTMR = sde("ctmrinfo")  # ctype vip, cstatus cancelled, balance -400.99, companySize 500 ...
PERSONAL = sde("personal")  # age 34, gender MALE
MRKT = sde("mrktInfo")  # channel "1" (Search), affiliate Yahoo, campaignId "US coupon campaign"
CART = sde("cart")  # total 11.7, one product prod1 / sku / category
VIEWED = sde("prodView")  # red high heel shoe, women shoes, xyz567, 77.8
ERROR = sde("error")  # "Expiration date missing", code er100004, unresolved
SERVICE = sde("service")  # "order checkbook", status 0 (Complete)


def ms(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 12, 0, 0)) * 1000


def shown(visit: Visit, now: int = NOW, **parts: Any) -> bool:
    """Whether the one engagement of ``raw_catalog(**parts)`` is offered."""
    catalog = catalog_of(raw_catalog(**parts))
    decision = decide(visit, catalog, now)
    verdicts = explain(visit, catalog, now)
    assert [v.chosen for v in verdicts] == [decision is not None]  # explain agrees
    return decision is not None


def case(
    name: str, condition: dict[str, Any], sdes: list[dict[str, Any]], expected: bool, **visit: Any
) -> Any:
    now = visit.pop("now", NOW)
    return pytest.param(condition, sdes, visit, now, expected, id=name)


# --- target audience (§5.1) ---------------------------------------------------------------

NO_CTYPE = sde("ctmrinfo", info={"ctype": None})
BIRTH_DATE = sde("spec_personal.json")  # born 1990-05-03, no age
ONLY_YEAR = sde("spec_personal.json", personal={"age": {"month": None, "day": None}})
FEB_31 = sde("ctmrinfo", info={"registrationDate": {"day": 31, "month": 2, "year": 2013}})
REGISTERED = ms(2013, 5, 23)  # CTMR's registrationDate
IPHONE = {"type": "platform", "deviceFamilies": ["MOBILE"], "os": ["IOS"]}

PROFILE_CASES = [
    case("customer-type", {"type": "customerType", "values": ["VIP"]}, [CTMR], True),
    case("customer-type-other", {"type": "customerType", "values": ["gold"]}, [CTMR], False),
    case("customer-type-not-a-prefix", {"type": "customerType", "values": ["Gold"]},
         [sde("ctmrinfo", info={"ctype": "Gold Plus"})], False),
    case("customer-type-excluded", {"type": "customerType", "mode": "exclude", "values": ["vip"]},
         [CTMR], False),
    case("customer-type-exclude-other",
         {"type": "customerType", "mode": "exclude", "values": ["gold"]}, [CTMR], True),
    case("customer-type-not-reported", {"type": "customerType", "values": ["vip"]}, [], False),
    case("customer-type-exclude-not-reported",
         {"type": "customerType", "mode": "exclude", "values": ["gold"]}, [], False),
    case("customer-type-exclude-field-absent",
         {"type": "customerType", "mode": "exclude", "values": ["gold"]}, [NO_CTYPE], True),
    case("customer-type-field-absent", {"type": "customerType", "values": ["vip"]}, [NO_CTYPE],
         False),
    case("customer-status", {"type": "customerStatus", "values": ["CANCELLED"]}, [CTMR], True),
    case("customer-status-excluded",
         {"type": "customerStatus", "mode": "exclude", "values": ["cancelled"]}, [CTMR], False),
    case("customer-status-exclude-other",
         {"type": "customerStatus", "mode": "exclude", "values": ["active"]}, [CTMR], True),
    case("age-exact", {"type": "age", "exact": 34}, [PERSONAL], True),
    case("age-exact-other", {"type": "age", "exact": 35}, [PERSONAL], False),
    case("age-range-top", {"type": "age", "min": 30, "max": 34}, [PERSONAL], True),
    case("age-range-bottom", {"type": "age", "min": 34, "max": 40}, [PERSONAL], True),
    case("age-below-min", {"type": "age", "min": 35}, [PERSONAL], False),
    case("age-above-max", {"type": "age", "max": 33}, [PERSONAL], False),
    case("age-from-birth-date-on-birthday", {"type": "age", "exact": 34}, [BIRTH_DATE], True,
         now=ms(2024, 5, 3)),
    case("age-from-birth-date-day-before", {"type": "age", "exact": 34}, [BIRTH_DATE], False,
         now=ms(2024, 5, 2)),
    case("age-from-year-only", {"type": "age", "exact": 34}, [ONLY_YEAR], True,
         now=ms(2024, 1, 1)),
    case("age-not-reported", {"type": "age", "min": 0}, [], False),
    case("age-absent", {"type": "age", "min": 0}, [BIRTH_DATE | {"personal": {}}], False),
    case("registered-years", {"type": "timeSinceRegistration", "atLeast": 10, "unit": "years"},
         [CTMR], True, now=ms(2023, 5, 23)),
    case("registered-years-a-day-short",
         {"type": "timeSinceRegistration", "atLeast": 10, "unit": "years"}, [CTMR], False,
         now=ms(2023, 5, 22)),
    case("registered-months",
         {"type": "timeSinceRegistration", "atLeast": 1, "unit": "months"}, [CTMR], True,
         now=ms(2013, 6, 23)),
    case("registered-months-short",
         {"type": "timeSinceRegistration", "atLeast": 1, "unit": "months"}, [CTMR], False,
         now=ms(2013, 6, 22)),
    case("registered-weeks", {"type": "timeSinceRegistration", "atLeast": 1, "unit": "weeks"},
         [CTMR], True, now=REGISTERED + 7 * DAY),
    case("registered-weeks-short",
         {"type": "timeSinceRegistration", "atLeast": 1, "unit": "weeks"}, [CTMR], False,
         now=REGISTERED + 6 * DAY),
    case("registered-days", {"type": "timeSinceRegistration", "atLeast": 1}, [CTMR], True,
         now=REGISTERED + DAY),
    case("registered-today", {"type": "timeSinceRegistration", "atLeast": 1}, [CTMR], False,
         now=REGISTERED),
    case("registered-on-no-date", {"type": "timeSinceRegistration", "atLeast": 0}, [FEB_31],
         False),
    case("company-size-min", {"type": "companySize", "min": 500}, [CTMR], True),
    case("company-size-above-min", {"type": "companySize", "min": 501}, [CTMR], False),
    case("company-size-max", {"type": "companySize", "max": 500}, [CTMR], True),
    case("company-size-below-max", {"type": "companySize", "max": 499}, [CTMR], False),
    case("balance-min", {"type": "balance", "min": -400.99}, [CTMR], True),
    case("balance-max", {"type": "balance", "max": -401}, [CTMR], False),
    case("balance-range", {"type": "balance", "min": -500, "max": 0}, [CTMR], True),
    case("balance-currency-ignored", {"type": "balance", "min": -401},
         [sde("ctmrinfo", info={"currency": "EUR"})], True),
    case("customer-id-any-case", {"type": "customerId", "values": ["x", "138766ac"]}, [CTMR],
         True),
    case("customer-id-other", {"type": "customerId", "values": ["138766"]}, [CTMR], False),
    case("store-zip", {"type": "storeZipCode", "values": ["20505"]}, [CTMR], True),
    case("store-zip-other", {"type": "storeZipCode", "values": ["2050"]}, [CTMR], False),
    case("store-number", {"type": "storeNumber", "values": ["123865"]}, [CTMR], True),
    case("store-number-other", {"type": "storeNumber", "values": ["1"]}, [CTMR], False),
    case("gender", {"type": "gender", "values": ["male"]}, [PERSONAL], True),
    case("gender-other", {"type": "gender", "values": ["FEMALE", "OTHER"]}, [PERSONAL], False),
    case("gender-absent", {"type": "gender", "values": ["MALE"]}, [BIRTH_DATE | {"personal": {}}],
         False),
    case("marketing-channel", {"type": "marketingSource", "channels": [1]}, [MRKT], True),
    case("marketing-channel-other", {"type": "marketingSource", "channels": [0, 6]}, [MRKT],
         False),
    case("marketing-channel-and-affiliate",
         {"type": "marketingSource", "channels": [1], "affiliates": ["yahoo"]}, [MRKT], True),
    case("marketing-affiliate-other", {"type": "marketingSource", "affiliates": ["Yahoo!"]},
         [MRKT], False),
    case("marketing-campaign", {"type": "marketingSource", "campaigns": ["us coupon campaign"]},
         [MRKT], True),
    case("marketing-campaign-exact", {"type": "marketingSource", "campaigns": ["US coupon"]},
         [MRKT], False),
    case("marketing-not-reported", {"type": "marketingSource", "channels": [1]}, [], False),
    case("returning", {"type": "visitorType", "value": "returning"}, [], True, returning=True),
    case("returning-but-new", {"type": "visitorType", "value": "returning"}, [], False),
    case("new", {"type": "visitorType", "value": "new"}, [], True),
    case("platform", {"type": "platform", "deviceFamilies": ["MOBILE"]}, [], True,
         device_family="mobile"),
    case("platform-other", {"type": "platform", "deviceFamilies": ["DESKTOP"]}, [], False,
         device_family="MOBILE"),
    case("platform-excluded", {"type": "platform", "mode": "exclude", "deviceFamilies": ["MOBILE"]},
         [], False, device_family="MOBILE"),
    case("platform-exclude-other",
         {"type": "platform", "mode": "exclude", "deviceFamilies": ["DESKTOP"]}, [], True,
         device_family="MOBILE"),
    case("platform-device-and-os", IPHONE, [], True, device_family="MOBILE", os="ios"),
    case("platform-os-other", IPHONE, [], False, device_family="MOBILE", os="ANDROID"),
    case("platform-unknown", {"type": "platform", "os": ["IOS"]}, [], False),
    case("platform-unknown-excluded", {"type": "platform", "mode": "exclude", "os": ["IOS"]}, [],
         True),
    case("entry-page", {"type": "entryPage", "rules": [{"value": "Home"}]}, [], True,
         pages=pages_of("sec://home", "sec://cart")),
    case("entry-page-is-the-first", {"type": "entryPage", "rules": [{"value": "home"}]}, [], False,
         pages=pages_of("sec://cart", "sec://home")),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "sdes", "visit", "now", "expected"), PROFILE_CASES)
def test_target_audience_conditions(
    condition: dict[str, Any],
    sdes: list[dict[str, Any]],
    visit: dict[str, Any],
    now: int,
    expected: bool,
) -> None:
    assert shown(visit_of(*sdes, **visit), now, profile=[condition]) is expected


def test_a_profile_holds_when_every_condition_holds() -> None:
    vip = {"type": "customerType", "values": ["vip"]}
    adult = {"type": "age", "min": 18}
    assert shown(visit_of(CTMR, PERSONAL), profile=[vip, adult])
    assert not shown(visit_of(CTMR), profile=[vip, adult])
    assert shown(visit_of(), profile=[])  # "All visitors"


def test_visitor_info_merges_across_reports() -> None:
    later = {"type": "ctmrinfo", "info": {"cstatus": "active"}}
    visit = visit_of(CTMR, later)
    assert shown(visit, profile=[{"type": "customerType", "values": ["vip"]}])
    assert shown(visit, profile=[{"type": "customerStatus", "values": ["active"]}])
    assert not shown(visit, profile=[{"type": "customerStatus", "values": ["cancelled"]}])


@pytest.mark.parametrize("authenticated_first", [True, False], ids=["auth-first", "auth-last"])
def test_authenticated_visitor_info_wins_field_by_field(authenticated_first: bool) -> None:
    auth = entries_of(sde("ctmrinfo", info={"ctype": "vip", "cstatus": None}),
                      first_seq=1 if authenticated_first else 2, authenticated=True)  # fmt: skip
    unauth = entries_of(sde("ctmrinfo", info={"ctype": "gold", "cstatus": "active"}),
                        first_seq=2 if authenticated_first else 1)  # fmt: skip
    visit = Visit(visitor_id="V", session_id="S", started_ms=0, entries=auth + unauth)
    assert shown(visit, profile=[{"type": "customerType", "values": ["vip"]}])
    assert not shown(visit, profile=[{"type": "customerType", "values": ["gold"]}])
    assert shown(visit, profile=[{"type": "customerStatus", "values": ["active"]}])


# --- visitor behaviour (§5.2) -------------------------------------------------------------


def cart(total: float, *names: str) -> dict[str, Any]:
    products = [{"product": {"name": n, "sku": f"sku-{n}", "category": "c"}} for n in names]
    return sde("cart", total=total, products=products or CART["products"])


RESOLVED = sde("error", error={"resolved": True})
FLOW = {"type": "flow", "steps": [{"value": "cart"}, {"value": "coupon", "optional": True},
                                  {"value": "pay"}, {"value": "done"}]}  # fmt: skip
BACK_FLOW = FLOW | {"trigger": "backFlow"}
IMPRESSION = Impression(kind="exposed", engagement_id=999, at_ms=NOW - 5000)

BEHAVIOR_CASES = [
    case("cart-between", {"type": "cartValue", "min": 10, "max": 12}, [CART], True),
    case("cart-between-bounds", {"type": "cartValue", "min": 11.7, "max": 11.7}, [CART], True),
    case("cart-below", {"type": "cartValue", "min": 11.71}, [CART], False),
    case("cart-above", {"type": "cartValue", "max": 11.69}, [CART], False),
    case("cart-any-currency", {"type": "cartValue", "min": 10},
         [sde("cart", currency="JPY")], True),
    case("cart-last-update-counts", {"type": "cartValue", "min": 10}, [CART, cart(5)], False),
    case("cart-not-reported", {"type": "cartValue", "max": 1000}, [], False),
    case("cart-decreased", {"type": "cartValue", "change": "decreased"}, [cart(50), CART], True),
    case("cart-increased", {"type": "cartValue", "change": "decreased"}, [CART, cart(50)], False),
    case("cart-unchanged", {"type": "cartValue", "change": "decreased"}, [CART, CART], False),
    case("cart-single-update", {"type": "cartValue", "change": "decreased"}, [CART], False),
    case("cart-decreased-to-zero", {"type": "cartValue", "change": "decreasedToZero"},
         [cart(50), cart(0)], True),
    case("cart-decreased-not-to-zero", {"type": "cartValue", "change": "decreasedToZero"},
         [cart(50), CART], False),
    case("cart-zero-twice", {"type": "cartValue", "change": "decreasedToZero"},
         [cart(0), cart(0)], False),
    case("cart-product-name", {"type": "cartProducts", "values": ["PROD1"]}, [CART], True),
    case("cart-product-sku", {"type": "cartProducts", "by": "sku", "values": ["sku"]}, [CART],
         True),
    case("cart-product-category", {"type": "cartProducts", "by": "category",
                                   "values": ["nope"]}, [CART], False),
    case("cart-product-excluded", {"type": "cartProducts", "mode": "exclude",
                                   "values": ["prod1"]}, [CART], False),
    case("cart-product-exclude-other", {"type": "cartProducts", "mode": "exclude",
                                        "values": ["mug"]}, [CART], True),
    case("cart-product-replaced", {"type": "cartProducts", "values": ["prod1"]},
         [CART, cart(3, "mug")], False),
    case("cart-product-exclude-not-reported", {"type": "cartProducts", "mode": "exclude",
                                               "values": ["mug"]}, [], False),
    case("viewed-name", {"type": "viewedProduct", "by": "name", "values": ["Red High Heel Shoe"]},
         [VIEWED], True),
    case("viewed-sku", {"type": "viewedProduct", "by": "sku", "values": ["xyz567"]}, [VIEWED],
         True),
    case("viewed-category", {"type": "viewedProduct", "by": "category", "values": ["men shoes"]},
         [VIEWED], False),
    case("viewed-price", {"type": "viewedProduct", "minPrice": 77.8, "maxPrice": 80}, [VIEWED],
         True),
    case("viewed-price-above", {"type": "viewedProduct", "minPrice": 77.81}, [VIEWED], False),
    case("viewed-sku-and-price", {"type": "viewedProduct", "by": "sku", "values": ["xyz567"],
                                  "maxPrice": 50}, [VIEWED], False),
    case("viewed-any-report", {"type": "viewedProduct", "by": "sku", "values": ["xyz567"]},
         [VIEWED, sde("prodView", products=[{"product": {"sku": "other"}}])], True),
    case("viewed-excluded", {"type": "viewedProduct", "mode": "exclude", "by": "sku",
                             "values": ["xyz567"]}, [VIEWED], False),
    case("viewed-exclude-other", {"type": "viewedProduct", "mode": "exclude", "by": "sku",
                                  "values": ["abc"]}, [VIEWED], True),
    case("viewed-exclude-not-reported", {"type": "viewedProduct", "mode": "exclude", "by": "sku",
                                         "values": ["abc"]}, [], False),
    case("error-message", {"type": "visitorError", "values": ["expiration date missing"]},
         [ERROR], True),
    case("error-message-other", {"type": "visitorError", "values": ["Expiration date"]}, [ERROR],
         False),
    case("error-code", {"type": "visitorError", "by": "code", "values": ["ER100004"]}, [ERROR],
         True),
    case("error-second-occurrence", {"type": "visitorError", "values": ["Expiration date missing"],
                                     "occurrence": 2}, [ERROR], False),
    case("error-second-occurrence-reached", {"type": "visitorError",
                                             "values": ["Expiration date missing"],
                                             "occurrence": 2}, [ERROR, ERROR], True),
    case("error-resolved", {"type": "visitorError", "values": ["Expiration date missing"]},
         [ERROR, RESOLVED], False),
    case("error-after-resolution", {"type": "visitorError", "values": ["Expiration date missing"],
                                    "occurrence": 2}, [ERROR, RESOLVED, ERROR], False),
    case("error-excluded", {"type": "visitorError", "mode": "exclude",
                            "values": ["Expiration date missing"]}, [ERROR], False),
    case("error-exclude-other", {"type": "visitorError", "mode": "exclude", "values": ["x"]},
         [ERROR], True),
    case("error-exclude-below-occurrence", {"type": "visitorError", "mode": "exclude",
                                            "values": ["Expiration date missing"],
                                            "occurrence": 2}, [ERROR], True),
    case("error-exclude-negative-case-reported", {"type": "visitorError", "mode": "exclude",
                                                  "values": ["Expiration date missing"]},
         [RESOLVED], True),
    case("error-exclude-not-reported", {"type": "visitorError", "mode": "exclude",
                                        "values": ["x"]}, [], False),
    case("service", {"type": "serviceActivity", "topics": ["Order Checkbook"], "statuses": [0]},
         [SERVICE], True),
    case("service-other-status", {"type": "serviceActivity", "topics": ["order checkbook"],
                                  "statuses": [1, 13]}, [SERVICE], False),
    case("service-other-topic", {"type": "serviceActivity", "topics": ["loan"], "statuses": [0]},
         [SERVICE], False),
    case("service-any-report", {"type": "serviceActivity", "topics": ["loan"], "statuses": [3]},
         [SERVICE, sde("service", service={"topic": "loan", "status": 3})], True),
    case("flow-abandoned", FLOW, [], True, pages=pages_of("sec://cart", "sec://about")),
    case("flow-in-progress", FLOW, [], False, pages=pages_of("sec://cart", "sec://pay")),
    case("flow-never-entered", FLOW, [], False, pages=pages_of("sec://pay", "sec://about")),
    case("flow-completed", FLOW, [], False,
         pages=pages_of("sec://cart", "sec://pay", "sec://done", "sec://about")),
    case("flow-back", BACK_FLOW, [], True, pages=pages_of("sec://cart", "sec://pay", "sec://cart")),
    case("flow-back-not-abandoned", FLOW, [], False,
         pages=pages_of("sec://cart", "sec://pay", "sec://cart")),
    case("visited", {"type": "visitedEntryPoint", "rules": [{"value": "cart"}, {"kind": "url",
         "match": "contains", "value": "/help"}]}, [], True,
         pages=pages_of("sec://cart", "https://x.example/help/faq", "sec://home")),
    case("visited-not-all", {"type": "visitedEntryPoint", "rules": [{"value": "cart"},
         {"value": "help"}]}, [], False, pages=pages_of("sec://cart", "sec://home")),
    case("time-on-page", {"type": "timeOnEntryPoint", "location": {"value": "home"},
                          "seconds": 30}, [], True, now=NOW - 1000 + 30_000),
    case("time-on-page-short", {"type": "timeOnEntryPoint", "location": {"value": "home"},
                                "seconds": 30}, [], False, now=NOW - 1000 + 29_999),
    case("time-on-other-page", {"type": "timeOnEntryPoint", "location": {"value": "cart"},
                                "seconds": 0}, [], False),
    case("exposed", {"type": "engagedInSession", "state": "exposed"}, [], True,
         impressions=(IMPRESSION,)),
    case("not-exposed", {"type": "engagedInSession", "state": "exposed"}, [], False),
    case("exclude-exposed", {"type": "engagedInSession", "state": "exposed", "mode": "exclude"},
         [], True),
    case("clicked", {"type": "engagedInSession", "state": "clicked"}, [], True,
         impressions=(IMPRESSION, msgspec.structs.replace(IMPRESSION, kind="accepted"))),
    case("exposed-not-clicked", {"type": "engagedInSession", "state": "clicked"}, [], False,
         impressions=(IMPRESSION,)),
    case("declined-by-closing", {"type": "engagedInSession", "state": "declined"}, [], True,
         impressions=(msgspec.structs.replace(IMPRESSION, kind="closed"),)),
    case("declined", {"type": "engagedInSession", "state": "declined"}, [], True,
         impressions=(msgspec.structs.replace(IMPRESSION, kind="declined"),)),
    case("timed-out-not-declined", {"type": "engagedInSession", "state": "declined"}, [], False,
         impressions=(msgspec.structs.replace(IMPRESSION, kind="timeout"),)),
    case("interacted", {"type": "engagedInSession", "state": "interacted"}, [], True,
         conversations=(Conversation(conversation_id="c1", started_ms=NOW - 9000),)),
    case("not-interacted", {"type": "engagedInSession", "state": "interacted", "mode": "exclude"},
         [], True, impressions=(IMPRESSION,)),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "sdes", "visit", "now", "expected"), BEHAVIOR_CASES)
def test_visitor_behavior_conditions(
    condition: dict[str, Any],
    sdes: list[dict[str, Any]],
    visit: dict[str, Any],
    now: int,
    expected: bool,
) -> None:
    assert shown(visit_of(*sdes, **visit), now, behavior=[condition]) is expected


def test_all_behaviors_is_the_default() -> None:
    assert shown(visit_of(), behavior=[])
    assert shown(visit_of())


def _steps(*sections: str, optional: tuple[int, ...] = ()) -> list[tuple[PageTest, bool]]:
    return [(location_test(LocationRule(value=s)), i in optional) for i, s in enumerate(sections)]


@pytest.mark.parametrize(
    ("visited", "state"),
    [
        pytest.param("", "out", id="no-pages"),
        pytest.param("x", "out", id="elsewhere"),
        pytest.param("a", "in", id="entered"),
        pytest.param("b", "out", id="not-entered-mid-flow"),
        pytest.param("a b", "in", id="step-two"),
        pytest.param("a c", "in", id="optional-skipped"),
        pytest.param("a b c d", "completed", id="completed"),
        pytest.param("a b d", "completed", id="completed-skipping-optional"),
        pytest.param("a b d x a", "completed", id="completed-is-final"),
        pytest.param("a x", "abandoned", id="abandoned"),
        pytest.param("a b x y", "abandoned", id="abandoned-stays"),
        pytest.param("a x a", "in", id="re-entered"),
        pytest.param("a b a", "backFlow", id="back"),
        pytest.param("a b a b", "in", id="forward-after-back"),
        pytest.param("a b a x", "abandoned", id="back-then-left"),
        pytest.param("a a", "in", id="reload"),
        pytest.param("a d", "in", id="skipping-a-required-step-does-not-advance"),
        pytest.param("a d x", "abandoned", id="then-left"),
    ],
)
def test_flow_progress(visited: str, state: str) -> None:
    steps = _steps("a", "b", "c", "d", optional=(2,))
    pages = [page_facts(p) for p in pages_of(*(f"sec://{s}" for s in visited.split()))]
    assert flow_state(pages, steps) == state


# --- where (onsite locations) -------------------------------------------------------------


def at(*entry_points: str, url: str | None = None) -> tuple[Page, ...]:
    return (Page(page_id="p1", at_ms=NOW - 1000, entry_points=entry_points, url=url),)


LOCATION_CASES = [
    pytest.param({"value": "Checkout"}, at("sec://checkout"), True, id="section-any-case"),
    pytest.param({"value": "check"}, at("sec://checkout"), False, id="section-equals-is-exact"),
    pytest.param({"value": "check", "match": "contains"}, at("SEC://checkout"), True,
                 id="section-contains"),
    pytest.param({"value": "CHECK", "match": "startsWith"}, at("sec://checkout"), True,
                 id="section-starts-with"),
    pytest.param({"value": "^check(out)?$", "match": "regex"}, at("sec://checkout"), True,
                 id="section-regex"),
    pytest.param({"value": "^Checkout$", "match": "regex"}, at("sec://checkout"), False,
                 id="regex-is-case-sensitive"),
    pytest.param({"value": "checkout"}, at("sec://home", "sec://checkout"), True,
                 id="any-of-the-page-sections"),
    pytest.param({"kind": "url", "value": "/cart", "match": "contains"},
                 at("https://shop.example/cart?x=1"), True, id="url-entry-point"),
    pytest.param({"kind": "url", "value": "https://SHOP.example/cart"},
                 at(url="https://shop.example/cart"), True, id="page-url"),
    pytest.param({"kind": "url", "value": "https://shop.example/", "match": "startsWith"},
                 at("http://shop.example/"), False, id="url-scheme-matters"),
    pytest.param({"kind": "url", "value": "sec://checkout"}, at("sec://checkout"), False,
                 id="a-section-is-not-a-url"),
    pytest.param({"kind": "entryPoint", "value": "lang://English"}, at("lang://english"), True,
                 id="raw-entry-point"),
    pytest.param({"value": "English"}, at("lang://English"), False, id="lang-is-not-a-section"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "pages", "expected"), LOCATION_CASES)
def test_location_rules(rule: dict[str, Any], pages: tuple[Page, ...], expected: bool) -> None:
    assert shown(visit_of(pages=pages), location={"include": [rule]}) is expected


@pytest.mark.parametrize(
    ("location", "pages", "expected"),
    [
        pytest.param({}, at("sec://anything"), True, id="entire-site"),
        pytest.param({}, (), True, id="entire-site-without-a-page"),
        pytest.param({"include": [{"value": "home"}]}, (), False, id="no-page-no-section"),
        pytest.param({"include": [{"value": "a"}, {"value": "b"}]}, at("sec://b"), True,
                     id="any-include"),
        pytest.param({"exclude": [{"value": "b"}]}, at("sec://b"), False, id="excluded"),
        pytest.param({"include": [{"value": "a"}], "exclude": [{"value": "b"}]},
                     at("sec://a", "sec://b"), False, id="exclude-beats-include"),
        pytest.param({"include": [{"value": "home"}]}, pages_of("sec://home", "sec://cart"),
                     False, id="the-current-page-counts"),
    ],
)  # fmt: skip
def test_onsite_locations(
    location: dict[str, Any], pages: tuple[Page, ...], expected: bool
) -> None:
    assert shown(visit_of(pages=pages), location=location) is expected


def test_an_engagement_on_several_locations_needs_any_of_them() -> None:
    raw = raw_catalog()
    raw["onsiteLocations"] = [{"id": 30, "include": [{"value": "a"}]},
                              {"id": 31, "include": [{"value": "b"}]}]  # fmt: skip
    raw["campaigns"][0]["engagements"][0]["onsiteLocations"] = [30, 31]
    catalog = catalog_of(raw)
    assert decide(visit_of(pages=at("sec://b")), catalog, NOW) is not None
    assert decide(visit_of(pages=at("sec://c")), catalog, NOW) is None


# --- campaigns: order, status, dates ------------------------------------------------------


def two_campaigns(first: dict[str, Any], second: dict[str, Any]) -> Catalog:
    """Campaigns 100 (engagement 200) and 101 (engagement 201), published, for all visitors;
    profile 10 holds for nobody."""
    raw = raw_catalog(profile=[{"type": "customerId", "values": ["nobody"]}])
    base = {"goalId": 1, "status": "Published"}
    raw["campaigns"] = [
        {**base, "id": 100, "engagements": [{"id": 200}], **first},
        {**base, "id": 101, "engagements": [{"id": 201}], **second},
    ]
    return catalog_of(raw)


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        pytest.param({"priority": 0.4}, {"priority": 0.6}, 101, id="higher-priority-wins"),
        pytest.param({"priority": 2}, {"priority": 1}, 100, id="priority-above-1"),
        pytest.param({}, {}, 100, id="tie-goes-to-lower-id"),
        pytest.param({"priority": 0.9, "status": "Unpublished"}, {}, 101, id="unpublished"),
        pytest.param({"priority": 0.9, "status": 0}, {"status": 1}, 101, id="status-codes"),
        pytest.param({"priority": 0.9, "startDate": NOW}, {}, 100, id="starts-now"),
        pytest.param({"priority": 0.9, "startDate": NOW + 1}, {}, 101, id="not-started"),
        pytest.param({"priority": 0.9, "expirationDate": NOW + 1}, {}, 100, id="expires-later"),
        pytest.param({"priority": 0.9, "expirationDate": NOW}, {}, 101, id="expires-now"),
        pytest.param({"priority": 0.9, "engagements": [{"id": 200, "enabled": False}]}, {}, 101,
                     id="disabled-engagement"),
        pytest.param({"priority": 0.9, "visitorProfiles": [10]}, {}, 101,
                     id="higher-campaign-audience-fails"),
        pytest.param({"status": "Unpublished"}, {"status": "Unpublished"}, None, id="none-live"),
    ],
)  # fmt: skip
def test_campaign_order(first: dict[str, Any], second: dict[str, Any], winner: int | None) -> None:
    decision = decide(visit_of(CTMR), two_campaigns(first, second), NOW)
    assert (decision.campaignId if decision else None) == winner


def test_engagements_are_tried_in_order_within_a_campaign() -> None:
    raw = raw_catalog(location={"include": [{"value": "cart"}]})
    engagements = raw["campaigns"][0]["engagements"]
    engagements += [{"id": 201, "enabled": False}, {"id": 202}, {"id": 203}]
    catalog = catalog_of(raw)
    decision = decide(visit_of(), catalog, NOW)  # on the home page: 200 is cart only
    assert decision is not None and decision.engagementId == 202
    decision = decide(visit_of(pages=at("sec://cart")), catalog, NOW)
    assert decision is not None and decision.engagementId == 200


def test_the_decision_carries_what_the_monitoring_api_answers_with() -> None:
    decision = decide(visit_of(CTMR), catalog_of(raw_catalog(goal={"type": "lead"})), NOW)
    assert decision is not None
    assert msgspec.to_builtins(decision) | {"reasons": []} == {
        "campaignId": 100, "engagementId": 200, "engagementRevision": 3, "goalId": 1,
        "skillId": 5, "connectorId": 7, "windowId": 8, "language": "en-US", "reasons": [],
    }  # fmt: skip
    assert decision.reasons and all(r.holds for r in decision.reasons)


def test_reasons_say_which_conditions_matched() -> None:
    catalog = catalog_of(raw_catalog(profile=[{"type": "customerType", "values": ["VIP"]}],
                                     behavior=[{"type": "cartValue", "min": 10}],
                                     location={"include": [{"value": "cart"}]}))  # fmt: skip
    decision = decide(visit_of(CTMR, CART, pages=at("sec://cart")), catalog, NOW)
    assert decision is not None
    reasons = {(r.subject, r.condition): r.observed for r in decision.reasons}
    assert reasons[("visitor profile 10 'audience'", "customer type is one of 'VIP'")] == (
        "customer type 'vip'"
    )
    assert reasons[("visitor behavior 20 'behavior'", "cart total is at least 10.0")] == (
        "cart totals 11.7"
    )
    location = "the current page is on onsite location 30 'where' (section equals 'cart')"
    assert reasons[("engagement 200 'Chat'", location)] == "page 'p1' (sec://cart)"


# --- explanations -------------------------------------------------------------------------


def failing(visit: Visit, catalog: Catalog) -> list[list[tuple[str, str, str | None]]]:
    """For each engagement, the checks that did not hold."""
    return [
        [(c.subject, c.condition, c.observed) for c in v.checks if not c.holds]
        for v in explain(visit, catalog, NOW)
    ]


def test_explain_says_why_not() -> None:
    raw = raw_catalog(profile=[{"type": "customerType", "mode": "exclude", "values": ["x"]}],
                      campaign={"startDate": NOW + 1})  # fmt: skip
    assert failing(visit_of(), catalog_of(raw)) == [[
        ("campaign 100 'Main'", f"has started by {NOW}", f"startDate {NOW + 1}"),
        ("visitor profile 10 'audience'", "customer type is none of 'x'",
         "not evaluated: no ctmrinfo reported in this session"),
    ]]  # fmt: skip


def test_explain_names_the_engagement_that_came_first() -> None:
    catalog = two_campaigns({"priority": 0.1}, {"priority": 0.2})
    verdicts = explain(visit_of(), catalog, NOW)
    assert [(v.campaignId, v.engagementId, v.chosen) for v in verdicts] == [
        (101, 201, True), (100, 200, False)]  # fmt: skip
    first = "engagement 201 of campaign 101 comes first"
    assert failing(visit_of(), catalog)[1] == [("priority", "nothing comes first", first)]


def test_explain_covers_campaigns_without_engagements_and_disabled_ones() -> None:
    raw = raw_catalog(engagement={"enabled": False})
    raw["campaigns"].append({"id": 101, "goalId": 1, "status": "Published"})
    failures = failing(visit_of(), catalog_of(raw))
    assert failures == [[("engagement 200 'Chat'", "is enabled", None)],
                        [("campaign 101", "has engagements", None)]]  # fmt: skip


def test_a_catalog_built_without_decoding_never_shows_broken_references() -> None:
    engagement = Engagement(id=2, onsiteLocations=[6], visitorBehaviors=[7])
    campaign = Campaign(id=1, goalId=9, status="Published", visitorProfiles=[5],
                        engagements=[engagement])  # fmt: skip
    catalog = Catalog(campaigns=[campaign])
    assert decide(visit_of(), catalog, NOW) is None
    assert failing(visit_of(), catalog) == [[
        ("visitor profile 5", "visitor profile 5 exists", "not configured"),
        ("engagement 2", "the current page is on onsite location 6 (not configured)",
         "page 'p1' (sec://home)"),
        ("visitor behavior 7", "visitor behavior 7 exists", "not configured"),
    ]]  # fmt: skip


def test_no_campaigns_no_decision() -> None:
    assert decide(visit_of(CTMR), Catalog(), NOW) is None
    assert explain(visit_of(CTMR), Catalog(), NOW) == []


def test_the_account_example() -> None:
    catalog = catalog_of(ACCOUNT)
    vip = sde("ctmrinfo", info={"cstatus": "active", "balance": 10})
    woman = sde("personal", personal={"gender": "FEMALE"})
    software = sde("cart", total=99, products=[{"product": {"category": "Software"}}])
    error = sde("error")
    visit = visit_of(
        vip, woman, sde("mrktInfo"), software, sde("prodView"), error, error,
        pages=pages_of("https://shop.example.com/", "sec://cart", "sec://about"),
        returning=True, device_family="MOBILE", os="IOS",
    )  # fmt: skip
    now = ms(2023, 11, 14)
    decision = decide(visit, catalog, now)
    assert decision is None  # the about page is not a checkout page
    visit = msgspec.structs.replace(visit, pages=visit.pages + at("sec://checkout"))
    decision = decide(visit, catalog, now)
    assert decision is not None
    assert (decision.campaignId, decision.engagementId, decision.engagementRevision) == (61, 71, 4)
    assert decision == decide(visit, compile_catalog(catalog), now)


# --- properties ---------------------------------------------------------------------------

PROFILE_POOL = [p.values[0] for p in PROFILE_CASES]
BEHAVIOR_POOL = [p.values[0] for p in BEHAVIOR_CASES]
RULE_POOL = [p.values[0] for p in LOCATION_CASES]
SDE_POOL = [CTMR, PERSONAL, MRKT, CART, VIEWED, ERROR, SERVICE, RESOLVED, NO_CTYPE, FEB_31,
            BIRTH_DATE, cart(0), cart(50), sde("lead"), sde("purchase"),
            sde("searchInfo")]  # fmt: skip
ENTRY_POINTS = ["sec://home", "sec://cart", "sec://pay", "sec://done", "sec://checkout",
                "https://shop.example.com/cart", "lang://English"]  # fmt: skip
TIMES = [None, None, NOW - DAY, NOW, NOW + 1, NOW + DAY]


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    groups = st.lists(st.integers(0, 2), max_size=2, unique=True)
    campaigns = []
    for i in range(draw(st.integers(0, 5))):
        start, end = draw(st.sampled_from(TIMES)), draw(st.sampled_from(TIMES))
        if start is not None and end is not None and end <= start:
            end = None
        engagements = [
            {"id": 1000 + 10 * i + j, "enabled": draw(st.booleans()),
             "onsiteLocations": [30 + k for k in draw(groups)],
             "visitorBehaviors": [20 + k for k in draw(groups)]}
            for j in range(draw(st.integers(0, 3)))
        ]  # fmt: skip
        campaigns.append({
            "id": 100 + i, "goalId": 1, "priority": draw(st.sampled_from([0.1, 0.5, 0.9])),
            "status": draw(st.sampled_from(["Published", "Published", "Unpublished"])),
            "startDate": start, "expirationDate": end,
            "visitorProfiles": [10 + k for k in draw(groups)], "engagements": engagements,
        })  # fmt: skip
    # Empty groups ("All visitors", the entire site) are common, so that decisions happen.
    conditions = st.just([]) | st.lists(st.sampled_from(PROFILE_POOL), min_size=1, max_size=2)
    behaviors = st.just([]) | st.lists(st.sampled_from(BEHAVIOR_POOL), min_size=1, max_size=2)
    rules = st.just([]) | st.lists(st.sampled_from(RULE_POOL), min_size=1, max_size=2)
    return catalog_of({
        "goals": [{"id": 1}],
        "visitorProfiles": [{"id": 10 + k, "conditions": draw(conditions)} for k in range(3)],
        "visitorBehaviors": [{"id": 20 + k, "conditions": draw(behaviors)} for k in range(3)],
        "onsiteLocations": [{"id": 30 + k, "include": draw(rules), "exclude": draw(rules)}
                            for k in range(3)],
        "campaigns": campaigns,
    })  # fmt: skip


@st.composite
def visits(draw: st.DrawFn) -> Visit:
    pages = draw(st.lists(st.lists(st.sampled_from(ENTRY_POINTS), max_size=2), max_size=5))
    kinds = st.sampled_from(["exposed", "accepted", "declined", "closed", "timeout"])
    impressions = tuple(
        Impression(kind=kind, engagement_id=1000, at_ms=NOW - 100)
        for kind in draw(st.lists(kinds, max_size=3))
    )
    return visit_of(
        *draw(st.lists(st.sampled_from(SDE_POOL), max_size=8)),
        pages=pages_of(*pages),
        impressions=impressions,
        returning=draw(st.booleans()),
        device_family=draw(st.sampled_from([None, "DESKTOP", "MOBILE", "tablet"])),
        os=draw(st.sampled_from([None, "IOS", "android"])),
    )


@settings(deadline=None, max_examples=300)
@given(catalogs(), visits(), st.sampled_from([NOW - DAY, NOW, NOW + 1, ms(2030, 1, 1)]))
def test_decide_never_raises_and_explain_agrees(catalog: Catalog, visit: Visit, now: int) -> None:
    decision = decide(visit, catalog, now)
    assert decision == decide(visit, compile_catalog(catalog), now)
    verdicts = explain(visit, catalog, now)
    chosen = [v for v in verdicts if v.chosen]
    assert len(chosen) <= 1
    if decision is None:
        assert chosen == []
    else:
        assert isinstance(decision, Decision)
        assert (chosen[0].campaignId, chosen[0].engagementId) == (
            decision.campaignId, decision.engagementId)  # fmt: skip
        assert decision.reasons == chosen[0].checks
        assert all(r.holds for r in decision.reasons)
        before = verdicts[: verdicts.index(chosen[0])]
        assert all(not all(c.holds for c in v.checks) for v in before)
    ranked = sorted(catalog.campaigns, key=lambda c: (-c.priority, c.id))
    assert [v.campaignId for v in verdicts] == [
        c.id for c in ranked for _ in c.engagements or [None]]  # fmt: skip
