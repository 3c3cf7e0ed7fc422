"""A monitoring session as targeting and goals read it: who, on which pages, with which SDEs,
which engagements were shown, and which conversations happened.

This is a view, built by whoever holds the session (the Monitoring API, the web tag emulator,
tests); targeting and goals never see storage. Times are epoch milliseconds, as everywhere.
The last page is the *current* page, the one an engagement would be shown on.

Impression events reach the server as SDE-like records on the Monitoring API report method
(ingest.md §1.3.11); :func:`impression_of` turns one into the session's :class:`Impression`.
``impClose`` is the visitor dismissing an engagement, so it is a ``closed`` impression, which the
"declined" behaviour counts alongside an explicit ``declined``; ``impExpanded`` says nothing about
exposure that ``impDisplay`` did not, so it maps to nothing.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from sdehub.model.provenance import Entry
from sdehub.model.types import (
    ImpressionAccept,
    ImpressionClose,
    ImpressionDisplay,
    ImpressionTimeout,
)

ImpressionKind = Literal["exposed", "accepted", "declined", "closed", "timeout"]


class Identity(msgspec.Struct, kw_only=True, frozen=True):
    """A consumer identity the session was opened with (Monitoring API ``identities``)."""

    sub: str
    acr: str = "0"
    iss: str | None = None


class Page(msgspec.Struct, kw_only=True, frozen=True):
    """One page view. ``entry_points`` as reported: ``sec://X`` sections, URLs, ``lang://``…"""

    page_id: str
    at_ms: int
    entry_points: tuple[str, ...] = ()
    url: str | None = None


class Impression(msgspec.Struct, kw_only=True, frozen=True):
    """An engagement shown to the visitor and what became of it."""

    kind: ImpressionKind
    engagement_id: int
    at_ms: int
    campaign_id: int | None = None
    revision: int | None = None


class Conversation(msgspec.Struct, kw_only=True, frozen=True):
    """A conversation started in this session, from an engagement when there was one."""

    conversation_id: str
    started_ms: int
    engagement_id: int | None = None
    campaign_id: int | None = None
    closed_ms: int | None = None


class Visit(msgspec.Struct, kw_only=True, frozen=True):
    visitor_id: str
    session_id: str
    started_ms: int
    returning: bool = False
    device_family: str | None = None
    """``DESKTOP``, ``TABLET`` or ``MOBILE`` as the client reported it (any case)."""
    os: str | None = None
    identities: tuple[Identity, ...] = ()
    pages: tuple[Page, ...] = ()
    entries: tuple[Entry, ...] = ()
    """The session's reported SDEs, in the order the server accepted them."""
    impressions: tuple[Impression, ...] = ()
    conversations: tuple[Conversation, ...] = ()

    @property
    def current_page(self) -> Page | None:
        return self.pages[-1] if self.pages else None

    @property
    def open_conversation_id(self) -> str | None:
        """The conversation still open, if any (the Monitoring API answers with it instead of a
        new engagement)."""
        for conversation in reversed(self.conversations):
            if conversation.closed_ms is None:
                return conversation.conversation_id
        return None


_KINDS: dict[type, ImpressionKind] = {
    ImpressionDisplay: "exposed",
    ImpressionAccept: "accepted",
    ImpressionClose: "closed",
    ImpressionTimeout: "timeout",
}


def impression_of(entry: Entry) -> Impression | None:
    """The impression an ``impDisplay``/``impAccept``/``impClose``/``impTimeout`` report records,
    timed by the server; None for any other record."""
    record = entry.record
    kind = _KINDS.get(type(record))
    if kind is None or not isinstance(
        record, ImpressionDisplay | ImpressionAccept | ImpressionClose | ImpressionTimeout
    ):
        return None
    return Impression(
        kind=kind,
        engagement_id=record.engId,
        campaign_id=record.campaign,
        revision=record.revision,
        at_ms=entry.meta.serverTs,
    )
