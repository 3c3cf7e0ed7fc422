"""Targeting conditions compiled into tests over a visit's :class:`~sdehub.facts.Facts`.

**An SDE that was not reported.** "A targeting rule on an attribute is only evaluated if that EA
was reported at least once in the session. Brands should also report the negative case, e.g.
error absent" (ingest.md §1.6). We read "not evaluated" as "does not hold", for include and
exclude alike: silence cannot satisfy "customer type is not VIP" or "no error X", which is why
the docs ask brands to report the negative case. Once the SDE was reported, a field it leaves out
is not any of the values, so an include fails and an exclude holds; a range needs the value.
Conditions on the visit itself (visitor type, platform, pages, engagements) are always evaluated.

**Other readings** where the docs are silent:

* Visitor error "which occurrence": the message (or code) was reported unresolved at least N
  times; exclude holds while it was reported fewer than N times. A report with
  ``resolved: true`` clears the count of its message (errors "aggregate until resolved").
* Cart value "decreased": the last cart update's total is below the one before it; "decreased to
  0": it is 0 and the one before was above 0.
* Flow: the visitor enters at the first step; moving forward may skip optional steps only (a move
  that skips a required one does not advance); leaving for a page outside the flow is
  *abandoned* until they re-enter at the first step; going to an earlier step is *back-flow*
  until they move forward again; reaching the last step completes the flow, and a completed flow
  never triggers for the rest of the session.
* Engaged in session: *exposed* by any impression, *clicked* by an accepted one, *declined* by
  a declined or closed one, *interacted* by a conversation in the session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

from sdehub.facts import Facts, PageFacts, folded
from sdehub.model.conditions import (
    AgeCondition,
    BalanceCondition,
    CartProductsCondition,
    CartValueCondition,
    CompanySizeCondition,
    Condition,
    CustomerIdCondition,
    CustomerStatusCondition,
    CustomerTypeCondition,
    EngagedInSessionCondition,
    EntryPageCondition,
    FlowCondition,
    GenderCondition,
    LocationRule,
    MarketingSourceCondition,
    PlatformCondition,
    RegistrationCondition,
    ServiceActivityCondition,
    StoreNumberCondition,
    StoreZipCodeCondition,
    TimeOnEntryPointCondition,
    ViewedProductCondition,
    VisitedEntryPointCondition,
    VisitorErrorCondition,
    VisitorTypeCondition,
)
from sdehub.model.types import CHANNEL_NAMES, SERVICE_STATUS_NAMES, Product

Test = Callable[[Facts], bool]
PageTest = Callable[[PageFacts], bool]


class Rule(NamedTuple):
    """A compiled condition: what it says, the SDE it reads, how to test and what it saw."""

    text: str
    needs: str | None
    test: Test
    observe: Callable[[Facts], str]

    def holds(self, facts: Facts) -> bool:
        return (self.needs is None or self.needs in facts.reported) and self.test(facts)

    def check(self, facts: Facts) -> tuple[bool, str]:
        """Whether it holds and what was observed, for explanations."""
        if self.needs is not None and self.needs not in facts.reported:
            return False, f"not evaluated: no {self.needs} reported in this session"
        return self.test(facts), self.observe(facts)


def compile_rule(condition: Condition) -> Rule:
    c = condition
    match c:
        case MarketingSourceCondition():
            return _marketing(c)
        case CustomerTypeCondition():
            return _one_of("customer type", "ctmrinfo", _customer("ctype"), c.values, c.mode)
        case CustomerStatusCondition():
            return _one_of("customer status", "ctmrinfo", _customer("cstatus"), c.values, c.mode)
        case AgeCondition():
            low, high = (c.min, c.max) if c.exact is None else (c.exact, c.exact)
            return _within("age", "personal", lambda f: f.age, low, high)
        case RegistrationCondition():
            return _registration(c)
        case CompanySizeCondition():
            return _within("company size", "ctmrinfo", _customer("companySize"), c.min, c.max)
        case BalanceCondition():
            return _within("balance", "ctmrinfo", _customer("balance"), c.min, c.max)
        case CustomerIdCondition():
            return _one_of("customer id", "ctmrinfo", _customer("customerId"), c.values)
        case StoreZipCodeCondition():
            return _one_of("store ZIP code", "ctmrinfo", _customer("storeZipCode"), c.values)
        case StoreNumberCondition():
            return _one_of("store number", "ctmrinfo", _customer("storeNumber"), c.values)
        case GenderCondition():
            return _one_of("gender", "personal", _personal("gender"), c.values)
        case VisitorTypeCondition():
            returning = c.value == "returning"
            return Rule(
                f"the visitor is {c.value}",
                None,
                lambda f: f.visit.returning == returning,
                lambda f: "returning" if f.visit.returning else "new",
            )
        case PlatformCondition():
            return _platform(c)
        case EntryPageCondition():
            return _entry_page(c)
        case CartValueCondition():
            return _cart_value(c)
        case CartProductsCondition():
            return _cart_products(c)
        case ViewedProductCondition():
            return _viewed_product(c)
        case VisitorErrorCondition():
            return _visitor_error(c)
        case ServiceActivityCondition():
            return _service_activity(c)
        case FlowCondition():
            return _flow(c)
        case VisitedEntryPointCondition():
            return _visited(c)
        case TimeOnEntryPointCondition():
            return _time_on(c)
        case EngagedInSessionCondition():
            state, include = c.state, c.mode == "include"
            return Rule(
                f"the visitor was {'' if include else 'not '}{state} in this session",
                None,
                lambda f: (state in f.engaged) == include,
                lambda f: ", ".join(sorted(f.engaged)) or "no engagement yet",
            )
    raise TypeError(f"no rule for {type(c).__name__}")  # pragma: no cover


# --- building blocks ----------------------------------------------------------------------


def _customer(field: str) -> Callable[[Facts], Any]:
    return lambda f: None if f.customer is None else getattr(f.customer, field)


def _personal(field: str) -> Callable[[Facts], Any]:
    return lambda f: None if f.personal is None else getattr(f.personal, field)


def _listing(values: Iterable[object]) -> str:
    return ", ".join(repr(v) for v in values)


def _one_of(
    what: str, needs: str, get: Callable[[Facts], Any], values: Sequence[str], mode: str = "include"
) -> Rule:
    """The value is (include) or is not (exclude) one of ``values``, casefolded and exact."""
    wanted = frozenset(v.casefold() for v in values)
    include = mode == "include"

    def test(f: Facts) -> bool:
        value = get(f)
        return (value is not None and value.casefold() in wanted) == include

    text = f"{what} is {'one' if include else 'none'} of {_listing(values)}"
    return Rule(text, needs, test, lambda f: f"{what} {get(f)!r}")


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"is {low}" if low == high else f"is between {low} and {high}"
    return f"is at least {low}" if low is not None else f"is at most {high}"


def _in_range(value: float | None, low: float | None, high: float | None) -> bool:
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def _within(
    what: str, needs: str, get: Callable[[Facts], Any], low: float | None, high: float | None
) -> Rule:
    return Rule(
        f"{what} {_range_text(low, high)}",
        needs,
        lambda f: _in_range(get(f), low, high),
        lambda f: f"{what} {get(f)!r}",
    )


def location_test(rule: LocationRule) -> PageTest:
    """Whether a page matches a location rule (see :mod:`sdehub.model.conditions`)."""
    name = {"section": "sections", "url": "urls", "entryPoint": "entry_points"}[rule.kind]
    if rule.match == "regex":
        pattern, get = re.compile(rule.value), attrgetter(name)
        return lambda p: any(pattern.search(s) is not None for s in get(p))
    value, get = rule.value.casefold(), attrgetter(name + "_folded")
    if rule.match == "equals":
        return lambda p: value in get(p)
    if rule.match == "contains":
        return lambda p: any(value in s for s in get(p))
    return lambda p: any(s.startswith(value) for s in get(p))


def location_text(rule: LocationRule) -> str:
    return f"{rule.kind} {rule.match} {rule.value!r}"


def page_text(page: PageFacts | None) -> str:
    if page is None:
        return "no page"
    shown = list(page.entry_points)
    if page.page.url is not None and page.page.url not in shown:
        shown.append(page.page.url)
    return f"page {page.page.page_id!r} ({', '.join(shown) or '-'})"


# --- target audience ----------------------------------------------------------------------


def _marketing(c: MarketingSourceCondition) -> Rule:
    channels = frozenset(c.channels)
    affiliates = frozenset(v.casefold() for v in c.affiliates)
    campaigns = frozenset(v.casefold() for v in c.campaigns)

    def test(f: Facts) -> bool:
        m = f.marketing
        return m is not None and (
            (not channels or m.channel in channels)
            and (not affiliates or folded(m.affiliate) in affiliates)
            and (not campaigns or folded(m.campaignId) in campaigns)
        )

    parts = [
        f"channel is one of {', '.join(CHANNEL_NAMES[ch] for ch in c.channels)}"
        if channels
        else "",
        f"affiliate is one of {_listing(c.affiliates)}" if affiliates else "",
        f"campaign is one of {_listing(c.campaigns)}" if campaigns else "",
    ]

    def observe(f: Facts) -> str:
        m = f.marketing
        if m is None:
            return "no marketing source"
        channel = CHANNEL_NAMES[m.channel] if m.channel is not None else None
        return f"channel {channel!r}, affiliate {m.affiliate!r}, campaign {m.campaignId!r}"

    return Rule(
        "marketing source: " + " and ".join(p for p in parts if p), "mrktInfo", test, observe
    )


def _registration(c: RegistrationCondition) -> Rule:
    def test(f: Facts) -> bool:
        elapsed = f.time_since_registration(c.unit)
        return elapsed is not None and elapsed >= c.atLeast

    def observe(f: Facts) -> str:
        return f"{f.time_since_registration(c.unit)} {c.unit} since registration"

    return Rule(f"registered at least {c.atLeast} {c.unit} ago", "ctmrinfo", test, observe)


def _platform(c: PlatformCondition) -> Rule:
    families = frozenset(v.casefold() for v in c.deviceFamilies)
    systems = frozenset(v.casefold() for v in c.os)
    include = c.mode == "include"

    def test(f: Facts) -> bool:
        hit = (not families or folded(f.visit.device_family) in families) and (
            not systems or folded(f.visit.os) in systems
        )
        return hit == include

    listed = [*c.deviceFamilies, *c.os]
    text = f"the platform is {'' if include else 'not '}{' and '.join(listed)}"
    return Rule(text, None, test, lambda f: f"device {f.visit.device_family!r}, os {f.visit.os!r}")


def _entry_page(c: EntryPageCondition) -> Rule:
    tests = [location_test(r) for r in c.rules]
    text = "the visit came in on " + " or ".join(location_text(r) for r in c.rules)
    return Rule(
        text,
        None,
        lambda f: bool(f.pages) and any(t(f.pages[0]) for t in tests),
        lambda f: page_text(f.pages[0] if f.pages else None),
    )


# --- visitor behaviour --------------------------------------------------------------------


def _cart_value(c: CartValueCondition) -> Rule:
    low, high = c.min, c.max

    def test(f: Facts) -> bool:
        carts = f.carts
        if c.change == "between":
            return _in_range(carts[-1].total, low, high)
        if len(carts) < 2:
            return False
        last, before = carts[-1].total, carts[-2].total
        return last < before if c.change == "decreased" else last == 0 < before

    texts = {
        "between": f"cart total {_range_text(low, high)}",
        "decreased": "cart total decreased",
        "decreasedToZero": "cart total decreased to 0",
    }
    return Rule(
        texts[c.change],
        "cart",
        test,
        lambda f: "cart totals " + ", ".join(str(x.total) for x in f.carts[-2:]),
    )


def _products(
    what: str, by: str | None, values: Sequence[str], low: float | None, high: float | None
) -> tuple[Callable[[Product], bool], str]:
    wanted = frozenset(v.casefold() for v in values)
    priced = low is not None or high is not None

    def matches(p: Product) -> bool:
        if by is not None:
            value = getattr(p, by)
            if value is None or value.casefold() not in wanted:
                return False
        return not priced or _in_range(p.price, low, high)

    parts = [
        f"{by} is one of {_listing(values)}" if by else "",
        f"price {_range_text(low, high)}" if priced else "",
    ]
    return matches, f"{what} whose " + " and ".join(p for p in parts if p)


def _cart_products(c: CartProductsCondition) -> Rule:
    matches, text = _products("a product in the cart", c.by, c.values, None, None)
    include = c.mode == "include"

    def test(f: Facts) -> bool:
        return any(matches(i.product) for i in f.carts[-1].products or ()) == include

    return Rule(
        ("" if include else "no ") + text,
        "cart",
        test,
        lambda f: f"cart {_listing(getattr(i.product, c.by) for i in f.carts[-1].products or ())}",
    )


def _viewed_product(c: ViewedProductCondition) -> Rule:
    matches, text = _products("a viewed product", c.by, c.values, c.minPrice, c.maxPrice)
    include = c.mode == "include"
    return Rule(
        ("" if include else "no ") + text,
        "prodView",
        lambda f: any(matches(p) for p in f.viewed) == include,
        lambda f: f"viewed {_listing((p.name, p.sku, p.price) for p in f.viewed)}",
    )


def _visitor_error(c: VisitorErrorCondition) -> Rule:
    wanted = [v.casefold() for v in c.values]
    include = c.mode == "include"

    def count(f: Facts) -> int:
        counts = f.error_counts(c.by)
        return sum(counts.get(v, 0) for v in wanted)

    times = "" if c.occurrence == 1 else f" at least {c.occurrence} times"
    reported = "reported" if include else "not reported"
    text = f"an error whose {c.by} is one of {_listing(c.values)} was {reported}{times}"
    return Rule(
        text,
        "error",
        lambda f: (count(f) >= c.occurrence) == include,
        lambda f: f"{count(f)} unresolved matching errors",
    )


def _service_activity(c: ServiceActivityCondition) -> Rule:
    topics = frozenset(t.casefold() for t in c.topics)
    statuses = frozenset(c.statuses)

    def test(f: Facts) -> bool:
        return any(folded(s.topic) in topics and s.status in statuses for s in f.services)

    names = ", ".join(SERVICE_STATUS_NAMES[s] for s in c.statuses)
    return Rule(
        f"a service activity on {_listing(c.topics)} is {names}",
        "service",
        test,
        lambda f: f"services {_listing((s.topic, s.status) for s in f.services)}",
    )


def _flow(c: FlowCondition) -> Rule:
    steps = [(location_test(s), s.optional) for s in c.steps]
    text = f"flow {' > '.join(location_text(s) for s in c.steps)} is {c.trigger}"
    return Rule(
        text,
        None,
        lambda f: flow_state(f.pages, steps) == c.trigger,
        lambda f: f"flow {flow_state(f.pages, steps)}",
    )


def flow_state(pages: Sequence[PageFacts], steps: Sequence[tuple[PageTest, bool]]) -> str:
    """``out``, ``in``, ``abandoned``, ``backFlow`` or ``completed`` after these pages."""
    last = len(steps) - 1
    position, state = -1, "out"
    for page in pages:
        matching = [i for i, (test, _) in enumerate(steps) if test(page)]
        if not matching:
            if position >= 0:
                position, state = -1, "abandoned"
            continue
        if position < 0:
            if matching[0] == 0:
                position, state = 0, "in"
            continue
        ahead = [i for i in matching if i >= position]
        step = ahead[0] if ahead else matching[0]
        if step < position:
            position, state = step, "backFlow"
        elif step > position and all(steps[i][1] for i in range(position + 1, step)):
            if step == last:
                return "completed"
            position, state = step, "in"
    return state


def _visited(c: VisitedEntryPointCondition) -> Rule:
    tests = [location_test(r) for r in c.rules]
    text = "the visit went to " + " and ".join(location_text(r) for r in c.rules)
    return Rule(
        text,
        None,
        lambda f: all(any(t(p) for p in f.pages) for t in tests),
        lambda f: "; ".join(page_text(p) for p in f.pages) or "no pages",
    )


def _time_on(c: TimeOnEntryPointCondition) -> Rule:
    at = location_test(c.location)

    def test(f: Facts) -> bool:
        page = f.current
        return page is not None and at(page) and f.now_ms - page.page.at_ms >= c.seconds * 1000

    def observe(f: Facts) -> str:
        page = f.current
        if page is None:
            return "no page"
        return f"{page_text(page)} open {(f.now_ms - page.page.at_ms) // 1000} s"

    text = f"{c.seconds} s on {location_text(c.location)}"
    return Rule(text, None, test, observe)
