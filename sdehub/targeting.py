"""Which engagement to offer a visitor now: campaigns, engagements and the visit, at ``now_ms``.

The rule, in order:

1. Campaigns that are live at ``now_ms`` (Published, ``startDate <= now < expirationDate``),
   the **higher** ``priority`` first; equal priorities go to the lower campaign id.
2. Every visitor profile of the campaign holds (no profile: "All visitors").
3. Within the campaign, engagements in the order listed; the first that is enabled, whose onsite
   locations include the current page (none: the entire site; with no page yet only the entire
   site does), and whose behaviours all hold (none: "All behaviors") is the decision.

How each condition reads the visit, including what an SDE that was never reported means, is in
:mod:`sdehub.rules`. A reference that does not resolve (a catalog built without
:func:`~sdehub.model.campaigns.decode_catalog`) never holds, so a broken configuration hides an
engagement rather than showing it everywhere.

Not decided here: an open conversation (the Monitoring API answers with it instead of an
engagement, ingest.md §3.2 — see :attr:`Visit.open_conversation_id`), and LivePerson's random
traffic split by ``weight`` and control groups; this server is deterministic.

:func:`compile_catalog` does the per-catalog work once (sorting, compiling conditions and
regular expressions); :func:`decide` and :func:`explain` take its result or, more slowly, a
:class:`Catalog`. Within one decision a profile, behaviour or location shared by several
campaigns is evaluated once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import msgspec

from sdehub.facts import Facts
from sdehub.model.campaigns import Campaign, Catalog, Engagement, OnsiteLocation
from sdehub.model.conditions import Condition, LocationRule
from sdehub.model.visit import Visit
from sdehub.rules import PageTest, Rule, compile_rule, location_test, location_text, page_text


class Check(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One condition of one decision, for people reading why."""

    subject: str
    """What the condition belongs to: ``campaign 1 'Spring'``, ``visitor profile 7 'VIP'``..."""
    condition: str
    holds: bool
    observed: str | None = None


