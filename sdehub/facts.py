"""What a visit shows at one moment, derived once per decision and read by every condition.

Everything is computed on first use, so a decision pays only for what its campaigns ask about.
SDE state follows the chat / web session rules of ingest.md §1.5 (through
:func:`sdehub.model.merge.fold`): Customer Info, Personal Info and Marketing Source *merge*,
Cart *replaces* (its history is kept for "cart value decreased"), the rest *append*. When both an
authenticated and an unauthenticated report of a merged type exist, the authenticated values win
field by field: unauthenticated data "must not back" decisions that need reliable data
(ingest.md §1.4), and the authenticated report is the one the brand vouches for.

Derived dates are UTC calendar dates of ``now_ms``.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import NamedTuple

from sdehub.model.merge import fold, merge_records
from sdehub.model.provenance import Entry
from sdehub.model.types import (
    CartUpdate,
    CustomerInfo,
    CustomerInfoData,
    ErrorData,
    MarketingData,
    MarketingSource,
    PersonalData,
    PersonalInfo,
    Product,
    ServiceActivity,
    ServiceData,
    ViewedProduct,
    VisitorError,
    wire_type,
)
from sdehub.model.visit import Page, Visit

_MERGED = frozenset({"ctmrinfo", "personal", "mrktInfo"})
_UNITS_IN_DAYS = {"days": 1, "weeks": 7}
_EPOCH = dt.date(1970, 1, 1)


class PageFacts(NamedTuple):
    """A page's entry points sorted by what location rules test, as reported and casefolded."""

    page: Page
    sections: tuple[str, ...]
    urls: tuple[str, ...]
    entry_points: tuple[str, ...]
    sections_folded: tuple[str, ...]
    urls_folded: tuple[str, ...]
    entry_points_folded: tuple[str, ...]


def page_facts(page: Page) -> PageFacts:
    sections = tuple(ep[6:] for ep in page.entry_points if ep[:6].lower() == "sec://")
    urls = tuple(
        ep
        for ep in page.entry_points
        if ep[:7].lower() == "http://" or ep[:8].lower() == "https://"
    )
    if page.url is not None and page.url not in urls:
        urls = (page.url, *urls)
    return PageFacts(
        page,
        sections,
        urls,
        page.entry_points,
        tuple(s.casefold() for s in sections),
        tuple(u.casefold() for u in urls),
        tuple(e.casefold() for e in page.entry_points),
    )


def folded(value: str | None) -> str | None:
    return None if value is None else value.casefold()


class Facts:
    """The evidence of one visit at ``now_ms``. ``memo`` is for the caller's verdicts on it
    (targeting evaluates a profile used by several campaigns once per decision)."""

    def __init__(self, visit: Visit, now_ms: int) -> None:
        self.visit = visit
        self.now_ms = now_ms
        self.entries: list[Entry] = sorted(visit.entries, key=lambda e: e.meta.seq)
        self.reported = frozenset(wire_type(e.record) for e in self.entries)
        self.memo: dict[object, bool] = {}
        self._error_counts: dict[str, dict[str, int]] = {}

    # --- visitor info (merged) ----------------------------------------------------------

    @cached_property
    def _merged(self) -> dict[str, object]:
        state = fold((e for e in self.entries if wire_type(e.record) in _MERGED), "chat")
        merged: dict[str, object] = {}
        for wire, entries in state.items():
            ordered = sorted(entries, key=lambda e: e.meta.authenticated)
            record = ordered[0].record
            for entry in ordered[1:]:
                record = merge_records(record, entry.record)
            merged[wire] = record
        return merged

    @cached_property
    def customer(self) -> CustomerInfoData | None:
        record = self._merged.get("ctmrinfo")
        return record.info if isinstance(record, CustomerInfo) else None

    @cached_property
    def personal(self) -> PersonalData | None:
        record = self._merged.get("personal")
        return record.personal if isinstance(record, PersonalInfo) else None

    @cached_property
    def marketing(self) -> MarketingData | None:
        record = self._merged.get("mrktInfo")
        return record.info if isinstance(record, MarketingSource) else None

    @cached_property
    def age(self) -> int | None:
        """The reported age, or the age computed from the reported birth date (the older docs:
        computed when ``age`` is absent). A missing month or day counts as the 1st."""
        age = self.personal.age if self.personal is not None else None
        if age is None:
            return None
        if age.age is not None:
            return age.age
        if age.year is None:
            return None
        born = _date(age.year, age.month or 1, age.day or 1)
        return None if born is None else _whole_months(born, self.today) // 12

    def time_since_registration(self, unit: str) -> int | None:
        """Whole ``unit``s since the Customer Info registration date; None without a valid one."""
        reg = self.customer.registrationDate if self.customer is not None else None
        born = None if reg is None else _date(reg.year, reg.month, reg.day)
        if born is None:
            return None
        if unit in _UNITS_IN_DAYS:
            return (self.today - born).days // _UNITS_IN_DAYS[unit]
        months = _whole_months(born, self.today)
        return months if unit == "months" else months // 12

    @cached_property
    def today(self) -> dt.date:
        return _EPOCH + dt.timedelta(days=self.now_ms // 86_400_000)

    # --- eCommerce and journey (appended or replaced) -----------------------------------

    @cached_property
    def carts(self) -> list[CartUpdate]:
        """Every cart update in order; the last is the current cart."""
        return [e.record for e in self.entries if isinstance(e.record, CartUpdate)]

    @cached_property
    def viewed(self) -> list[Product]:
        return [
            item.product
            for e in self.entries
            if isinstance(e.record, ViewedProduct)
            for item in e.record.products or ()
        ]

    @cached_property
    def errors(self) -> list[ErrorData]:
        return [e.record.error for e in self.entries if isinstance(e.record, VisitorError)]

    def error_counts(self, by: str) -> dict[str, int]:
        """Unresolved reports per message (or code), casefolded. "All errors are aggregated in a
        list during the session until resolved": a report with ``resolved: true`` clears the
        count of its message (or code)."""
        counts = self._error_counts.get(by)
        if counts is None:
            counts = self._error_counts[by] = {}
            for error in self.errors:
                value = folded(error.message if by == "message" else error.code)
                if value is not None:
                    counts[value] = 0 if error.resolved else counts.get(value, 0) + 1
        return counts

    @cached_property
    def services(self) -> list[ServiceData]:
        return [e.record.service for e in self.entries if isinstance(e.record, ServiceActivity)]

    # --- pages and engagements ----------------------------------------------------------

    @cached_property
    def pages(self) -> list[PageFacts]:
        return [page_facts(p) for p in self.visit.pages]

    @cached_property
    def current(self) -> PageFacts | None:
        return self.pages[-1] if self.pages else None

    @cached_property
    def engaged(self) -> frozenset[str]:
        """Which "engaged in session" states hold. Every impression kind means the engagement
        was displayed; ``impClose`` is how the web tag reports a dismissed offer."""
        kinds = {i.kind for i in self.visit.impressions}
        states = set()
        if kinds:
            states.add("exposed")
        if "accepted" in kinds:
            states.add("clicked")
        if kinds & {"declined", "closed"}:
            states.add("declined")
        if self.visit.conversations:
            states.add("interacted")
        return frozenset(states)


def _date(year: int, month: int, day: int) -> dt.date | None:
    """The date, or None when the reported parts name none (the wire allows 31 February)."""
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _whole_months(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (end.day < start.day)
