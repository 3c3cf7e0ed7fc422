"""The Monitoring API's wire types (service ``smt``): the engagement and report bodies, their
answers, and the error body every monitoring endpoint shares.

Both bodies are decoded in two steps: the envelope with the typed validator (every field error
with its path), then ``engagementAttributes`` with :func:`sdehub.model.sdes.decode_sdes`, which
knows that impression events are only accepted by the report method.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta
from msgspec.structs import replace

from sdehub.model.sdes import decode_sdes
from sdehub.model.types import SDE, Event
from sdehub.model.validation import FieldError, one_pass, validate

Acr = Literal["0", "loa1"]
ShortText = Annotated[str, Meta(max_length=512)]
EntryPoint = Annotated[str, Meta(max_length=2048)]

# Monitoring's ``internalCode`` values (spec/ingest.md §3.4, §3.6).
BAD_DATA = 5
NO_ACCOUNT = 6
UNAUTHORIZED = 10
SESSION_GONE = 12
BAD_APP = 18
NOT_LOADED = 20
BAD_VERSION = 33
BAD_VISITOR = 37
LOADING = 38
BAD_SESSION = 39


class Identity(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Who the visitor is: ``acr`` "0" (unauthenticated) or "loa1" (authenticated)."""

    acr: Acr
    sub: Annotated[str, Meta(min_length=1, max_length=512)]
    iss: ShortText | None = None


class ClientProperties(msgspec.Struct, kw_only=True, omit_defaults=True):
    appVersion: ShortText | None = None
    deviceFamily: Literal["DESKTOP", "TABLET", "MOBILE"] | None = None
    ipAddress: Annotated[str, Meta(max_length=64)] | None = None
    os: Literal["WINDOWS", "MAC_OSX", "LINUX", "IOS", "ANDROID"] | None = None
    # The documented example sends ``osName`` where the field table says ``os``: take both.
    osName: ShortText | None = None
    osVersion: ShortText | None = None
    browser: ShortText | None = None
    browserVersion: ShortText | None = None


class EngagementBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``POST .../engagement``: every field optional."""

    consumerId: ShortText | None = None
    identities: list[Identity] | None = None
    clientProperties: ClientProperties | None = None
    entryPoints: list[EntryPoint] | None = None
    engagementAttributes: list[Any] | None = None
    pageId: ShortText | None = None


class ReportBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``PUT .../report``: ``engagementAttributes`` is required (impression events allowed)."""

    engagementAttributes: list[Any]
    consumerId: ShortText | None = None
    identities: list[Identity] | None = None
    pageId: ShortText | None = None
    entryPoints: list[EntryPoint] | None = None
    clientProperties: ClientProperties | None = None


class Reported(msgspec.Struct, kw_only=True, frozen=True):
    """A decoded monitoring call: the envelope's facts and its typed SDEs."""

    consumer_id: str | None
    identities: list[Identity]
    client_properties: ClientProperties | None
    entry_points: list[str]
    page_id: str | None
    sdes: list[Event]

    @property
    def subject(self) -> str | None:
        """The consumer the visitor says it is: an identity's ``sub`` or the old consumerId."""
        for identity in self.identities:
            return identity.sub
        return self.consumer_id


NOTHING: Final = Reported(
    consumer_id=None, identities=[], client_properties=None, entry_points=[], page_id=None, sdes=[]
)
"""A call that reported nothing (or whose body is yet to be decoded)."""


def decode_engagement(raw: Any) -> tuple[Reported | None, list[FieldError]]:
    if raw is None:
        raw = {}
    body, errors = validate(raw, EngagementBody)
    if body is None:
        return None, errors
    return _reported(body, body.engagementAttributes or [], impressions=False)


def decode_report(raw: Any) -> tuple[Reported | None, list[FieldError]]:
    body, errors = validate(raw, ReportBody)
    if body is None:
        return None, errors
    return _reported(body, body.engagementAttributes, impressions=True)


def decode_events(raw: Any) -> tuple[Reported | None, list[FieldError]]:
    """The Engagement Attributes API's body: a JSON array of SDEs (no impressions)."""
    sdes, errors = decode_sdes(raw)
    if errors:
        return None, errors
    return replace(NOTHING, sdes=sdes), []


class _TypedReport(ReportBody, kw_only=True, omit_defaults=True):
    engagementAttributes: list[Event]


_typed_report = msgspec.json.Decoder(_TypedReport)
_typed_events = msgspec.json.Decoder(list[SDE])
ALIASES: Final = (b"campaignID",)
"""The field aliases of the SDE types (``Meta(extra={"aliases": ...})``), which only the
validator maps (``tests/test_monitoring_decoding.py`` checks this list is complete)."""


def typed_report(body: bytes) -> Reported | None:
    """A report body decoded in one msgspec pass; None when the validator must look (it
    gives :func:`decode_report`'s answer wherever this gives one)."""
    typed = one_pass(_typed_report, body, aliases=ALIASES)
    if typed is None:
        return None
    return Reported(
        consumer_id=typed.consumerId,
        identities=typed.identities or [],
        client_properties=typed.clientProperties,
        entry_points=typed.entryPoints or [],
        page_id=typed.pageId,
        sdes=typed.engagementAttributes,
    )


def typed_events(body: bytes) -> Reported | None:
    """An Engagement Attributes API body in one msgspec pass (impressions are not SDEs, so a
    body with one is left to the validator, which names the error)."""
    sdes = one_pass(_typed_events, body, aliases=ALIASES)
    return None if sdes is None else replace(NOTHING, sdes=list(sdes))


def _reported(
    body: EngagementBody | ReportBody, raw_sdes: list[Any], *, impressions: bool
) -> tuple[Reported | None, list[FieldError]]:
    sdes, errors = decode_sdes(raw_sdes, path=("engagementAttributes",), impressions=impressions)
    if errors:
        return None, errors
    return (
        Reported(
            consumer_id=body.consumerId,
            identities=body.identities or [],
            client_properties=body.clientProperties,
            entry_points=body.entryPoints or [],
            page_id=body.pageId,
            sdes=sdes,
        ),
        [],
    )


class EngagementDetail(msgspec.Struct, kw_only=True, omit_defaults=True):
    campaignId: int
    engagementId: int
    engagementRevision: int
    contextId: str
    status: Literal["expose", "conversation"]
    conversationId: str | None = None
    connectorId: int | None = None
    windowId: int | None = None
    language: str | None = None
    skillId: int | None = None


class SessionIds(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The answer to engagement and report: the (possibly new) visit, and for engagement what
    the visitor is offered or already in."""

    sessionId: str
    visitorId: str
    pageId: str
    engagementDetails: list[EngagementDetail] | None = None


class MonitoringError(msgspec.Struct, kw_only=True):
    """Every monitoring endpoint's error body."""

    time: int
    message: str
    internalCode: int
