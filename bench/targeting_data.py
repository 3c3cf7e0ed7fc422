"""A deterministic targeting set-up for ``bench/report.py``: a catalog of published campaigns
whose visitor profiles and behaviours are drawn from every condition kind of
:mod:`sdehub.model.conditions`, and visits whose SDEs go through the real decoder.

``random.Random(seed)`` drives everything, so every run builds the same catalog and visits. The
catalog is validated by :func:`sdehub.model.campaigns.decode_catalog` like one an admin PUTs.
The vocabulary (sections, customer types, products, error codes ...) is small on purpose:
conditions and visits draw from the same values, so a condition holds for some visits and not
others, as on a real site.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from sdehub.demo import CATALOG as PRODUCTS
from sdehub.model.campaigns import Catalog, decode_catalog
from sdehub.model.provenance import Entry, Provenance
from sdehub.model.sdes import decode_sdes
from sdehub.model.visit import Conversation, Impression, Page, Visit

NOW_MS: Final = 1_760_000_000_000  # 2025-10-09 08:53:20 UTC: decisions are made at this time
DAY_MS: Final = 86_400_000
HOST: Final = "https://shop.example"
SECTIONS: Final = (
    "home", "sport", "kitchen", "electronics", "deals", "search", "cart", "checkout", "account",
    "support",
)  # fmt: skip
CTYPES: Final = ("vip", "gold", "silver", "regular", "platinum", "new")
CSTATUSES: Final = ("active", "suspended", "cancelled", "trial")
AFFILIATES: Final = ("Google", "Newsletter", "Partner", "Facebook")
MARKETING: Final = ("spring-0", "spring-1", "spring-2", "black-friday")
ERRORS: Final = (
    ("E-PAY", "Card declined"),
    ("E-ADDR", "Address not found"),
    ("E-STOCK", "Out of stock"),
    ("E-LOGIN", "Wrong password"),
)
TOPICS: Final = ("order status", "delivery change", "return", "billing")
ZIPS: Final = ("10001", "20505", "94103", "60601", "73301")
STORES: Final = ("101", "202", "303", "404")
LANGUAGES: Final = ("lang://English", "lang://Spanish")
DEVICES: Final = ("DESKTOP", "TABLET", "MOBILE")
SYSTEMS: Final = ("WINDOWS", "MAC_OSX", "LINUX", "IOS", "ANDROID")
Raw = dict[str, Any]


# --- the catalog ----------------------------------------------------------------------------


def location_rule(rng: random.Random) -> Raw:
    kind = rng.choice(("section", "section", "section", "url", "entryPoint"))
    section = rng.choice(SECTIONS)
    if kind == "section":
        match = rng.choice(("equals", "equals", "startsWith", "contains"))
        value = (
            section if match == "equals" else section[1:4] if match == "contains" else section[:3]
        )
        return {"kind": kind, "value": value, "match": match}
    if kind == "url":
        match = rng.choice(("contains", "startsWith", "regex"))
        other = rng.choice(SECTIONS)
        value = {
            "contains": f"/{section}/",
            "startsWith": f"{HOST}/{section}",
            "regex": rf"^https://shop\.example/({section}|{other})/item-[0-9]+$",
        }[match]
        return {"kind": kind, "value": value, "match": match}
    return {"kind": kind, "value": rng.choice(LANGUAGES)}


def _range(rng: random.Random, low: float, high: float, digits: int = 0) -> Raw:
    a, b = sorted(round(rng.uniform(low, high), digits) for _ in range(2))
    shape = rng.choice(("both", "min", "max"))
    if digits == 0:
        a, b = int(a), int(b)
    return {"min": a, "max": b} if shape == "both" else {shape: a if shape == "min" else b}


def _mode(rng: random.Random) -> str:
    return "exclude" if rng.random() < 0.25 else "include"


def profile_condition(rng: random.Random, kind: str) -> Raw:
    c: Raw = {"type": kind}
    if kind == "marketingSource":
        field = rng.choice(("channels", "affiliates", "campaigns"))
        pool: tuple[Any, ...] = {
            "channels": tuple(range(7)), "affiliates": AFFILIATES, "campaigns": MARKETING
        }[field]  # fmt: skip
        c[field] = rng.sample(pool, 2)
    elif kind in ("customerType", "customerStatus"):
        c["values"] = rng.sample(CTYPES if kind == "customerType" else CSTATUSES, rng.randint(1, 2))
        c["mode"] = _mode(rng)
    elif kind == "age":
        c |= {"exact": rng.randint(18, 80)} if rng.random() < 0.2 else _range(rng, 18, 80)
    elif kind == "timeSinceRegistration":
        c["unit"] = rng.choice(("days", "weeks", "months", "years"))
        c["atLeast"] = {"days": 90, "weeks": 20, "months": 12, "years": 3}[c["unit"]]
    elif kind == "companySize":
        c |= _range(rng, 1, 1000)
    elif kind == "balance":
        c |= _range(rng, -500, 2000, 2)
    elif kind == "customerId":
        c["values"] = [f"C-{n}" for n in rng.sample(range(100, 200), 20)]
    elif kind == "gender":
        c["values"] = [rng.choice(("MALE", "FEMALE", "OTHER"))]
    elif kind in ("storeZipCode", "storeNumber"):
        c["values"] = rng.sample(ZIPS if kind == "storeZipCode" else STORES, 2)
    elif kind == "visitorType":
        c["value"] = rng.choice(("new", "returning"))
    elif kind == "platform":
        c["deviceFamilies"] = rng.sample(DEVICES, rng.randint(1, 2))
        if rng.random() < 0.5:
            c["os"] = rng.sample(SYSTEMS, 2)
        c["mode"] = _mode(rng)
    elif kind == "entryPage":
        c["rules"] = [location_rule(rng) for _ in range(rng.randint(1, 2))]
    return c


def behavior_condition(rng: random.Random, kind: str) -> Raw:
    c: Raw = {"type": kind}
    product = rng.choice(PRODUCTS)
    if kind == "cartValue":
        change = rng.choice(("between", "between", "between", "decreased", "decreasedToZero"))
        c |= {"change": change} | (_range(rng, 10, 600) if change == "between" else {})
    elif kind == "cartProducts":
        by = rng.choice(("name", "sku", "category"))
        c |= {"by": by, "values": [product[("name", "category", "sku").index(by)]]}
        c["mode"] = _mode(rng)
    elif kind == "viewedProduct":
        if rng.random() < 0.5:
            c |= {"by": "category", "values": [product[1]]}
        else:
            low = rng.choice((20, 50, 100))
            c |= {"minPrice": low, "maxPrice": low * 3}
        c["mode"] = _mode(rng)
    elif kind == "visitorError":
        code, message = rng.choice(ERRORS)
        by = rng.choice(("code", "message"))
        c |= {"by": by, "values": [code if by == "code" else message]}
        c |= {"occurrence": rng.choice((1, 1, 2)), "mode": _mode(rng)}
    elif kind == "serviceActivity":
        c |= {"topics": rng.sample(TOPICS, 2), "statuses": rng.sample(range(14), 4)}
    elif kind == "flow":
        steps = [{"value": "home"}, {"value": "cart"}, {"value": "checkout"}]
        if rng.random() < 0.5:
            steps.insert(1, {"value": rng.choice(SECTIONS[1:6]), "optional": True})
        c |= {"steps": steps, "trigger": rng.choice(("abandoned", "backFlow"))}
    elif kind == "visitedEntryPoint":
        c["rules"] = [location_rule(rng) for _ in range(rng.randint(1, 2))]
    elif kind == "timeOnEntryPoint":
        c |= {"location": location_rule(rng), "seconds": rng.choice((10, 30, 60, 120))}
    elif kind == "engagedInSession":
        c |= {"state": rng.choice(("exposed", "declined", "clicked", "interacted"))}
        c["mode"] = _mode(rng)
    return c


PROFILE_KINDS: Final = (
    "marketingSource", "customerType", "customerStatus", "age", "timeSinceRegistration",
    "companySize", "balance", "customerId", "gender", "storeZipCode", "storeNumber",
    "visitorType", "platform", "entryPage",
)  # fmt: skip
BEHAVIOR_KINDS: Final = (
    "cartValue", "cartProducts", "viewedProduct", "visitorError", "serviceActivity", "flow",
    "visitedEntryPoint", "timeOnEntryPoint", "engagedInSession",
)  # fmt: skip


def raw_catalog(
    seed: int = 42, campaigns: int = 100, profiles: int = 30, behaviors: int = 40
) -> Raw:
    """``campaigns`` published, live campaigns of 1-2 engagements each. Every condition kind is
    used (profiles and behaviours take the kinds in turn, then a random second condition)."""
    rng = random.Random(seed)

    def conditions(i: int, kinds: tuple[str, ...], make: Any) -> list[Raw]:
        first = make(rng, kinds[i % len(kinds)])
        return [first] + [make(rng, rng.choice(kinds)) for _ in range(rng.choice((0, 0, 1)))]

    locations = []
    for i in range(12):
        location: Raw = {"id": 301 + i, "name": f"Location {i}"}
        location["include"] = [location_rule(rng) for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.3:
            location["exclude"] = [{"kind": "entryPoint", "value": rng.choice(LANGUAGES)}]
        locations.append(location)
    goals = [
        {"id": 201, "name": "Sell", "type": "purchase", "minTotal": 50},
        {"id": 202, "name": "Leads", "type": "lead"},
        {"id": 203, "name": "Orders fixed", "type": "serviceActivity", "topics": ["order status"],
         "statuses": [0, 13]},
        {"id": 204, "name": "Browse", "type": "pageViews", "pages": 5},
        {"id": 205, "name": "Talk", "type": "interact"},
    ]  # fmt: skip
    items = []
    for i in range(campaigns):
        engagements = []
        for j in range(rng.randint(1, 2)):
            engagement: Raw = {
                "id": 5001 + 2 * i + j,
                "name": f"Engagement {i}.{j}",
                "skillId": rng.randint(101, 105),
                "onsiteLocations": rng.sample(range(301, 313), rng.choice((0, 1, 1, 2))),
                "visitorBehaviors": rng.sample(range(401, 401 + behaviors), rng.randint(1, 2)),
                "revision": rng.randint(1, 9),
            }
            if rng.random() < 0.05:
                engagement["enabled"] = False
            engagements.append(engagement)
        items.append(
            {
                "id": 1001 + i,
                "name": f"Campaign {i}",
                "goalId": rng.choice(goals)["id"],
                "priority": round(rng.random(), 2),
                "status": "Published",
                "startDate": NOW_MS - rng.randint(1, 60) * DAY_MS,
                "expirationDate": NOW_MS + rng.randint(1, 60) * DAY_MS,
                "visitorProfiles": rng.sample(range(601, 601 + profiles), rng.choice((0, 1, 1, 2))),
                "engagements": engagements,
            }
        )
    return {
        "skills": [{"id": 101 + i, "name": f"Skill {i}"} for i in range(5)],
        "goals": goals,
        "onsiteLocations": locations,
        "visitorProfiles": [
            {
                "id": 601 + i,
                "name": f"Profile {i}",
                "conditions": conditions(i, PROFILE_KINDS, profile_condition),
            }
            for i in range(profiles)
        ],  # fmt: skip
        "visitorBehaviors": [
            {
                "id": 401 + i,
                "name": f"Behavior {i}",
                "conditions": conditions(i, BEHAVIOR_KINDS, behavior_condition),
            }
            for i in range(behaviors)
        ],  # fmt: skip
        "campaigns": items,
    }


def catalog(seed: int = 42, campaigns: int = 100) -> Catalog:
    decoded, errors = decode_catalog(raw_catalog(seed, campaigns))
    if decoded is None:
        raise ValueError(f"generated catalog is invalid: {errors[:5]}")
    return decoded


# --- visits ---------------------------------------------------------------------------------


def _product(rng: random.Random) -> Raw:
    name, category, sku, price = rng.choice(PRODUCTS)
    return {"name": name, "category": category, "sku": sku, "price": price}


def visit_sdes(rng: random.Random, i: int) -> list[Raw]:
    """What a visitor's pages reported, in the canonical wire form (as a tag sends it)."""
    sdes: list[Raw] = []
    if rng.random() < 0.7:
        info: Raw = {
            "ctype": rng.choice(CTYPES),
            "cstatus": rng.choice(CSTATUSES),
            "customerId": f"C-{rng.randint(100, 199)}",
            "balance": round(rng.uniform(-500, 2000), 2),
            "currency": "USD",
            "companySize": rng.randint(1, 1000),
            "registrationDate": {
                "day": rng.randint(1, 28), "month": rng.randint(1, 12),
                "year": rng.randint(2015, 2025),
            },
            "storeZipCode": rng.choice(ZIPS),
            "storeNumber": rng.choice(STORES),
        }  # fmt: skip
        sdes.append({"type": "ctmrinfo", "info": info})
    if rng.random() < 0.5:
        personal = {
            "age": {"age": rng.randint(18, 80)},
            "gender": rng.choice(("MALE", "FEMALE", "OTHER")),
            "language": "en-US",
        }
        sdes.append({"type": "personal", "personal": personal})
    if rng.random() < 0.5:
        marketing = {
            "channel": rng.randint(0, 6),
            "affiliate": rng.choice(AFFILIATES),
            "campaignId": rng.choice(MARKETING),
        }
        sdes.append({"type": "mrktInfo", "info": marketing})
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        products = [{"product": _product(rng), "quantity": rng.randint(1, 3)}]
        total = 0.0 if rng.random() < 0.1 else sum(p["product"]["price"] for p in products)
        sdes.append({"type": "cart", "total": round(total, 2), "currency": "USD",
                     "numItems": len(products), "products": products})  # fmt: skip
    if rng.random() < 0.7:
        viewed = [{"product": _product(rng)} for _ in range(rng.randint(1, 2))]
        sdes.append({"type": "prodView", "currency": "USD", "products": viewed})
    for _ in range(rng.choice((0, 0, 1, 2))):
        code, message = rng.choice(ERRORS)
        error = {"contextId": "checkout", "code": code, "message": message, "level": 2,
                 "resolved": rng.random() < 0.2}  # fmt: skip
        sdes.append({"type": "error", "error": error})
    if rng.random() < 0.3:
        service = {"topic": rng.choice(TOPICS), "status": rng.randint(0, 13),
                   "serviceId": f"S-{i}"}  # fmt: skip
        sdes.append({"type": "service", "service": service})
    return sdes


