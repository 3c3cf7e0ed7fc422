"""The campaign model (sdehub.model.campaigns, sdehub.model.conditions): an account's targeting
configuration decodes, round-trips and has a JSON Schema; every problem, including the cross
references, is reported with its path. Also the builders the targeting and goal tests share."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from jsonschema import Draft202012Validator

from sdehub import goals, targeting
from sdehub.model import campaigns, conditions, visit
from sdehub.model.campaigns import Campaign, Catalog, decode_catalog
from sdehub.model.provenance import Entry, Provenance, Source
from sdehub.model.visit import Page, Visit
from tests.test_model_properties import json_values
from tests.test_model_validation import decode_one, documented_sdes

NOW = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC
DAY = 86_400_000

# --- builders shared by the targeting and goal tests ----------------------------------------


def sde(name: str, **changes: Any) -> dict[str, Any]:
    """The documented example ``tests/fixtures/model/types_<name>.jsonc`` (or another fixture
    file), with ``changes`` merged into it; ``None`` removes a field."""
    file = name if "." in name else f"types_{name}.jsonc"
    return _merged(copy.deepcopy(documented_sdes(file)[0]), changes)


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            _merged(base[key], value)
        else:
            base[key] = value
    return base


def entries_of(
    *sdes: dict[str, Any],
    first_seq: int = 1,
    at_ms: int = NOW - 10_000,
    authenticated: bool = False,
    source: Source = "api",
) -> tuple[Entry, ...]:
    """Decoded reports, one second apart, in order."""
    return tuple(
        Entry(
            decode_one(raw),
            Provenance(
                seq=first_seq + i,
                source=source,
                authenticated=authenticated,
                originalTs=at_ms + i * 1000,
                serverTs=at_ms + i * 1000,
            ),
        )  # fmt: skip
        for i, raw in enumerate(sdes)
    )


def pages_of(*pages: str | Iterable[str], last_at: int = NOW - 1000) -> tuple[Page, ...]:
    """Pages one second apart ending at ``last_at``; each is one entry point or several."""
    out = []
    for i, eps in enumerate(pages):
        entry_points = (eps,) if isinstance(eps, str) else tuple(eps)
        at = last_at - (len(pages) - 1 - i) * 1000
        out.append(Page(page_id=f"p{i + 1}", at_ms=at, entry_points=entry_points))
    return tuple(out)


def visit_of(*sdes: dict[str, Any], pages: tuple[Page, ...] | None = None, **fields: Any) -> Visit:
    """A visit with these reports, on the home page unless ``pages`` are given."""
    return Visit(
        visitor_id="V1",
        session_id="S1",
        started_ms=NOW - 60_000,
        pages=pages_of("sec://home") if pages is None else pages,
        entries=entries_of(*sdes),
        **fields,
    )


def raw_catalog(
    *,
    profile: list[dict[str, Any]] | None = None,
    behavior: list[dict[str, Any]] | None = None,
    location: dict[str, Any] | None = None,
    goal: dict[str, Any] | None = None,
    campaign: dict[str, Any] | None = None,
    engagement: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One published campaign (100) with one engagement (200), goal 1, and profile 10,
    behaviour 20 and location 30 when their conditions are given."""
    eng: dict[str, Any] = {"id": 200, "name": "Chat", "skillId": 5, "connectorId": 7,
                           "windowId": 8, "language": "en-US", "revision": 3}  # fmt: skip
    camp: dict[str, Any] = {"id": 100, "name": "Main", "goalId": 1, "status": "Published"}
    out: dict[str, Any] = {
        "skills": [{"id": 5, "name": "sales"}],
        "goals": [{"id": 1, "name": "Interact", **(goal or {})}],
    }
    if profile is not None:
        out["visitorProfiles"] = [{"id": 10, "name": "audience", "conditions": profile}]
        camp["visitorProfiles"] = [10]
    if behavior is not None:
        out["visitorBehaviors"] = [{"id": 20, "name": "behavior", "conditions": behavior}]
        eng["visitorBehaviors"] = [20]
    if location is not None:
        out["onsiteLocations"] = [{"id": 30, "name": "where", **location}]
        eng["onsiteLocations"] = [30]
    eng.update(engagement or {})
    out["campaigns"] = [{**camp, **(campaign or {}), "engagements": [eng]}]
    return out


