"""The compiled Avro JSON encoder agrees with fastavro's reader, branch by branch."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdehub.dataaccess.avrojson import Compiler

SCHEMA = fastavro.parse_schema(
    {
        "type": "record", "name": "t.Top",
        "fields": [
            {"name": "n", "type": ["null", "long"], "default": None},
            {"name": "d", "type": ["null", "double"], "default": None},
            {"name": "s", "type": ["null", "string", "boolean"], "default": None},
            {"name": "e", "type": ["null", {"type": "enum", "name": "t.E", "symbols": ["A", "B"]}]},
            {"name": "m", "type": {"type": "map", "values": "int"}},
            {"name": "r", "type": ["null",
                {"type": "record", "name": "t.R1", "fields": [{"name": "x", "type": "int"}]},
                {"type": "record", "name": "t.R2", "fields": [{"name": "y", "type": "string"}]}]},
            {"name": "again", "type": {"type": "array", "items": ["null", "t.R2"]}},
        ],
    }
)  # fmt: skip
encode = Compiler()(SCHEMA)

data = st.fixed_dictionaries(
    {
        "n": st.none() | st.integers(-(2**63), 2**63 - 1),
        "d": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "s": st.none() | st.text(max_size=5) | st.booleans(),
        "e": st.none() | st.sampled_from(["A", "B"]),
        "m": st.dictionaries(st.text(max_size=3), st.integers(-(2**31), 2**31 - 1), max_size=2),
        "r": st.none()
        | st.builds(lambda x: ("t.R1", {"x": x}), st.integers(-(2**31), 2**31 - 1))
        | st.builds(lambda y: ("t.R2", {"y": y}), st.text(max_size=3)),
        "again": st.lists(st.none() | st.builds(lambda y: {"y": y}, st.text(max_size=3))),
    }
)


@given(data)
def test_fastavro_reads_back_what_was_written(datum: dict[str, Any]) -> None:
    line = msgspec.json.encode(encode(datum)).decode()
    reader = fastavro.json_reader(io.StringIO(line), SCHEMA)
    reader.options["return_record_name"] = True
    (back,) = list(reader)
    expected = {**datum, "d": None if datum["d"] is None else float(datum["d"])}
    expected["again"] = [None if a is None else ("t.R2", a) for a in datum["again"]]
    assert back == expected


def test_wrappers() -> None:
    datum = {"n": 3, "d": 2, "s": True, "e": "B", "m": {}, "r": ("t.R2", {"y": "z"}),
             "again": [None, {"y": ""}]}  # fmt: skip
    assert json.loads(msgspec.json.encode(encode(datum))) == {
        "n": {"long": 3}, "d": {"double": 2.0}, "s": {"boolean": True}, "e": {"t.E": "B"},
        "m": {}, "r": {"t.R2": {"y": "z"}}, "again": [None, {"t.R2": {"y": ""}}],
    }  # fmt: skip


def test_a_value_that_fits_no_branch_is_refused() -> None:
    with pytest.raises(ValueError, match="fits no branch"):
        encode({"n": "three", "m": {}, "again": []})
