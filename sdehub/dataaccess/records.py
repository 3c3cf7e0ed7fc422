"""Rows of one hour, turned into the records of Data Access files.

Records are plain dicts in fastavro's datum form: a nullable field is the bare value or None, and a
union of records names its branch as ``(full name, value)``. The Avro JSON encoder then adds the
``{"string": ...}`` / ``{"com.liveperson.dataaccess.X": ...}`` wrappers real files carry.

Where LivePerson documents no value, sdehub's choice is written next to it (and in
docs/data-access.md): goal type numbers, end reasons, the navigation record.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sdehub.model.naming import BY_WIRE
from sdehub.store.exports import Row

NS = "com.liveperson.dataaccess"
Datum = dict[str, Any]
# LivePerson does not publish campaignGoalType numbers; its one example pairs 1 with page views.
GOAL_TYPES = {"pageViews": 1, "purchase": 2, "lead": 3, "serviceActivity": 4, "interact": 5}


def named(name: str, value: Datum) -> tuple[str, Datum]:
    return (f"{NS}.{name}", value)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _date(value: Any) -> Datum | None:
    if not isinstance(value, dict):
        return None
    return {k: as_int(value.get(k)) for k in ("year", "month", "day")}


def _products(items: Any) -> list[Datum] | None:
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        product = item.get("product") or {}
        out.append(
            {
                "quantity": as_int(item.get("quantity")),
                "product": {
                    "name": _str(product.get("name")),
                    "category": _str(product.get("category")),
                    "sku": _str(product.get("sku")),
                    "price": _float(product.get("price")),
                },
            }
        )
    return out


def header(visitor_id: str | None, session_id: str | None, context_id: Any = None) -> Any:
    return named(
        "VisitorHeader",
        {"visitId": session_id, "visitorId": visitor_id, "contextId": _str(context_id)},
    )


# --- SDEs ------------------------------------------------------------------------------------


def _customer(p: Datum, auth: bool) -> Datum:
    i = p.get("info") or {}
    return {
        "isAuthenticated": auth, "authenticatedConversationId": None,
        "customerStatus": _str(i.get("cstatus")), "customerType": _str(i.get("ctype")),
        "balance": _float(i.get("balance")), "customerId": _str(i.get("customerId")),
        "socialId": _str(i.get("socialId")), "imei": _str(i.get("imei")),
        "userName": _str(i.get("userName")), "companySize": as_int(i.get("companySize")),
        "accountName": _str(i.get("accountName")), "role": _str(i.get("role")),
        "lastPaymentDate": _date(i.get("lastPaymentDate")),
        "registrationDate": _date(i.get("registrationDate")),
        "storeNumber": _str(i.get("storeNumber")), "storeZipCode": _str(i.get("storeZipCode")),
    }  # fmt: skip


def _personal(p: Datum, auth: bool) -> Datum:
    i = p.get("personal") or {}
    age = i.get("age")
    contacts = i.get("contacts")
    return {
        "isAuthenticated": auth, "authenticatedConversationId": None,
        "name": _str(i.get("firstname")), "surname": _str(i.get("lastname")),
        "gender": _str(i.get("gender")), "company": _str(i.get("company")),
        "customerAge": None if not isinstance(age, dict) else {
            "customerAgeInYears": as_int(age.get("age")),
            "customerYearOfBirth": as_int(age.get("year")),
            "customerMonthOfBirth": as_int(age.get("month")),
            "customerDateOfBirth": as_int(age.get("day")),
        },
        "contacts": None if not isinstance(contacts, list) else [
            {"email": _str(c.get("email")), "phone": _str(c.get("phone"))} for c in contacts
        ],
    }  # fmt: skip


def _marketing(p: Datum, auth: bool) -> Datum:
    i = p.get("info") or {}
    return {
        "originatingChannel": as_int(i.get("channel")),
        "affiliate": _str(i.get("affiliate")),
        "campaignId": _str(i.get("campaignId", i.get("campaignID"))),
    }


def _lead(p: Datum, auth: bool) -> Datum:
    i = p.get("lead") or {}
    return {
        "topic": _str(i.get("topic")),
        "leadId": _str(i.get("leadId")),
        "value": _float(i.get("value")),
    }


def _purchase(p: Datum, auth: bool) -> Datum:
    cart = p.get("cart")
    return {
        "total": _float(p.get("total")),
        "orderId": _str(p.get("orderId")),
        "cart": None if not isinstance(cart, dict) else {
            "total": None,
            "numItems": as_int(cart.get("numItems")),
            "products": _products(cart.get("products")),
        },
    }  # fmt: skip


def _cart(p: Datum, auth: bool) -> Datum:
    return {
        "total": _float(p.get("total")),
        "numItems": as_int(p.get("numItems")),
        "products": _products(p.get("products")),
    }


def _viewed(p: Datum, auth: bool) -> Datum:
    return {"products": _products(p.get("products"))}


def _service(p: Datum, auth: bool) -> Datum:
    i = p.get("service") or {}
    return {
        "topic": _str(i.get("topic")),
        "status": as_int(i.get("status")),
        "category": _str(i.get("category")),
        "serviceId": _str(i.get("serviceId")),
    }


def _error(p: Datum, auth: bool) -> Datum:
    i = p.get("error") or {}
    # Data Access types the code as a long; a code that is not a number has nowhere to go.
    return {
        "contextId": _str(i.get("contextId")),
        "message": _str(i.get("message")),
        "code": as_int(i.get("code")),
        "level": as_int(i.get("level")),
        "resolved": i.get("resolved") if isinstance(i.get("resolved"), bool) else None,
    }


SDE_RECORDS: dict[str, Callable[[Datum, bool], Datum]] = {
    "ctmrinfo": _customer,
    "personal": _personal,
    "mrktInfo": _marketing,
    "lead": _lead,
    "purchase": _purchase,
    "cart": _cart,
    "prodView": _viewed,
    "service": _service,
    "error": _error,
}


# Wire type -> (full record name, builder), for the types Data Access carries.
_BUILDERS = {
    wire: (f"{NS}.{BY_WIRE[wire].dataaccess}", build)
    for wire, build in SDE_RECORDS.items()
    if wire in BY_WIRE and BY_WIRE[wire].dataaccess
}


def engagement_attribute(event: Row) -> Datum | None:
    """One SDE as ``{timestamp, data}``; None for types Data Access does not carry."""
    found = _BUILDERS.get(event["wire_type"])
    if found is None:
        return None
    name, build = found
    data = build(event["payload"], bool(event["authenticated"]))
    return {"timestamp": event["server_ms"], "data": (name, data)}


def by_visit(rows: Iterable[Row]) -> dict[tuple[str, str], list[Row]]:
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(row["visitor_id"], row["session_id"])].append(row)
    return dict(sorted(grouped.items()))


def eng_attrs_body(visit: tuple[str, str], events: list[Row]) -> tuple[Datum, list[int]]:
    attrs = [a for a in map(engagement_attribute, events) if a is not None]
    body = {"header": header(*visit), "engagementAttributes": attrs}
    return {"body": named("WebSessionEngAttrsData", body)}, [a["timestamp"] for a in attrs]


def navigation_body(visit: tuple[str, str], pages: list[Row]) -> tuple[Datum, list[int]]:
    views = []
    for page in pages:
        points = [str(p) for p in page["entry_points"] or []]
        urls = [p for p in points if not p.lower().startswith("sec://")]
        views.append(
            {
                "timestamp": page["first_ms"],
                "pageId": page["page_id"],
                "url": urls[0] if urls else None,
                "sections": [p[6:] for p in points if p.lower().startswith("sec://")],
            }
        )
    body = {"header": header(*visit), "pageViews": views}
    return {"body": named("WebSessionNavigationData", body)}, [v["timestamp"] for v in views]


def _goal_metadata(goal: Row) -> Any:
    details = goal["details"] or {}
    kind = goal["goal_type"]
    if kind == "purchase":
        return named("PurchaseMetadata", {
            "total": goal["value"], "orderId": _str(details.get("orderId")), "cartStatus": None,
        })  # fmt: skip
    if kind == "lead":
        return named("LeadMetaData", {
            "topic": _str(details.get("topic")), "leadId": _str(details.get("leadId")),
            "value": goal["value"],
        })  # fmt: skip
    if kind == "serviceActivity":
        return named("ServiceActivityMetaData", {
            "topic": _str(details.get("topic")), "status": as_int(details.get("status")),
            "category": _str(details.get("category")),
            "serviceId": _str(details.get("serviceId")),
        })  # fmt: skip
    if kind == "pageViews":
        pages = as_int(details.get("pages", details.get("numberOfPages")))
        return named("ReduceAbandonmentGoalMetadata", {"numberOfPages": pages})
    return named("IncreaseInteractionGoalMetadata", {
        "engagement": goal["engagement_id"], "campaign": goal["campaign_id"],
    })  # fmt: skip


def goals_body(visit: tuple[str, str], goals: list[Row]) -> tuple[Datum, list[int]]:
    achieved = [
        {
            # A uuid, as documented; derived from the row so re-exports give the same one.
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sdehub:{goal['account_id']}:{goal['id']}")),
            "timestamp": goal["reached_ms"],
            "campaignGoalId": goal["goal_id"],
            "campaignGoalRevision": as_int((goal["details"] or {}).get("revision")),
            "campaignGoalType": GOAL_TYPES.get(goal["goal_type"]),
            "goalMetaData": _goal_metadata(goal),
        }
        for goal in goals
    ]
    body = {"header": header(*visit), "achievedGoals": achieved}
    return {"body": named("WebSessionGoalAchievedData", body)}, [g["reached_ms"] for g in goals]