class Decision(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The engagement to offer; the Monitoring API's ``engagementDetails`` item is built from it."""

    campaignId: int
    engagementId: int
    engagementRevision: int
    goalId: int
    skillId: int | None = None
    connectorId: int | None = None
    windowId: int | None = None
    language: str | None = None
    reasons: list[Check] = []


class Verdict(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Why one engagement was or was not chosen."""

    campaignId: int
    engagementId: int | None
    chosen: bool
    checks: list[Check]


# --- compiled catalog ---------------------------------------------------------------------


class _Group:
    """A visitor profile or behaviour: all of its rules must hold. Hashed by identity, so it can
    key the per-decision memo cheaply."""

    __slots__ = ("rules", "subject")

    def __init__(self, subject: str, rules: tuple[Rule, ...]) -> None:
        self.subject, self.rules = subject, rules

    def test(self, facts: Facts) -> bool:
        return all(r.holds(facts) for r in self.rules)


class _Location:
    """An onsite location: some include rule (or none at all) and no exclude rule matches."""

    __slots__ = ("exclude", "include", "text")

    def __init__(
        self, text: str, include: tuple[PageTest, ...], exclude: tuple[PageTest, ...]
    ) -> None:
        self.text, self.include, self.exclude = text, include, exclude

    def test(self, facts: Facts) -> bool:
        page = facts.current
        if page is None:
            return not self.include
        return (not self.include or any(t(page) for t in self.include)) and not any(
            t(page) for t in self.exclude
        )


def _holds(item: _Group | _Location, facts: Facts) -> bool:
    """``item.test(facts)``, computed once per decision: profiles, behaviours and locations are
    shared between campaigns and engagements."""
    verdict = facts.memo.get(item)
    if verdict is None:
        verdict = facts.memo[item] = item.test(facts)
    return verdict


# Loops rather than all()/any() over generators: these run for every campaign of a decision.
def _all_hold(groups: tuple[_Group, ...], facts: Facts) -> bool:
    for group in groups:
        if not _holds(group, facts):
            return False
    return True


def _located(locations: tuple[_Location, ...], facts: Facts) -> bool:
    for location in locations:
        if _holds(location, facts):
            return True
    return not locations


class _Engagement(NamedTuple):
    engagement: Engagement
    subject: str
    locations: tuple[_Location, ...]
    behaviors: tuple[_Group, ...]

    def eligible(self, facts: Facts) -> bool:
        return (
            self.engagement.enabled
            and _located(self.locations, facts)
            and _all_hold(self.behaviors, facts)
        )


class _Campaign(NamedTuple):
    campaign: Campaign
    subject: str
    profiles: tuple[_Group, ...]
    engagements: tuple[_Engagement, ...]


class Targeting:
    """A catalog compiled for deciding: campaigns in priority order, conditions as tests. Build
    it once per catalog revision (:func:`compile_catalog`); decisions only read it, so one
    serves any number of concurrent decisions."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        profiles = {
            p.id: _group("visitor profile", p.id, p.name, p.conditions)
            for p in catalog.visitorProfiles
        }
        behaviors = {
            b.id: _group("visitor behavior", b.id, b.name, b.conditions)
            for b in catalog.visitorBehaviors
        }
        locations = {loc.id: _location(loc) for loc in catalog.onsiteLocations}
        ordered = sorted(catalog.campaigns, key=lambda c: (-c.priority, c.id))
        self.campaigns: tuple[_Campaign, ...] = tuple(
            _Campaign(
                c,
                _subject("campaign", c.id, c.name),
                tuple(profiles.get(i) or _unknown("visitor profile", i) for i in c.visitorProfiles),
                tuple(
                    _Engagement(
                        e,
                        _subject("engagement", e.id, e.name),
                        tuple(locations.get(i) or _nowhere(i) for i in e.onsiteLocations),
                        tuple(
                            behaviors.get(i) or _unknown("visitor behavior", i)
                            for i in e.visitorBehaviors
                        ),
                    )
                    for e in c.engagements
                ),
            )
            for c in ordered
        )


def compile_catalog(catalog: Catalog) -> Targeting:
    return Targeting(catalog)


def _subject(kind: str, item_id: int, name: str) -> str:
    return f"{kind} {item_id} {name!r}" if name else f"{kind} {item_id}"


def _group(kind: str, group_id: int, name: str, conditions: Sequence[Condition]) -> _Group:
    rules = tuple(compile_rule(c) for c in conditions)
    return _Group(_subject(kind, group_id, name), rules)


def _unknown(kind: str, group_id: int) -> _Group:
    never = Rule(f"{kind} {group_id} exists", None, lambda f: False, lambda f: "not configured")
    return _Group(_subject(kind, group_id, ""), (never,))


def _location(loc: OnsiteLocation) -> _Location:
    def listing(rules: list[LocationRule]) -> str:
        return " or ".join(location_text(r) for r in rules)

    text = _subject("onsite location", loc.id, loc.name) + (
        f" ({listing(loc.include)})" if loc.include else " (entire site)"
    )
    if loc.exclude:
        text += f" except {listing(loc.exclude)}"
    return _Location(
        text,
        tuple(location_test(r) for r in loc.include),
        tuple(location_test(r) for r in loc.exclude),
    )


def _nowhere(location_id: int) -> _Location:
    def never(page: object) -> bool:
        return False

    return _Location(f"onsite location {location_id} (not configured)", (never,), ())


# --- deciding -----------------------------------------------------------------------------


def decide(visit: Visit, catalog: Catalog | Targeting, now_ms: int) -> Decision | None:
    """The engagement to offer on the visit's current page at ``now_ms``, or None."""
    targeting = catalog if isinstance(catalog, Targeting) else Targeting(catalog)
    facts = Facts(visit, now_ms)
    for c in targeting.campaigns:
        if not c.campaign.live(now_ms) or not _all_hold(c.profiles, facts):
            continue
        for e in c.engagements:
            if e.eligible(facts):
                return _decision(c, e, facts)
    return None


def explain(visit: Visit, catalog: Catalog | Targeting, now_ms: int) -> list[Verdict]:
    """Every engagement of every campaign, in the order :func:`decide` considers them, with
    every condition evaluated (not only up to the first that fails) and whether it was chosen."""
    targeting = catalog if isinstance(catalog, Targeting) else Targeting(catalog)
    facts = Facts(visit, now_ms)
    verdicts: list[Verdict] = []
    winner: str | None = None
    for c in targeting.campaigns:
        campaign_checks = _campaign_checks(c, facts)
        if not c.engagements:
            missing = Check(subject=c.subject, condition="has engagements", holds=False)
            verdicts.append(_verdict(c, None, False, [*campaign_checks, missing]))
        for e in c.engagements:
            checks = campaign_checks + _engagement_checks(e, facts)
            eligible = all(check.holds for check in checks)
            chosen = eligible and winner is None
            if chosen:
                winner = f"{e.subject} of {c.subject} comes first"
            elif eligible:
                checks.append(
                    Check(
                        subject="priority",
                        condition="nothing comes first",
                        holds=False,
                        observed=winner,
                    )
                )
            verdicts.append(_verdict(c, e, chosen, checks))
    return verdicts


def _verdict(c: _Campaign, e: _Engagement | None, chosen: bool, checks: list[Check]) -> Verdict:
    engagement_id = None if e is None else e.engagement.id
    return Verdict(
        campaignId=c.campaign.id, engagementId=engagement_id, chosen=chosen, checks=checks
    )


def _decision(c: _Campaign, e: _Engagement, facts: Facts) -> Decision:
    engagement = e.engagement
    return Decision(
        campaignId=c.campaign.id,
        engagementId=engagement.id,
        engagementRevision=engagement.revision,
        goalId=c.campaign.goalId,
        skillId=engagement.skillId,
        connectorId=engagement.connectorId,
        windowId=engagement.windowId,
        language=engagement.language,
        reasons=_campaign_checks(c, facts) + _engagement_checks(e, facts),
    )


def _campaign_checks(c: _Campaign, facts: Facts) -> list[Check]:
    campaign, now = c.campaign, facts.now_ms
    checks = [
        Check(
            subject=c.subject,
            condition="is published",
            holds=campaign.status == "Published",
            observed=campaign.status,
        ),
        Check(
            subject=c.subject,
            condition=f"has started by {now}",
            holds=campaign.startDate is None or campaign.startDate <= now,
            observed=_when("startDate", campaign.startDate),
        ),
        Check(
            subject=c.subject,
            condition=f"has not expired at {now}",
            holds=campaign.expirationDate is None or now < campaign.expirationDate,
            observed=_when("expirationDate", campaign.expirationDate),
        ),
    ]
    for profile in c.profiles:
        checks += _group_checks(profile, facts, "all visitors")
    return checks


def _when(field: str, value: int | None) -> str:
    return f"no {field}" if value is None else f"{field} {value}"


def _engagement_checks(e: _Engagement, facts: Facts) -> list[Check]:
    locations = " or ".join(loc.text for loc in e.locations) or "the entire site"
    checks = [
        Check(subject=e.subject, condition="is enabled", holds=e.engagement.enabled),
        Check(
            subject=e.subject,
            condition=f"the current page is on {locations}",
            holds=_located(e.locations, facts),
            observed=page_text(facts.current),
        ),
    ]
    for behavior in e.behaviors:
        checks += _group_checks(behavior, facts, "all behaviors")
    return checks


def _group_checks(group: _Group, facts: Facts, default: str) -> list[Check]:
    if not group.rules:
        return [Check(subject=group.subject, condition=default, holds=True)]
    checks = []
    for rule in group.rules:
        holds, observed = rule.check(facts)
        checks.append(
            Check(subject=group.subject, condition=rule.text, holds=holds, observed=observed)
        )
    return checks
