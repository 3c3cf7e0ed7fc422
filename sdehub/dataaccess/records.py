"""What the records of Data Access files share: names, headers, numbers, grouping by visit.

WebSession and Engagement records are written as Avro JSON text straight from their rows
(``avrotext``); survey and agent-activity records (``sessions``) are datums: plain dicts in
fastavro's datum form (a nullable field is the bare value or None, a union of records names its
branch as ``(full name, value)``), to which the Avro JSON encoder adds the ``{"string": ...}`` /
``{"com.liveperson.dataaccess.X": ...}`` wrappers real files carry.

Where LivePerson documents no value, sdehub's choice is written next to it (and in
docs/data-access.md): goal type numbers, end reasons, the navigation record.
"""

from __future__ import annotations

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
        try:
            return int(value)
        except ValueError:  # digits int() does not read ("²"), or "--5": no number
            return None
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