@dataclass(frozen=True)
class Sample:
    """A visit, and its SDEs as the JSON a report carried (the benchmark's decoding baseline)."""

    visit: Visit
    sdes_json: bytes


def visits(seed: int = 42, n: int = 1000) -> list[Sample]:
    """``n`` visits, the current page open for up to five minutes at :data:`NOW_MS`."""
    rng = random.Random(seed + 1)
    out = []
    for i in range(n):
        section = "home"
        pages = []
        at = NOW_MS - rng.randint(0, 300_000)
        trail = []
        for _ in range(rng.randint(1, 6)):
            trail.append(section)
            section = rng.choice(SECTIONS)
        for k, name in enumerate(reversed(trail)):
            entry_points = (f"sec://{name}", f"{HOST}/{name}/item-{rng.randint(1, 99)}")
            entry_points += (rng.choice(LANGUAGES),)
            pages.append(Page(page_id=f"p{i}-{k}", at_ms=at, entry_points=entry_points))
            at -= rng.randint(5_000, 120_000)
        pages.reverse()
        raw = visit_sdes(rng, i)
        records, errors = decode_sdes(raw)
        if errors:
            raise ValueError(f"generated SDEs are invalid: {errors[:5]}")
        first, last = pages[0].at_ms, pages[-1].at_ms
        entries = []
        for k, record in enumerate(records):
            t = first + (last - first) * k // len(records)  # spread over the visit's pages
            meta = Provenance(
                seq=k + 1, source="webtag", authenticated=False, originalTs=t, serverTs=t
            )
            entries.append(Entry(record, meta))
        impressions: tuple[Impression, ...] = ()
        if rng.random() < 0.2:
            kind = rng.choice(("exposed", "accepted", "declined", "closed"))
            engagement = 5001 + rng.randrange(200)
            impressions = (Impression(kind=kind, engagement_id=engagement, at_ms=last),)
        conversations: tuple[Conversation, ...] = ()
        if rng.random() < 0.05:
            conversations = (
                Conversation(conversation_id=f"c{i}", started_ms=first, closed_ms=last),
            )
        visit = Visit(
            visitor_id=f"V{i:05d}",
            session_id=f"S{i:05d}",
            started_ms=first,
            returning=rng.random() < 0.3,
            device_family=rng.choice(DEVICES),
            os=rng.choice(SYSTEMS),
            pages=tuple(pages),
            entries=tuple(entries),
            impressions=impressions,
            conversations=conversations,
        )
        out.append(Sample(visit, msgspec.json.encode(raw)))
    return out
