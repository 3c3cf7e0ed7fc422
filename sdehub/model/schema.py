"""JSON Schema for every SDE type, generated from the wire types (never written by hand)."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from sdehub.model.naming import naming
from sdehub.model.types import BY_WIRE_TYPE

DIALECT = "https://json-schema.org/draft/2020-12/schema"


@cache
def sde_schema(wire: str) -> dict[str, Any]:
    """A self-contained JSON Schema for one wire type (``ctmrinfo``, ``cart``, ...)."""
    cls = BY_WIRE_TYPE[wire]
    (ref,), defs = msgspec.json.schema_components([cls], ref_template="#/$defs/{name}")
    n = naming(wire)
    return {
        "$schema": DIALECT,
        "$id": f"sdehub:sde:{wire}",
        "title": n.title,
        "x-category": n.category,
        **ref,
        "$defs": defs,
    }


@cache
def all_schemas() -> dict[str, Any]:
    """Every type: ``{"types": {wire: schema}}`` plus one schema accepting any of them."""
    types = {wire: sde_schema(wire) for wire in BY_WIRE_TYPE}
    refs, defs = msgspec.json.schema_components(
        list(BY_WIRE_TYPE.values()), ref_template="#/$defs/{name}"
    )
    return {
        "$schema": DIALECT,
        "$id": "sdehub:sde",
        "title": "Engagement attributes (SDEs)",
        "type": "array",
        "items": {"oneOf": list(refs)},
        "$defs": defs,
        "types": types,
    }
