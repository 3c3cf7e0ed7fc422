"""What happens when the same SDE type is reported twice in one scope.

Chat / web sessions (best practices for chat): Customer Info, Personal Info and Marketing Source
*merge* (new values overwrite, fields missing from the new report keep their old values), Cart
*replaces*, everything else *appends*. Messaging (best practices for messaging) has no merge:
Cart, Personal Info, Customer Info, Marketing Source and Service Activity replace, the rest append.

Authenticated and unauthenticated reports are kept apart (Messaging Interactions returns them in
``sdes`` and ``unAuthSdes``), so a replace only replaces a report of the same kind.
Merging is shallow at the wrapper level (``info``, ``personal``): how deep LivePerson merges nested
objects such as ``contacts`` is undocumented, and replacing them whole is the predictable choice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

from sdehub.model.naming import naming
from sdehub.model.provenance import Entry
from sdehub.model.types import Base, CustomerInfo, Event, PersonalInfo, wire_type

Scope = Literal["chat", "messaging"]


def rule(wire: str, scope: Scope) -> Literal["merge", "append", "replace"]:
    n = naming(wire)
    return n.chat_rule if scope == "chat" else n.messaging_rule


def _overlay(old: Base, new: Base) -> Base:
    """``new`` on top of ``old``: fields ``new`` leaves unset keep ``old``'s value."""
    changes = {
        f: v for f in new.__struct_fields__ if (v := getattr(new, f)) is not None and f != "type"
    }
    return msgspec.structs.replace(old, **changes)


def merge_records(old: Event, new: Event) -> Event:
    """The chat "update properties" behaviour for one wrapper-style record."""
    wrapper = naming(wire_type(new)).wrapper
    if wrapper is None:
        return new
    changes: dict[str, object] = {wrapper: _overlay(getattr(old, wrapper), getattr(new, wrapper))}
    # Customer and Personal Info's optional ``auth`` sibling merges the same way.
    if isinstance(new, CustomerInfo | PersonalInfo) and isinstance(
        old, CustomerInfo | PersonalInfo
    ):
        old_auth, new_auth = old.auth, new.auth
        if new_auth is not None:
            changes["auth"] = _overlay(old_auth, new_auth) if old_auth is not None else new_auth
    return msgspec.structs.replace(old, **changes)


def apply(current: list[Entry], new: Entry, scope: Scope) -> list[Entry]:
    """The entries of one SDE type in one scope after ``new`` is reported."""
    how = rule(wire_type(new.record), scope)
    if how == "append":
        return [*current, new]
    same_kind = [e for e in current if e.meta.authenticated == new.meta.authenticated]
    others = [e for e in current if e.meta.authenticated != new.meta.authenticated]
    if how == "merge" and same_kind:
        merged = Entry(merge_records(same_kind[-1].record, new.record), new.meta)
        return [*others, merged]
    return [*others, new]


def fold(entries: Iterable[Entry], scope: Scope) -> dict[str, list[Entry]]:
    """Current state of a scope: every reported entry applied in order, grouped by wire type."""
    state: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: e.meta.seq):
        wt = wire_type(entry.record)
        state[wt] = apply(state.get(wt, []), entry, scope)
    return state
