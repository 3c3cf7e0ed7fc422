"""Targeting conditions: what a visitor profile (target audience) and a visitor behaviour test.

A visitor profile is the campaign's *target audience* (consume.md §5.1): conditions on who the
visitor is, mostly read from Customer Info, Personal Info and Marketing Source. A visitor
behaviour (§5.2) tests what the visitor did in this session: cart, viewed products, errors,
service activity, pages, engagements. Each condition is one member of a tagged union on
``"type"``; a profile or behaviour holds when *every* one of its conditions holds, and one with no
conditions is LivePerson's "All visitors" / "All behaviors" default.

LivePerson's own profile and behaviour records (``le-targeting``) are public only as ids and
names, so the condition shapes are ours. Choices where the documentation is silent (the
evaluation, and what an SDE that was never reported means, live in :mod:`sdehub.rules`):

* One vocabulary, ``mode: include | exclude``, for the UI's "target / exclude" and
  "include / exclude".
* Every text comparison is case-insensitive and exact ("Gold" is not "Gold Plus"), the one
  matching rule the docs state (for customer type and status); only location rules also offer
  ``contains``, ``startsWith`` and ``regex`` (a regular expression is applied as written, so it
  is case-sensitive unless it says ``(?i)``).
* Ranges are inclusive at both ends; a bound left out is open.
* A location rule reads the page's entry points: ``sec://X`` is section X (ingest.md §1.3.12),
  ``http(s)://…`` and the page URL are URLs, and ``entryPoint`` compares the raw string
  (``lang://English``, ``tel://…``).

Schema evolution rule: new fields get defaults; existing fields never change type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from sdehub.model.types import Gender, MarketingChannel, ServiceStatus, Text

# Account configuration ids are positive longs (campaignId, engagementId, ... in the Monitoring
# API's engagementDetails and the impression events).
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]
Mode = Literal["include", "exclude"]
Values = Annotated[list[Text], Meta(min_length=1)]
# Customer types and statuses are managed lists of at most 110 values each (target audience docs).
ManagedValues = Annotated[list[Text], Meta(min_length=1, max_length=110)]
Years = Annotated[int, Meta(ge=0, le=200)]
Count = Annotated[int, Meta(ge=0)]
DeviceFamily = Literal["DESKTOP", "TABLET", "MOBILE"]
OperatingSystem = Literal["WINDOWS", "MAC_OSX", "LINUX", "IOS", "ANDROID"]
ProductField = Literal["name", "sku", "category"]
Problems = Iterator[tuple[str, str]]


class Config(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Common options of every configuration record."""

    def problems(self) -> Problems:
        """``(field, message)`` for each rule the type alone cannot express (bounds out of order,
        a field that needs another); :func:`sdehub.model.campaigns.decode_catalog` reports them."""
        return iter(())


def range_problems(low: float | None, high: float | None, *, required: bool = True) -> Problems:
    if required and low is None and high is None:
        yield "min", "give min, max or both"
    if low is not None and high is not None and low > high:
        yield "max", f"expected a value >= min ({low}), got {high}"


# --- where a page is ----------------------------------------------------------------------


class LocationRule(Config):
    """One test of a page: its sections, its URLs or its raw entry points."""

    value: Text
    kind: Literal["section", "url", "entryPoint"] = "section"
    match: Literal["equals", "contains", "startsWith", "regex"] = "equals"

    def problems(self) -> Problems:
        if self.match == "regex":
            try:
                re.compile(self.value)
            except re.error as e:
                yield "value", f"expected a regular expression, got an invalid one ({e})"


class FlowStep(LocationRule):
    optional: bool = False


# --- target audience (visitor profile) ----------------------------------------------------


class MarketingSourceCondition(Config, tag="marketingSource", tag_field="type"):
    """Marketing Source: each list given must hold the reported value (any-of)."""

    channels: list[MarketingChannel] = []
    affiliates: list[Text] = []
    campaigns: list[Text] = []

    def problems(self) -> Problems:
        if not (self.channels or self.affiliates or self.campaigns):
            yield "channels", "give channels, affiliates or campaigns"