def catalog_of(raw: dict[str, Any]) -> Catalog:
    catalog, errors = decode_catalog(raw)
    assert errors == [], errors
    assert catalog is not None
    return catalog


# --- an account, every condition kind at least once ------------------------------------------

ACCOUNT: dict[str, Any] = {
    "skills": [{"id": 11, "name": "sales"}, {"id": 12, "name": "service"}],
    "goals": [
        {"id": 21, "name": "Sell", "type": "purchase", "minTotal": 100},
        {"id": 22, "name": "Leads", "type": "lead", "countOncePerVisit": True},
        {"id": 23, "name": "Service done", "type": "serviceActivity",
         "topics": ["order checkbook"], "statuses": [0, 13]},
        {"id": 24, "name": "Browse", "type": "pageViews", "pages": 5},
        {"id": 25, "name": "Interact with visitors"},
    ],
    "onsiteLocations": [
        {"id": 31, "name": "Entire site"},
        {"id": 32, "name": "Checkout", "include": [
            {"kind": "section", "value": "checkout"},
            {"kind": "url", "match": "regex", "value": "/checkout/(cart|pay)"}],
         "exclude": [{"kind": "url", "match": "contains", "value": "/thank-you"}]},
    ],
    "visitorProfiles": [
        {"id": 41, "name": "All visitors"},
        {"id": 42, "name": "VIP customers", "conditions": [
            {"type": "customerType", "values": ["VIP", "Gold"]},
            {"type": "customerStatus", "mode": "exclude", "values": ["cancelled"]},
            {"type": "balance", "min": 0},
            {"type": "companySize", "max": 1000},
            {"type": "timeSinceRegistration", "atLeast": 1, "unit": "years"},
            {"type": "customerId", "values": ["138766AC"]},
            {"type": "storeZipCode", "values": ["20505"]},
            {"type": "storeNumber", "values": ["123865"]}]},
        {"id": 43, "name": "Adults from search", "conditions": [
            {"type": "age", "min": 18},
            {"type": "gender", "values": ["FEMALE", "OTHER"]},
            {"type": "marketingSource", "channels": [1, 5], "affiliates": ["Yahoo"]},
            {"type": "visitorType", "value": "returning"},
            {"type": "platform", "deviceFamilies": ["MOBILE"], "os": ["IOS"]},
            {"type": "entryPage", "rules": [{"kind": "url", "match": "startsWith",
                                             "value": "https://shop.example.com/"}]}]},
    ],
    "visitorBehaviors": [
        {"id": 51, "name": "All behaviors"},
        {"id": 52, "name": "Cart trouble", "conditions": [
            {"type": "cartValue", "min": 50, "max": 500},
            {"type": "cartProducts", "by": "category", "values": ["software"]},
            {"type": "viewedProduct", "mode": "exclude", "minPrice": 1000},
            {"type": "visitorError", "by": "code", "values": ["er100004"], "occurrence": 2},
            {"type": "flow", "trigger": "abandoned", "steps": [
                {"value": "cart"}, {"value": "coupon", "optional": True}, {"value": "pay"}]}]},
        {"id": 53, "name": "Engaged service", "conditions": [
            {"type": "cartValue", "change": "decreasedToZero"},
            {"type": "serviceActivity", "topics": ["order checkbook"], "statuses": [1, 9]},
            {"type": "visitedEntryPoint", "rules": [{"value": "support"}]},
            {"type": "timeOnEntryPoint", "location": {"value": "support"}, "seconds": 30},
            {"type": "engagedInSession", "state": "declined", "mode": "exclude"}]},
    ],
    "campaigns": [
        {"id": 61, "name": "Checkout help", "priority": 0.9, "status": "Published", "goalId": 21,
         "startDate": 1_690_000_000_000, "expirationDate": 1_800_000_000_000,
         "visitorProfiles": [42, 43],
         "engagements": [
             {"id": 71, "name": "Checkout chat", "skillId": 11, "language": "en-US",
              "onsiteLocations": [32], "visitorBehaviors": [52], "connectorId": 81,
              "windowId": 91, "revision": 4},
             {"id": 72, "name": "Checkout fallback", "enabled": False, "skillId": 11}]},
        {"id": 62, "name": "Service", "status": "Unpublished", "goalId": 23,
         "visitorProfiles": [41],
         "engagements": [{"id": 73, "skillId": 12, "onsiteLocations": [31],
                          "visitorBehaviors": [51, 53]}]},
    ],
}  # fmt: skip


