"""Reports on an account's SDEs and the goals they reach: the agent goal tracker and the SDE
activity report (docs/reports.md).

**Goal tracker** (spec/consume.md §4.5, §5.3): the goals reached in a range of UTC days, by any of
campaign, skill, agent and day, each row further split by who reported the SDE that reached the
goal (``agent``: conversation outcomes or an agent survey's engagement-attribute answers, with
the reporting agent; ``consumer``: every other source) and by currency. Definitions:

* *goals reached*: the goal engine's reaches (:mod:`sdehub.goals`) in the range, by the time
  they were reached; duplicates (a repeated orderId, leadId or service activity) never count.
  Self-serve reaches (no campaign's engagement met) count too, under campaign ``null``.
* *assisting conversation*: the conversation the goal engine attributed the reach to (same
  visit, from one of the campaign's engagements); else, for an agent-reported SDE, the
  conversation the agent reported it in; else the visitor's latest conversation started at or
  before the reach, in the same visit or at most ``attributionDays`` days before it (the
  cross-session window; LivePerson offers 0, 1, 7, 14 or 31 days, 31 by default).
* *assisted conversions*: the reaches that have an assisting conversation.
* *skill*: the assisting conversation's skill (its current one, after transfers); *agent*: the
  reporting agent for agent-reported SDEs, else the assisting conversation's last assigned agent
  (LivePerson's "Last" attribution model). Both are ``null`` for unassisted reaches.
* *transactions* / *transactionValue*: the reaches of Transaction ("sell product/service")
  goals and the sum of their order totals; *leads* / *leadValue*: the same for Lead goals;
  *serviceActivities*: reaches of "service activity complete" goals. Values are summed per
  currency as reported (no conversion); ``currency`` is ``null`` when the SDE named none. A
  value follows its conversion: an order reaching two goals, or one goal for two campaigns,
  counts in each, as LivePerson's goal tracker credits every attributed party in full.

Rows are dated by the reach, not by the conversation's start as LivePerson's dashboards do.

**SDE activity**: how many SDEs the account's APIs accepted per UTC day, SDE type, source
(webtag, monitoring, eaapi, connector, jwt, agent, api, demo) and authenticated or not.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, cast, get_args

import msgspec

from sdehub.clock import Clock
from sdehub.errors import BadRequest
from sdehub.model.validation import FieldError
from sdehub.store import Database
from sdehub.store import reports as store
from sdehub.store.reports import DAY_MS, GoalDimension, SdeDimension

GOAL_DIMENSIONS: Final[tuple[GoalDimension, ...]] = get_args(GoalDimension)
SDE_DIMENSIONS: Final[tuple[SdeDimension, ...]] = get_args(SdeDimension)
ATTRIBUTION_DAYS: Final = (0, 1, 7, 14, 31)
MAX_DAYS: Final = 366
DEFAULT_DAYS: Final = 7


class Range(msgspec.Struct, frozen=True):
    first: date
    last: date
    """Inclusive."""

    @property
    def since_ms(self) -> int:
        return _day_number(self.first) * DAY_MS

    @property
    def until_ms(self) -> int:
        return (_day_number(self.last) + 1) * DAY_MS


def _day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _day(number: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=int(number))).isoformat()


# --- parameters ------------------------------------------------------------------------------


def parse_range(query: dict[str, str], today: date) -> Range:
    """``from`` and ``to`` (UTC days, inclusive); by default seven days: up to today, or from
    ``from``."""
    errors: list[FieldError] = []
    days: dict[str, date] = {}
    for name in ("from", "to"):
        raw = query.get(name)
        if raw is None:
            continue
        try:
            days[name] = date.fromisoformat(raw)
            if len(raw) != 10:
                raise ValueError(raw)
        except ValueError:
            errors.append(FieldError(f"$query.{name}", "expected a UTC day: YYYY-MM-DD"))
    if errors:
        raise BadRequest.from_errors(errors)
    week = timedelta(days=DEFAULT_DAYS - 1)
    last = days.get("to") or (days["from"] + week if "from" in days else today)
    first = days.get("from") or last - week
    if first > last:
        problem = FieldError("$query.to", f"must not be before from ({first})")
        raise BadRequest.from_errors([problem])
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRequest.from_errors(
            [FieldError("$query.to", f"a report covers at most {MAX_DAYS} days")]
        )
    return Range(first, last)


def parse_group_by(raw: str | None, allowed: Sequence[str], default: Sequence[str]) -> list[str]:
    """A comma-separated list of distinct dimensions; empty means totals only."""
    if raw is None:
        return list(default)
    chosen = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [c for c in chosen if c not in allowed]
    if unknown or len(set(chosen)) != len(chosen):
        what = f"unknown {', '.join(unknown)}" if unknown else "a dimension is repeated"
        raise BadRequest.from_errors(
            [FieldError("$query.groupBy", f"{what}; expected some of {', '.join(allowed)}")]
        )
    return chosen


def parse_attribution_days(raw: str | None) -> int:
    if raw is None:
        return 31
    if not raw.isdigit() or int(raw) not in ATTRIBUTION_DAYS:
        raise BadRequest.from_errors(
            [
                FieldError(
                    "$query.attributionDays",
                    f"expected one of {', '.join(map(str, ATTRIBUTION_DAYS))}",
                )
            ]
        )
    return int(raw)


# --- the reports -----------------------------------------------------------------------------


class GoalRow(msgspec.Struct, kw_only=True, omit_defaults=True):
    day: str | msgspec.UnsetType = msgspec.UNSET
    campaignId: str | None | msgspec.UnsetType = msgspec.UNSET
    skillId: str | None | msgspec.UnsetType = msgspec.UNSET
    agentId: str | None | msgspec.UnsetType = msgspec.UNSET
    reportedBy: str
    reportingAgentId: str | None
    currency: str | None
    goalsReached: int
    assistedConversions: int
    transactions: int
    transactionValue: float
    leads: int
    leadValue: float
    serviceActivities: int


class GoalTracker(msgspec.Struct, kw_only=True):
    accountId: str
    from_: str = msgspec.field(name="from")
    to: str
    groupBy: list[str]
    attributionDays: int
    rows: list[GoalRow]


class SdeRow(msgspec.Struct, kw_only=True, omit_defaults=True):
    day: str | msgspec.UnsetType = msgspec.UNSET
    type: str | msgspec.UnsetType = msgspec.UNSET
    source: str | msgspec.UnsetType = msgspec.UNSET
    authenticated: bool | msgspec.UnsetType = msgspec.UNSET
    events: int


class SdeActivity(msgspec.Struct, kw_only=True):
    accountId: str
    from_: str = msgspec.field(name="from")
    to: str
    groupBy: list[str]
    rows: list[SdeRow]


_GOAL_FIELDS: Final = {
    "day": "day", "campaign": "campaignId", "skill": "skillId", "agent": "agentId",
}  # fmt: skip
GOAL_METRICS: Final = (
    "reportedBy", "reportingAgentId", "currency", "goalsReached", "assistedConversions",
    "transactions", "transactionValue", "leads", "leadValue", "serviceActivities",
)  # fmt: skip


def _sort_key(values: Sequence[Any]) -> tuple[Any, ...]:
    """Nulls first, whatever the database's order."""
    return tuple((v is not None, v) for v in values)


