"""Where a reported SDE came from, carried by every stored event and every view of it."""

from __future__ import annotations

from typing import Literal, NamedTuple

import msgspec

from sdehub.model.types import Event

Source = Literal["connector", "jwt", "api", "webtag", "monitoring", "eaapi", "agent", "demo"]
SOURCES: tuple[Source, ...] = (
    "connector",
    "jwt",
    "api",
    "webtag",
    "monitoring",
    "eaapi",
    "agent",
    "demo",
)


class Provenance(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    seq: int
    """Position in the account's event log."""
    source: Source
    authenticated: bool
    originalTs: int
    """When the reporter says the event happened (epoch ms)."""
    serverTs: int
    """When this server accepted it (epoch ms)."""
    actor: str | None = None
    """The app installation (client id) or agent id that reported it."""


class Entry(NamedTuple):
    """One reported SDE with its provenance: the unit every view is built from."""

    record: Event
    meta: Provenance