def test_the_account_decodes_and_round_trips() -> None:
    catalog = catalog_of(ACCOUNT)
    assert [c.id for c in catalog.campaigns] == [61, 62]
    assert catalog.campaigns[0].engagements[1].enabled is False
    assert catalog.goals[4].type == "interact"  # the default goal type
    again = catalog_of(msgspec.json.decode(msgspec.json.encode(catalog)))
    assert again == catalog
    assert decode_catalog(msgspec.json.encode(ACCOUNT)) == (catalog, [])


def test_defaults_are_left_out_when_encoding() -> None:
    minimal = {"goals": [{"id": 1}], "campaigns": [{"id": 2, "goalId": 1}]}
    encoded = msgspec.to_builtins(catalog_of(minimal))
    assert encoded == minimal
    campaign = msgspec.convert(encoded["campaigns"][0], Campaign)
    assert (campaign.status, campaign.priority, campaign.engagements) == ("Unpublished", 0.5, [])


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(1, "Published", id="code-1"),
        pytest.param(0, "Unpublished", id="code-0"),
        pytest.param("published", "Published", id="any-case"),
        pytest.param("Unpublished", "Unpublished", id="name"),
    ],
)
def test_campaign_status_takes_names_and_livepersons_codes(status: Any, expected: str) -> None:
    catalog = catalog_of(raw_catalog(campaign={"status": status}))
    assert catalog.campaigns[0].status == expected


def _schema_types() -> list[type[msgspec.Struct]]:
    found = []
    for module in (campaigns, conditions, visit, targeting, goals):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, msgspec.Struct) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


@pytest.mark.parametrize("cls", _schema_types(), ids=lambda cls: cls.__name__)
def test_every_type_has_a_json_schema(cls: type[msgspec.Struct]) -> None:
    Draft202012Validator.check_schema(msgspec.json.schema(cls))


def test_the_account_matches_the_generated_schema() -> None:
    validator = Draft202012Validator(msgspec.json.schema(Catalog))
    assert list(validator.iter_errors(ACCOUNT)) == []
    canonical = msgspec.to_builtins(catalog_of(ACCOUNT))
    assert list(validator.iter_errors(canonical)) == []
    assert list(validator.iter_errors({"campaigns": [{"id": 1}]}))  # goalId is required


# --- every problem, with its path ---------------------------------------------------------

Edit = Callable[[dict[str, Any]], None]


def put(path: str, value: Any) -> Edit:
    """Set the value at a dotted path (``campaigns.0.goalId``) of the raw account."""
    *parents, last = path.split(".")

    def edit(raw: dict[str, Any]) -> None:
        node: Any = raw
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


def add(path: str, value: Any) -> Edit:
    """Append to the list at a dotted path."""

    def edit(raw: dict[str, Any]) -> None:
        node: Any = raw
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        node.append(value)

    return edit


def case(name: str, edit: Edit, path: str, message: str | None) -> Any:
    return pytest.param(edit, path, message, id=name)


