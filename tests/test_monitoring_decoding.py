"""The Monitoring API report and the Engagement Attributes API decode canonical bodies in one
msgspec pass (in the writer) and everything else with the validator; both must give the same
answer wherever the one-pass decoding accepts a body."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec.inspect as mi
from hypothesis import event, given, settings
from hypothesis import strategies as st

from sdehub.bodies import decode_json
from sdehub.errors import BadRequest
from sdehub.model.monitoring import (
    ALIASES,
    Reported,
    decode_events,
    decode_report,
    typed_events,
    typed_report,
)
from sdehub.model.types import Event
from sdehub.model.validation import FieldError
from sdehub.monitorcall import decode_body
from tests.test_model_properties import any_valid_sde, json_values, near_valid_sde

FIXTURES = Path(__file__).parent / "fixtures" / "model"
REPORT = json.loads((FIXTURES / "monitoring_report_body.json").read_text())

Outcome = Reported | list[FieldError]

# Values that probe the edges of the two decoders' rules (as tests/test_connector_decoding.py).
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**65), 2**65), st.floats(allow_nan=False),
    st.sampled_from(["", "x" * 600, "1", "30.0", "loa1", "LOA1", "MOBILE", "mobile", "\u0000"]),
    st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.sampled_from(["acr", "sub"]),
                                                             st.integers(), max_size=2),
)  # fmt: skip


def slow(decode: Any, body: bytes) -> Outcome:
    """The validator's way alone: JSON (with its NUL check), then the walker."""
    try:
        reported, errors = decode(decode_json(body))
    except BadRequest as exc:
        return sorted(exc.errors, key=lambda e: e.path)
    return reported if reported is not None else sorted(errors, key=lambda e: e.path)


def both(kind: str, body: bytes) -> tuple[Outcome, Outcome]:
    """What the writer's decoding gives, and what the validator alone gives."""
    reported, errors = decode_body(kind, body)  # type: ignore[arg-type]
    got = reported if reported is not None else sorted(errors, key=lambda e: e.path)
    return got, slow(decode_report if kind == "report" else decode_events, body)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += paths(item, (*prefix, i))
    return out


@st.composite
def report_bodies(draw: st.DrawFn) -> Any:
    body = copy.deepcopy(REPORT)
    body["engagementAttributes"] += draw(st.lists(any_valid_sde | near_valid_sde(), max_size=3))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(paths(body)[1:]))
        parent = body
        for key in where[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            parent[where[-1]] = draw(ODD | json_values)
        elif isinstance(parent, dict):
            del parent[where[-1]]
    return body


@settings(max_examples=300, deadline=None)
@given(report_bodies())
def test_report_one_pass_and_validator_agree(body: Any) -> None:
    raw = json.dumps(body).encode()
    event("one pass" if typed_report(raw) is not None else "validator")
    fast, validator = both("report", raw)
    assert fast == validator


@settings(max_examples=300, deadline=None)
@given(st.lists(any_valid_sde | near_valid_sde() | json_values, max_size=4) | json_values)
def test_events_one_pass_and_validator_agree(body: Any) -> None:
    raw = json.dumps(body).encode()
    event("one pass" if typed_events(raw) is not None else "validator")
    fast, validator = both("events", raw)
    assert fast == validator


def test_documented_bodies_take_the_one_pass_way() -> None:
    raw = json.dumps(REPORT).encode()
    assert typed_report(raw) is not None
    fast, validator = both("report", raw)
    assert isinstance(fast, Reported) and fast == validator
    sdes = REPORT["engagementAttributes"]
    raw = json.dumps(sdes).encode()
    assert typed_events(raw) is not None
    fast, validator = both("events", raw)
    assert isinstance(fast, Reported) and len(fast.sdes) == len(sdes) and fast == validator


def test_tolerated_and_refused_bodies_take_the_validator_way() -> None:
    tolerant = copy.deepcopy(REPORT)
    tolerant["engagementAttributes"][0]["total"] = "11.7"  # a string for a number
    tolerant["engagementAttributes"].append({"type": "mrktInfo", "info": {"campaignID": "c-1"}})
    raw = json.dumps(tolerant).encode()
    assert typed_report(raw) is None
    fast, validator = both("report", raw)
    assert isinstance(fast, Reported) and fast == validator
    assert fast.sdes[0].total == 11.7  # type: ignore[union-attr]
    assert fast.sdes[-1].info.campaignId == "c-1"  # type: ignore[union-attr]
    impression = json.loads((FIXTURES / "monitoring_impDisplay.json").read_text())
    raw = json.dumps(impression if isinstance(impression, list) else [impression]).encode()
    assert typed_events(raw) is None
    fast, validator = both("events", raw)
    assert isinstance(fast, list) and fast == validator and "impression" in fast[0].message


def _aliases(t: Any, seen: set[int]) -> set[str]:
    if id(t) in seen:
        return set()
    seen.add(id(t))
    found: set[str] = set()
    if isinstance(t, mi.Metadata):
        found |= set((t.extra or {}).get("aliases", ()))
        found |= _aliases(t.type, seen)
    elif isinstance(t, mi.StructType):
        for f in t.fields:
            found |= _aliases(f.type, seen)
    elif isinstance(t, mi.UnionType):
        for member in t.types:
            found |= _aliases(member, seen)
    elif isinstance(t, mi.ListType | mi.DictType):
        found |= _aliases(t.item_type if isinstance(t, mi.ListType) else t.value_type, seen)
    return found


def test_the_one_pass_way_knows_every_alias() -> None:
    assert {a.encode() for a in _aliases(mi.type_info(Event), set())} == set(ALIASES)