def goal_rows(found: Sequence[store.GoalAggregate], group_by: Sequence[str]) -> list[GoalRow]:
    out = []
    for a in found:
        dims: dict[str, Any] = {}
        for name, value in zip(group_by, a.dimensions, strict=True):
            dims[_GOAL_FIELDS[name]] = _day(value) if name == "day" else value
        out.append(
            GoalRow(
                **dims,
                reportedBy=a.reported_by,
                reportingAgentId=a.reporter,
                currency=a.currency,
                goalsReached=a.goals,
                assistedConversions=a.assisted,
                transactions=a.transactions,
                transactionValue=a.transaction_value or 0.0,
                leads=a.leads,
                leadValue=a.lead_value or 0.0,
                serviceActivities=a.service_activities,
            )
        )
    fields = [f for d, f in _GOAL_FIELDS.items() if d in group_by]
    columns = [*fields, "reportedBy", "reportingAgentId", "currency"]
    return sorted(out, key=lambda r: _sort_key([getattr(r, c) for c in columns]))


def sde_rows(found: Sequence[store.SdeAggregate], group_by: Sequence[str]) -> list[SdeRow]:
    """The rows of the dimensions asked for: sums of the store's finest rows (a few per day)."""
    sums: dict[tuple[Any, ...], int] = {}
    for a in found:
        day, wire_type, source, authenticated = a.dimensions
        full = {
            "day": _day(day),
            "type": wire_type,
            "source": source,
            "authenticated": bool(authenticated),
        }
        key = tuple(full[d] for d in SDE_DIMENSIONS if d in group_by)
        sums[key] = sums.get(key, 0) + a.events
    fields = [d for d in SDE_DIMENSIONS if d in group_by]
    return [
        SdeRow(**dict(zip(fields, key, strict=True)), events=events)
        for key, events in sorted(sums.items(), key=lambda item: _sort_key(item[0]))
    ]


def csv_columns(report: GoalTracker | SdeActivity) -> list[str]:
    """The columns of the rows, as the JSON rows list them: the dimensions asked for, in a
    fixed order, then the metrics."""
    if isinstance(report, GoalTracker):
        dims = [f for d, f in _GOAL_FIELDS.items() if d in report.groupBy]
        return dims + list(GOAL_METRICS)
    return [d for d in SDE_DIMENSIONS if d in report.groupBy] + ["events"]


def to_csv(report: GoalTracker | SdeActivity) -> str:
    """The report's rows as CSV (RFC 4180, a header line; null is an empty field, booleans are
    true/false)."""
    columns = csv_columns(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in report.rows:
        values = []
        for column in columns:
            value = getattr(row, column)
            if value is None or value is msgspec.UNSET:
                values.append("")
            elif isinstance(value, bool):
                values.append("true" if value else "false")
            else:
                values.append(str(value))
        writer.writerow(values)
    return out.getvalue()


class Reports:
    """The reports of each account, read by :mod:`sdehub.api.reports`."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def today(self) -> date:
        return datetime.fromtimestamp(self._clock.now_ms() / 1000, UTC).date()

    async def goal_tracker(
        self, account_id: str, span: Range, group_by: Sequence[str], attribution_days: int
    ) -> GoalTracker:
        dims = cast(Sequence[GoalDimension], group_by)
        found = await self._db.read(
            lambda c: store.goal_tracker(
                c, account_id, span.since_ms, span.until_ms,
                group_by=dims, window_ms=attribution_days * DAY_MS,
            )
        )  # fmt: skip
        return GoalTracker(
            accountId=account_id,
            from_=span.first.isoformat(),
            to=span.last.isoformat(),
            groupBy=list(group_by),
            attributionDays=attribution_days,
            rows=goal_rows(found, group_by),
        )

    async def sde_activity(
        self, account_id: str, span: Range, group_by: Sequence[str]
    ) -> SdeActivity:
        found = await self._db.read(
            lambda c: store.sde_activity(c, account_id, span.since_ms, span.until_ms)
        )
        return SdeActivity(
            accountId=account_id,
            from_=span.first.isoformat(),
            to=span.last.isoformat(),
            groupBy=list(group_by),
            rows=sde_rows(found, group_by),
        )