P = "visitorProfiles.1.conditions.0"
B = "visitorBehaviors.1.conditions.0"
PP = "$.visitorProfiles[1].conditions[0]"
BP = "$.visitorBehaviors[1].conditions[0]"
ERRORS = [
    case("duplicate-skill", add("skills", {"id": 11}), "$.skills[2].id",
         "id 11 is used more than once"),
    case("duplicate-goal", add("goals", {"id": 21}), "$.goals[5].id", "used more than once"),
    case("duplicate-location", add("onsiteLocations", {"id": 31}), "$.onsiteLocations[2].id",
         "used more than once"),
    case("duplicate-profile", add("visitorProfiles", {"id": 41}), "$.visitorProfiles[3].id",
         "used more than once"),
    case("duplicate-behavior", add("visitorBehaviors", {"id": 52}), "$.visitorBehaviors[3].id",
         "used more than once"),
    case("duplicate-campaign", add("campaigns", {"id": 61, "goalId": 21}), "$.campaigns[2].id",
         "used more than once"),
    case("engagement-id-across-campaigns", put("campaigns.1.engagements.0.id", 71),
         "$.campaigns[1].engagements[0].id", "engagement id 71 is used more than once"),
    case("unknown-goal", put("campaigns.0.goalId", 29), "$.campaigns[0].goalId",
         "no goal has id 29"),
    case("unknown-profile", put("campaigns.0.visitorProfiles", [42, 49]),
         "$.campaigns[0].visitorProfiles[1]", "no visitor profile has id 49"),
    case("unknown-skill", put("campaigns.0.engagements.0.skillId", 19),
         "$.campaigns[0].engagements[0].skillId", "no skill has id 19"),
    case("unknown-location", put("campaigns.0.engagements.0.onsiteLocations", [39]),
         "$.campaigns[0].engagements[0].onsiteLocations[0]", "no onsite location has id 39"),
    case("unknown-behavior", put("campaigns.0.engagements.0.visitorBehaviors", [59]),
         "$.campaigns[0].engagements[0].visitorBehaviors[0]", "no visitor behavior has id 59"),
    case("expires-at-start", put("campaigns.0.expirationDate", 1_690_000_000_000),
         "$.campaigns[0].expirationDate", "expected a date after startDate"),
    case("negative-date", put("campaigns.0.startDate", -1), "$.campaigns[0].startDate",
         "expected a value >= 0"),
    case("unknown-status", put("campaigns.0.status", "Live"), "$.campaigns[0].status",
         "expected one of Published, Unpublished, got string \"Live\""),
    case("unknown-status-code", put("campaigns.0.status", 2), "$.campaigns[0].status",
         "expected one of"),
    case("id-zero", put("campaigns.0.id", 0), "$.campaigns[0].id", "expected a value >= 1"),
    case("negative-revision", put("campaigns.0.engagements.0.revision", -1),
         "$.campaigns[0].engagements[0].revision", "expected a value >= 0"),
    case("service-goal-without-topics", put("goals.2.topics", []), "$.goals[2].topics",
         "needs at least one topic"),
    case("service-goal-without-statuses", put("goals.2.statuses", []), "$.goals[2].statuses",
         "needs at least one success status"),
    case("service-goal-status-14", put("goals.2.statuses", [14]), "$.goals[2].statuses[0]",
         "expected a value <= 13"),
    case("page-goal-without-pages", put("goals.3.pages", None), "$.goals[3].pages",
         "needs the number of pages"),
    case("page-goal-zero-pages", put("goals.3.pages", 0), "$.goals[3].pages",
         "expected a value >= 1"),
    case("pages-on-purchase", put("goals.0.pages", 3), "$.goals[0].pages",
         "only a pageViews goal takes pages"),
    case("min-total-on-lead", put("goals.1.minTotal", 3), "$.goals[1].minTotal",
         "only a purchase goal takes minTotal"),
    case("topics-on-lead", put("goals.1.topics", ["x"]), "$.goals[1].topics",
         "only a serviceActivity goal takes topics"),
    case("negative-min-total", put("goals.0.minTotal", -1), "$.goals[0].minTotal",
         "expected a value >= 0"),
    case("unknown-goal-type", put("goals.0.type", "url"), "$.goals[0].type",
         "expected one of interact, lead, pageViews, purchase, serviceActivity"),
    case("unknown-condition", put(P, {"type": "shoeSize"}), f"{PP}.type",
         "expected one of marketingSource, customerType"),
    case("empty-values", put(P, {"type": "customerType", "values": []}), f"{PP}.values",
         "expected at least 1 items"),
    case("more-than-110-types",
         put(P, {"type": "customerType", "values": [f"t{i}" for i in range(111)]}),
         f"{PP}.values", "expected at most 110 items"),
    case("unknown-mode", put(P, {"type": "customerStatus", "mode": "target", "values": ["a"]}),
         f"{PP}.mode", "expected one of exclude, include"),
    case("age-exact-and-range", put(P, {"type": "age", "exact": 30, "min": 20}),
         f"{PP}.exact", "an exact age or a range, not both"),
    case("age-without-bounds", put(P, {"type": "age"}), f"{PP}.min", "give min, max or both"),
    case("age-min-above-max", put(P, {"type": "age", "min": 40, "max": 30}), f"{PP}.max",
         "expected a value >= min (40), got 30"),
    case("age-above-200", put(P, {"type": "age", "exact": 201}), f"{PP}.exact",
         "expected a value <= 200"),
    case("balance-min-above-max", put(P, {"type": "balance", "min": 1.5, "max": 1}),
         f"{PP}.max", "expected a value >= min (1.5), got 1.0"),
    case("company-size-without-bounds", put(P, {"type": "companySize"}), f"{PP}.min",
         "give min, max or both"),
    case("registration-unit",
         put(P, {"type": "timeSinceRegistration", "atLeast": 1, "unit": "hours"}),
         f"{PP}.unit", "expected one of days, months, weeks, years"),
    case("marketing-without-lists", put(P, {"type": "marketingSource"}), f"{PP}.channels",
         "give channels, affiliates or campaigns"),
    case("marketing-channel-7", put(P, {"type": "marketingSource", "channels": [7]}),
         f"{PP}.channels[0]", "expected a value <= 6"),
    case("unknown-gender", put(P, {"type": "gender", "values": ["robot"]}), f"{PP}.values[0]",
         "expected one of FEMALE, MALE, OTHER"),
    case("platform-without-lists", put(P, {"type": "platform"}), f"{PP}.deviceFamilies",
         "give deviceFamilies, os or both"),
    case("unknown-os", put(P, {"type": "platform", "os": ["BEOS"]}), f"{PP}.os[0]",
         "expected one of ANDROID, IOS, LINUX, MAC_OSX, WINDOWS"),
    case("unknown-visitor-type", put(P, {"type": "visitorType", "value": "old"}),
         f"{PP}.value", "expected one of new, returning"),
    case("entry-page-bad-regex",
         put(P, {"type": "entryPage", "rules": [{"match": "regex", "value": "(["}]}),
         f"{PP}.rules[0].value", "expected a regular expression"),
    case("location-regex-control", put("onsiteLocations.1.exclude.0.match", "regex"),
         "", None),
    case("location-bad-regex", put("onsiteLocations.1.include.1.value", "*cart"),
         "$.onsiteLocations[1].include[1].value", "expected a regular expression"),
    case("location-unknown-kind", put("onsiteLocations.1.include.0.kind", "cookie"),
         "$.onsiteLocations[1].include[0].kind", "expected one of entryPoint, section, url"),
    case("cart-between-without-bounds", put(B, {"type": "cartValue"}), f"{BP}.min",
         "give min, max or both"),
    case("cart-decreased-with-bounds",
         put(B, {"type": "cartValue", "change": "decreased", "max": 3}), f"{BP}.min",
         "only apply to change 'between', not 'decreased'"),
    case("cart-products-by-price",
         put(B, {"type": "cartProducts", "by": "price", "values": ["1"]}), f"{BP}.by",
         "expected one of category, name, sku"),
    case("viewed-product-nothing", put(B, {"type": "viewedProduct"}), f"{BP}.by",
         "give by and values, a price range, or both"),
    case("viewed-product-by-without-values", put(B, {"type": "viewedProduct", "by": "sku"}),
         f"{BP}.values", "by and values go together"),
    case("viewed-product-values-without-by",
         put(B, {"type": "viewedProduct", "values": ["a"], "minPrice": 1}), f"{BP}.by",
         "by and values go together"),
    case("viewed-product-price-range",
         put(B, {"type": "viewedProduct", "minPrice": 9, "maxPrice": 1}), f"{BP}.maxPrice",
         "expected a value >= min (9.0), got 1.0"),
    case("error-occurrence-0",
         put(B, {"type": "visitorError", "values": ["x"], "occurrence": 0}),
         f"{BP}.occurrence", "expected a value >= 1"),
    case("service-without-statuses",
         put(B, {"type": "serviceActivity", "topics": ["x"], "statuses": []}),
         f"{BP}.statuses", "expected at least 1 items"),
    case("flow-one-step", put(B, {"type": "flow", "steps": [{"value": "a"}]}), f"{BP}.steps",
         "expected at least 2 items"),
    case("flow-optional-first",
         put(B, {"type": "flow", "steps": [{"value": "a", "optional": True}, {"value": "b"}]}),
         f"{BP}.steps", "cannot be optional (step 0)"),
    case("flow-optional-last",
         put(B, {"type": "flow", "steps": [{"value": "a"}, {"value": "b", "optional": True}]}),
         f"{BP}.steps", "cannot be optional (step 1)"),
    case("flow-completed-trigger",
         put(B, {"type": "flow", "trigger": "completed",
                 "steps": [{"value": "a"}, {"value": "b"}]}),
         f"{BP}.trigger", "expected one of abandoned, backFlow"),
    case("flow-step-bad-regex",
         put(B, {"type": "flow", "steps": [{"value": "a"}, {"value": "(", "match": "regex"}]}),
         f"{BP}.steps[1].value", "expected a regular expression"),
    case("time-on-bad-regex",
         put(B, {"type": "timeOnEntryPoint", "location": {"value": ")", "match": "regex"},
                 "seconds": 1}),
         f"{BP}.location.value", "expected a regular expression"),
    case("time-on-negative",
         put(B, {"type": "timeOnEntryPoint", "location": {"value": "a"}, "seconds": -1}),
         f"{BP}.seconds", "expected a value >= 0"),
    case("engaged-unknown-state", put(B, {"type": "engagedInSession", "state": "bored"}),
         f"{BP}.state", "expected one of clicked, declined, exposed, interacted"),
    case("campaign-without-goal", add("campaigns", {"id": 63}), "$.campaigns[2].goalId",
         "is required"),
    case("campaigns-not-an-array", put("campaigns", {}), "$.campaigns",
         "expected an array, got an object"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "path", "message"), ERRORS)