class CustomerTypeCondition(Config, tag="customerType", tag_field="type"):
    """Customer Info ``ctype`` is (include) or is not (exclude) one of the values."""

    values: ManagedValues
    mode: Mode = "include"


class CustomerStatusCondition(Config, tag="customerStatus", tag_field="type"):
    """Customer Info ``cstatus`` is (include) or is not (exclude) one of the values."""

    values: ManagedValues
    mode: Mode = "include"


class AgeCondition(Config, tag="age", tag_field="type"):
    """Personal Info age: exactly ``exact``, or within ``min``..``max``."""

    exact: Years | None = None
    min: Years | None = None
    max: Years | None = None

    def problems(self) -> Problems:
        if self.exact is not None and (self.min is not None or self.max is not None):
            yield "exact", "give an exact age or a range, not both"
        elif self.exact is None:
            yield from range_problems(self.min, self.max)


class RegistrationCondition(Config, tag="timeSinceRegistration", tag_field="type"):
    """Customer Info ``registrationDate`` is at least ``atLeast`` whole units ago."""

    atLeast: Count
    unit: Literal["days", "weeks", "months", "years"] = "days"


class CompanySizeCondition(Config, tag="companySize", tag_field="type"):
    min: Count | None = None
    max: Count | None = None

    def problems(self) -> Problems:
        yield from range_problems(self.min, self.max)


class BalanceCondition(Config, tag="balance", tag_field="type"):
    """Customer Info ``balance`` within the range; the currency is ignored (documented)."""

    min: float | None = None
    max: float | None = None

    def problems(self) -> Problems:
        yield from range_problems(self.min, self.max)


class CustomerIdCondition(Config, tag="customerId", tag_field="type"):
    values: Values


class GenderCondition(Config, tag="gender", tag_field="type"):
    values: Annotated[list[Gender], Meta(min_length=1)]


class StoreZipCodeCondition(Config, tag="storeZipCode", tag_field="type"):
    values: Values


class StoreNumberCondition(Config, tag="storeNumber", tag_field="type"):
    values: Values


class VisitorTypeCondition(Config, tag="visitorType", tag_field="type"):
    """New or returning visitor, as the session says (web: local storage)."""

    value: Literal["new", "returning"]


class PlatformCondition(Config, tag="platform", tag_field="type"):
    """The device family and/or operating system the session reported (clientProperties)."""

    mode: Mode = "include"
    deviceFamilies: list[DeviceFamily] = []
    os: list[OperatingSystem] = []

    def problems(self) -> Problems:
        if not (self.deviceFamilies or self.os):
            yield "deviceFamilies", "give deviceFamilies, os or both"


class EntryPageCondition(Config, tag="entryPage", tag_field="type"):
    """The first page of the visit (where the visitor came in) matches any of the rules."""

    rules: Annotated[list[LocationRule], Meta(min_length=1)]


ProfileCondition = (
    MarketingSourceCondition
    | CustomerTypeCondition
    | CustomerStatusCondition
    | AgeCondition
    | RegistrationCondition
    | CompanySizeCondition
    | BalanceCondition
    | CustomerIdCondition
    | GenderCondition
    | StoreZipCodeCondition
    | StoreNumberCondition
    | VisitorTypeCondition
    | PlatformCondition
    | EntryPageCondition
)


class VisitorProfile(Config):
    """A target audience; no conditions is "All visitors"."""

    id: Id
    name: Text = ""
    conditions: list[ProfileCondition] = []


# --- visitor behaviour --------------------------------------------------------------------


