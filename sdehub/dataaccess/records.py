"""Rows of one hour, turned into the records of Data Access files that few rows make: goals.

(SDEs, pages and conversations, most of an hour's bytes, are written as Avro JSON text straight
from their rows by ``avrotext``, with the same choices.)

Records are plain dicts in fastavro's datum form: a nullable field is the bare value or None, and a
union of records names its branch as ``(full name, value)``. The Avro JSON encoder then adds the
``{"string": ...}`` / ``{"com.liveperson.dataaccess.X": ...}`` wrappers real files carry.

Where LivePerson documents no value, sdehub's choice is written next to it (and in
docs/data-access.md): goal type numbers, end reasons, the navigation record.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

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


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def header(visitor_id: str | None, session_id: str | None, context_id: Any = None) -> Any:
    return named(
        "VisitorHeader",
        {"visitId": session_id, "visitorId": visitor_id, "contextId": _str(context_id)},
    )


def by_visit(rows: Iterable[Row]) -> dict[tuple[str, str], list[Row]]:
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(row["visitor_id"], row["session_id"])].append(row)
    return dict(sorted(grouped.items()))


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