def test_each_problem_is_reported_at_its_path(edit: Edit, path: str, message: str | None) -> None:
    raw = copy.deepcopy(ACCOUNT)
    edit(raw)
    catalog, errors = decode_catalog(raw)
    if message is None:  # a control: the edit is valid
        assert errors == [] and catalog is not None
        return
    assert catalog is None
    assert [(e.path, message in e.message) for e in errors] == [(path, True)], errors


def test_every_problem_is_reported_at_once() -> None:
    raw = copy.deepcopy(ACCOUNT)
    for edit in (put("campaigns.0.goalId", 29), put("skills.1.id", 11),
                 put("goals.3.pages", None), put(B, {"type": "cartValue"})):  # fmt: skip
        edit(raw)
    _, errors = decode_catalog(raw)
    assert sorted(e.path for e in errors) == [
        "$.campaigns[0].goalId",
        "$.campaigns[1].engagements[0].skillId",  # skill 12 is gone: both skills have id 11
        "$.goals[3].pages",
        "$.skills[1].id",
        "$.visitorBehaviors[1].conditions[0].min",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b"{", "expected JSON, got invalid text", id="bad-json"),
        pytest.param("[]", "expected an object, got an array", id="json-array"),
        pytest.param(None, "expected an object, got null", id="null"),
        pytest.param(3, "expected an object, got number 3", id="number"),
    ],
)
def test_what_is_not_a_catalog(raw: Any, message: str) -> None:
    catalog, errors = decode_catalog(raw)
    assert catalog is None
    assert [e.path for e in errors] == ["$"] and message in errors[0].message


def test_unknown_fields_are_ignored_as_livepersons_services_do() -> None:
    raw = raw_catalog(campaign={"weight": 0.2, "timeZone": "America/New_York", "type": 1},
                      engagement={"channel": 1, "displayInstances": [], "subType": 24})  # fmt: skip
    assert catalog_of(raw).campaigns[0].engagements[0].id == 200


@settings(deadline=None, max_examples=300)
@given(json_values)
def test_any_json_gives_a_catalog_or_errors(raw: Any) -> None:
    catalog, errors = decode_catalog(raw)
    assert (catalog is None) == bool(errors)
    assert all(e.path.startswith("$") and e.message for e in errors)


def test_campaign_live_bounds_are_start_inclusive_and_expiry_exclusive() -> None:
    raw = raw_catalog(campaign={"startDate": NOW, "expirationDate": NOW + DAY})
    c = catalog_of(raw).campaigns[0]
    moments = (NOW - 1, NOW, NOW + DAY - 1, NOW + DAY)
    assert [c.live(t) for t in moments] == [False, True, True, False]
    unpublished = msgspec.structs.replace(c, status="Unpublished")
    assert not unpublished.live(NOW)