class CartValueCondition(Config, tag="cartValue", tag_field="type"):
    """The cart total is between ``min`` and ``max`` (any currency), or the last cart update
    decreased it, or decreased it to 0."""

    change: Literal["between", "decreased", "decreasedToZero"] = "between"
    min: float | None = None
    max: float | None = None

    def problems(self) -> Problems:
        if self.change == "between":
            yield from range_problems(self.min, self.max)
        elif self.min is not None or self.max is not None:
            yield "min", f"min and max only apply to change 'between', not {self.change!r}"


class CartProductsCondition(Config, tag="cartProducts", tag_field="type"):
    """Some product in the current cart has (include) or none has (exclude) one of the values."""

    values: Values
    by: ProductField = "name"
    mode: Mode = "include"


class ViewedProductCondition(Config, tag="viewedProduct", tag_field="type"):
    """Some product viewed in the session matches (include) or none does (exclude). A product
    matches when its ``by`` field is one of ``values`` and its price is within the range, for
    whichever of the two are given."""

    mode: Mode = "include"
    by: ProductField | None = None
    values: list[Text] = []
    minPrice: float | None = None
    maxPrice: float | None = None

    def problems(self) -> Problems:
        if (self.by is None) != (not self.values):
            yield ("values" if self.by else "by"), "by and values go together"
        if self.by is None and self.minPrice is None and self.maxPrice is None:
            yield "by", "give by and values, a price range, or both"
        for field, message in range_problems(self.minPrice, self.maxPrice, required=False):
            yield "maxPrice" if field == "max" else field, message


class VisitorErrorCondition(Config, tag="visitorError", tag_field="type"):
    """An unresolved error with one of the messages (or codes) was reported at least
    ``occurrence`` times (include), or fewer times (exclude)."""

    values: Values
    by: Literal["message", "code"] = "message"
    mode: Mode = "include"
    occurrence: Annotated[int, Meta(ge=1)] = 1


class ServiceActivityCondition(Config, tag="serviceActivity", tag_field="type"):
    """A service activity with one of the topics has one of the statuses (0 Complete … 13)."""

    topics: Values
    statuses: Annotated[list[ServiceStatus], Meta(min_length=1)]


class FlowCondition(Config, tag="flow", tag_field="type"):
    """The visitor entered the flow at its first step and then left it (``abandoned``) or went
    back to an earlier step (``backFlow``). A flow that reached its last step never triggers."""

    steps: Annotated[list[FlowStep], Meta(min_length=2)]
    trigger: Literal["abandoned", "backFlow"] = "abandoned"

    def problems(self) -> Problems:
        for index in (0, len(self.steps) - 1):
            if self.steps[index].optional:
                yield "steps", f"the first and last steps cannot be optional (step {index})"


class VisitedEntryPointCondition(Config, tag="visitedEntryPoint", tag_field="type"):
    """Every rule matches some page of the visit."""

    rules: Annotated[list[LocationRule], Meta(min_length=1)]


class TimeOnEntryPointCondition(Config, tag="timeOnEntryPoint", tag_field="type"):
    """The current page matches ``location`` and has been open at least ``seconds``."""

    location: LocationRule
    seconds: Count


class EngagedInSessionCondition(Config, tag="engagedInSession", tag_field="type"):
    """The visitor was (include) or was not (exclude) exposed to an engagement, declined or
    clicked one, or interacted (had a conversation) in this session."""

    state: Literal["exposed", "declined", "clicked", "interacted"]
    mode: Mode = "include"


BehaviorCondition = (
    CartValueCondition
    | CartProductsCondition
    | ViewedProductCondition
    | VisitorErrorCondition
    | ServiceActivityCondition
    | FlowCondition
    | VisitedEntryPointCondition
    | TimeOnEntryPointCondition
    | EngagedInSessionCondition
)


class VisitorBehavior(Config):
    """A behaviour; no conditions is "All behaviors", the default that always holds."""

    id: Id
    name: Text = ""
    conditions: list[BehaviorCondition] = []


Condition = ProfileCondition | BehaviorCondition
