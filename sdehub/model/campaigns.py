"""An account's targeting configuration: skills, goals, onsite locations, visitor profiles and
behaviours, and campaigns with their engagements — the :class:`Catalog`.

Field names are LivePerson's account configuration names (``le-campaigns``, ``le-targeting``):
a campaign has ``priority``, ``status``, ``goalId``, ``visitorProfiles`` (ids),
``startDate``/``expirationDate`` and its ``engagements``; an engagement has ``skillId``,
``onsiteLocations`` and ``visitorBehaviors`` (ids), ``language``, ``connectorId``, ``windowId``
and ``enabled``. Where we differ from LivePerson, and why:

* ``startDate``/``expirationDate`` are epoch milliseconds (UTC). LivePerson sends a local
  ``"YYYY-MM-DD HH:MM:SS"`` string plus a ``timeZone``; converting that belongs to the admin API,
  so that evaluation here never needs a time-zone database. A campaign is live from
  ``startDate`` (inclusive) to ``expirationDate`` (exclusive); an absent bound is open.
* ``status`` is ``"Published"`` or ``"Unpublished"``; LivePerson's numeric codes (0 Unpublished,
  1 Published) are accepted too.
* ``priority`` is a number as in LivePerson (0.5 by default); **the higher number wins**, and
  equal priorities go to the lower campaign id (the older campaign), so the order is total.
* Visitor profiles hang on the campaign and behaviours on the engagement, as in LivePerson; when
  a list holds several, every one must hold. An empty list means "All visitors" / "All
  behaviors"; an engagement with no onsite location is shown on the entire site.
* Goals are one record with a ``type`` (``interact`` when absent) and the parameters of that type;
  see :class:`Goal`.

:func:`decode_catalog` checks, beyond the types: ids unique per kind (engagement ids across all
campaigns), every reference resolvable (skill, goal, profile, behaviour, location), bounds in
order, and each condition's own rules (:meth:`Config.problems`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from sdehub.model.conditions import (
    Config,
    Id,
    LocationRule,
    Problems,
    VisitorBehavior,
    VisitorProfile,
)
from sdehub.model.types import ServiceStatus, Text
from sdehub.model.validation import FieldError, Path, describe, format_path, validate

EpochMs = Annotated[int, Meta(ge=0, description="epoch milliseconds, UTC")]
CampaignStatus = Annotated[
    Literal["Unpublished", "Published"],
    Meta(extra={"codes": ("Unpublished", "Published")}, description="0 Unpublished, 1 Published"),
]
GoalType = Literal["purchase", "lead", "serviceActivity", "pageViews", "interact"]


class Skill(Config):
    id: Id
    name: Text = ""


class Goal(Config):
    """A campaign goal (consume.md §5.3). By ``type``:

    * ``purchase`` ("Sell product/service"): a Transaction arrives whose total is more than
      ``minTotal``, or any Transaction when ``minTotal`` is absent; the currency is ignored.
    * ``lead`` ("Generate leads"): any Lead arrives.
    * ``serviceActivity``: a Service Activity arrives whose topic is one of ``topics`` and whose
      status is one of the success ``statuses``.
    * ``pageViews`` ("Increase page views"): the visit has at least ``pages`` pages.
    * ``interact`` ("Interact with visitors", the default): a conversation in the session.

    ``countOncePerVisit`` counts at most one reach of the goal per campaign per visit (the
    documented checkbox); ``interact`` always counts once, as documented.
    """

    id: Id
    name: Text = ""
    type: GoalType = "interact"
    minTotal: Annotated[float, Meta(ge=0)] | None = None
    topics: list[Text] = []
    statuses: list[ServiceStatus] = []
    pages: Annotated[int, Meta(ge=1)] | None = None
    countOncePerVisit: bool = False

    def problems(self) -> Problems:
        if self.type == "serviceActivity":
            if not self.topics:
                yield "topics", "a serviceActivity goal needs at least one topic"
            if not self.statuses:
                yield "statuses", "a serviceActivity goal needs at least one success status"
        else:
            for field in ("topics", "statuses"):
                if getattr(self, field):
                    yield field, f"only a serviceActivity goal takes {field}"
        if self.type == "pageViews" and self.pages is None:
            yield "pages", "a pageViews goal needs the number of pages"
        elif self.type != "pageViews" and self.pages is not None:
            yield "pages", "only a pageViews goal takes pages"
        if self.type != "purchase" and self.minTotal is not None:
            yield "minTotal", "only a purchase goal takes minTotal"


class OnsiteLocation(Config):
    """Where engagements may show: a page is in the location when it matches some ``include``
    rule (or ``include`` is empty: the entire site) and no ``exclude`` rule."""

    id: Id
    name: Text = ""
    include: list[LocationRule] = []
    exclude: list[LocationRule] = []


class Engagement(Config):
    id: Id
    name: Text = ""
    enabled: bool = True
    skillId: Id | None = None
    language: Text | None = None
    onsiteLocations: list[Id] = []
    visitorBehaviors: list[Id] = []
    connectorId: Id | None = None
    windowId: Id | None = None
    revision: Annotated[int, Meta(ge=0)] = 1


class Campaign(Config):
    id: Id
    goalId: Id
    name: Text = ""
    priority: float = 0.5
    status: CampaignStatus = "Unpublished"
    startDate: EpochMs | None = None
    expirationDate: EpochMs | None = None
    visitorProfiles: list[Id] = []
    engagements: list[Engagement] = []

    def problems(self) -> Problems:
        start, end = self.startDate, self.expirationDate
        if start is not None and end is not None and end <= start:
            yield "expirationDate", f"expected a date after startDate ({start}), got {end}"

    def live(self, now_ms: int) -> bool:
        """Published, started and not expired at ``now_ms``."""
        return (
            self.status == "Published"
            and (self.startDate is None or self.startDate <= now_ms)
            and (self.expirationDate is None or now_ms < self.expirationDate)
        )


class Catalog(Config):
    """Everything targeting and goals read for one account."""

    skills: list[Skill] = []
    goals: list[Goal] = []
    onsiteLocations: list[OnsiteLocation] = []
    visitorProfiles: list[VisitorProfile] = []
    visitorBehaviors: list[VisitorBehavior] = []
    campaigns: list[Campaign] = []


def decode_catalog(raw: Any) -> tuple[Catalog | None, list[FieldError]]:
    """Validate a catalog (decoded JSON, or JSON text); return it, or every problem found."""
    if isinstance(raw, bytes | str):
        try:
            raw = msgspec.json.decode(raw)
        except msgspec.DecodeError as e:
            return None, [FieldError("$", f"expected JSON, got invalid text ({e})")]
    if not isinstance(raw, dict):
        return None, [FieldError("$", f"expected an object, got {describe(raw)}")]
    catalog, errors = validate(raw, Catalog)
    if catalog is None:
        return None, errors
    errors = [FieldError(format_path(path), message) for path, message in problems(catalog)]
    return (catalog, []) if not errors else (None, errors)


def problems(catalog: Catalog) -> Iterator[tuple[Path, str]]:
    """What makes a well-typed catalog unusable, each with the path of the field at fault."""
    yield from _duplicates("skills", [s.id for s in catalog.skills])
    yield from _duplicates("goals", [g.id for g in catalog.goals])
    yield from _duplicates("onsiteLocations", [loc.id for loc in catalog.onsiteLocations])
    yield from _duplicates("visitorProfiles", [p.id for p in catalog.visitorProfiles])
    yield from _duplicates("visitorBehaviors", [b.id for b in catalog.visitorBehaviors])
    yield from _duplicates("campaigns", [c.id for c in catalog.campaigns])
    engagement_ids: set[int] = set()
    skills = {s.id for s in catalog.skills}
    goals = {g.id for g in catalog.goals}
    locations = {loc.id for loc in catalog.onsiteLocations}
    profiles = {p.id for p in catalog.visitorProfiles}
    behaviors = {b.id for b in catalog.visitorBehaviors}

    yield from _own(("goals",), catalog.goals)
    for i, loc in enumerate(catalog.onsiteLocations):
        yield from _own(("onsiteLocations", i, "include"), loc.include)
        yield from _own(("onsiteLocations", i, "exclude"), loc.exclude)
    conditions: list[tuple[Path, Sequence[Config]]] = [
        *((("visitorProfiles", i), p.conditions) for i, p in enumerate(catalog.visitorProfiles)),
        *((("visitorBehaviors", i), b.conditions) for i, b in enumerate(catalog.visitorBehaviors)),
    ]
    for at, group in conditions:
        for j, condition in enumerate(group):
            yield from _own((*at, "conditions", j), [condition], indexed=False)
            yield from _nested((*at, "conditions", j), condition)
    for i, campaign in enumerate(catalog.campaigns):
        at = ("campaigns", i)
        yield from _own(at, [campaign], indexed=False)
        if campaign.goalId not in goals:
            yield (*at, "goalId"), f"no goal has id {campaign.goalId}"
        yield from _missing(
            (*at, "visitorProfiles"), campaign.visitorProfiles, profiles, "visitor profile"
        )
        for j, engagement in enumerate(campaign.engagements):
            e_at: Path = (*at, "engagements", j)
            if engagement.id in engagement_ids:
                yield (*e_at, "id"), f"engagement id {engagement.id} is used more than once"
            engagement_ids.add(engagement.id)
            if engagement.skillId is not None and engagement.skillId not in skills:
                yield (*e_at, "skillId"), f"no skill has id {engagement.skillId}"
            refs = (
                ("onsiteLocations", engagement.onsiteLocations, locations, "onsite location"),
                ("visitorBehaviors", engagement.visitorBehaviors, behaviors, "visitor behavior"),
            )
            for field, ids, known, what in refs:
                yield from _missing((*e_at, field), ids, known, what)


def _duplicates(kind: str, ids: list[int]) -> Iterator[tuple[Path, str]]:
    seen: set[int] = set()
    for i, item_id in enumerate(ids):
        if item_id in seen:
            yield (kind, i, "id"), f"id {item_id} is used more than once"
        seen.add(item_id)


def _own(at: Path, items: Iterable[Config], *, indexed: bool = True) -> Iterator[tuple[Path, str]]:
    for i, item in enumerate(items):
        base = (*at, i) if indexed else at
        for field, message in item.problems():
            yield (*base, field), message


def _nested(at: Path, condition: Config) -> Iterator[tuple[Path, str]]:
    """Problems of the location rules inside a condition (steps, rules, location)."""
    for field in ("steps", "rules"):
        yield from _own((*at, field), getattr(condition, field, ()))
    location = getattr(condition, "location", None)
    if isinstance(location, LocationRule):
        yield from _own((*at, "location"), [location], indexed=False)


def _missing(at: Path, ids: list[int], known: set[int], what: str) -> Iterator[tuple[Path, str]]:
    for i, ref in enumerate(ids):
        if ref not in known:
            yield (*at, i), f"no {what} has id {ref}"
