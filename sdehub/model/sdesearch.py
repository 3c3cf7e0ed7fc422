"""Text search over SDEs (the ``sdeSearch`` filter of the Messaging Interactions API).

The documentation says only that each key's value is "matched as text", that keys are OR-ed and
that quotes ask for a phrase; tokenisation and case are left open. sdehub's rules:

* text is lower-cased and split into words (runs of letters and digits; ``@ . - _ +`` join a
  word's parts too, so ``ana@example.com``, ``ORD-9`` and ``+15550100`` stay whole);
* an unquoted value matches an SDE holding *every* word of it, in any field;
* a quoted value (``"\\"John Smith\\""``) matches an SDE holding the words next to each other in
  one field: every adjacent pair of the phrase must be a stored pair.

Each SDE is indexed when it becomes searchable in a conversation (once per conversation it
belongs to), as the set of its words and adjacent word pairs (:func:`terms`); a search is then an
exact lookup of a few terms, which a B-tree index on ``(account_id, history_key, term,
conversation start)`` answers in the order of a page, without reading any payload. Until the
store moves them there, an SDE's terms wait in one row, packed (:func:`pack`), where a term is
found as a substring (:func:`needle`): see sdehub.store.terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

from sdehub.model.history import fields
from sdehub.model.naming import naming
from sdehub.model.types import Event, wire_type

MAX_TERM = 200
_WORD = re.compile(r"[\w@.+\-]+")
_EDGE = ".-_+"

SEARCH_KEYS = (
    "personalInfo",
    "customerInfo",
    "userUpdate",
    "marketingCampaignInfo",
    "lead",
    "purchase",
    "viewedProduct",
    "cartStatus",
    "serviceActivity",
    "visitorError",
    "searchContent",
)
"""The documented ``sdeSearch`` keys; ``userUpdate`` searches the consumer's profile."""


def words(text: str) -> list[str]:
    found = (w.strip(_EDGE) for w in _WORD.findall(text.lower()))
    return [w[:MAX_TERM] for w in found if w]


def _strings(value: Any, out: list[str]) -> list[str]:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)
    elif not (isinstance(value, bool) or value is None):
        out.append(str(value))
    return out


@lru_cache(maxsize=4096)
def _text_terms(text: str) -> tuple[str, ...]:
    """The words and adjacent word pairs of one string. Memoized: most field values of an
    account repeat (a status, a currency, a company), and this runs for every SDE that becomes
    searchable, in the database writer."""
    ws = words(text)
    if len(ws) < 2:
        return tuple(ws)
    return (*ws, *(f"{a} {b}"[:MAX_TERM] for a, b in zip(ws, ws[1:], strict=False)))


def value_terms(value: Any) -> set[str]:
    """Words and adjacent word pairs of every scalar in a JSON value."""
    # A loop over a stack rather than a recursion through _strings: this runs in the database
    # writer for every SDE that becomes searchable, and a call per node was most of its cost.
    out: set[str] = set()
    add = out.update
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        v = pop()
        kind = type(v)
        if kind is str:
            add(_text_terms(v))
        elif kind is dict:
            extend(v.values())
        elif kind is list:
            extend(v)
        elif v is None or kind is bool:
            continue
        elif kind is int or kind is float:
            add(_text_terms(str(v)))
        else:  # subclasses and anything else: as _strings sees them
            for text in _strings(v, []):
                add(_text_terms(text))
    return out


def terms(record: Event) -> tuple[str, set[str]] | None:
    """The ``sdeSearch`` key and the terms of one SDE; None for types history does not show."""
    key = naming(wire_type(record)).history_key
    if key is None:
        return None
    return key, value_terms(fields(record))


SEP = "\x1f"
"""Between packed terms: never part of one (a term is words of ``[\\w@.+-]`` and spaces)."""


def pack(found: Iterable[str]) -> str:
    """An SDE's terms in one string, sorted, each between separators: ``\\x1fana\\x1fana diaz\\x1f``
    (see :func:`needle`)."""
    return SEP + SEP.join(sorted(found)) + SEP


def unpack(packed: str) -> list[str]:
    """The terms of :func:`pack`'s string."""
    return [t for t in packed.split(SEP) if t]


def needle(term: str) -> str:
    """What a packed string holding ``term`` contains, and one not holding it does not."""
    return SEP + term + SEP


class Match(NamedTuple):
    """What one ``sdeSearch`` value asks for: every term, in one SDE."""

    key: str
    terms: frozenset[str]


def parse(key: str, value: str) -> Match | None:
    """The terms an SDE must hold to match; None when the value has no word at all."""
    text = value.strip()
    phrase = len(text) >= 2 and text[0] == text[-1] == '"'
    ws = words(text[1:-1] if phrase else text)
    if not ws:
        return None
    if phrase and len(ws) > 1:
        return Match(
            key, frozenset(f"{a} {b}"[:MAX_TERM] for a, b in zip(ws, ws[1:], strict=False))
        )
    return Match(key, frozenset(ws))
