"""Avro's JSON encoding, compiled once from a schema into plain Python functions.

fastavro's own JSON writer interprets the schema for every datum (a few thousand records a second,
docs/design); here each schema node becomes a closure once, and msgspec encodes the result. The
datum form is fastavro's: a nullable value is the value or None, and a union holding records names
its branch as ``(full name, value)``; anything else picks the first branch its Python type fits.
The tests read every produced line back with fastavro against the same schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Convert = Callable[[Any], Any]
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def _fits(kind: str, value: Any) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("int", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list | tuple)
    if kind == "map":
        return isinstance(value, dict)
    return isinstance(value, dict) or isinstance(value, str)  # a record or an enum


class Compiler:
    """Turns a parsed schema (as fastavro parses or loads it) into converters."""

    def __init__(self) -> None:
        self.named: dict[str, Convert] = {}

    def __call__(self, schema: Any) -> Convert:
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return self.primitive(schema)
            return lambda v: self.named[schema](v)  # defined earlier (or recursively)
        if isinstance(schema, list):
            return self.union(schema)
        kind = schema["type"]
        if kind == "record":
            return self.record(schema)
        if kind == "enum":
            self.named[schema["name"]] = str
            return str
        if kind == "array":
            item = self(schema["items"])
            return lambda v: [item(x) for x in v]
        if kind == "map":
            value = self(schema["values"])
            return lambda v: {k: value(x) for k, x in v.items()}
        return self(kind)

    @staticmethod
    def primitive(kind: str) -> Convert:
        if kind in ("float", "double"):
            return float
        return lambda v: v

    def record(self, schema: dict[str, Any]) -> Convert:
        fields: list[tuple[str, Convert, Any]] = []

        def convert(datum: dict[str, Any]) -> dict[str, Any]:
            return {name: fn(datum.get(name, default)) for name, fn, default in fields}

        self.named[schema["name"]] = convert
        for field in schema["fields"]:
            fields.append((field["name"], self(field["type"]), field.get("default")))
        return convert

    def union(self, branches: list[Any]) -> Convert:
        keyed: list[tuple[str, str, Convert]] = []
        for branch in branches:
            kind = branch if isinstance(branch, str) else branch["type"]
            name = branch if isinstance(branch, str) else branch.get("name", kind)
            if kind not in PRIMITIVES and isinstance(branch, str):
                kind = "record"  # a reference to a named type
            keyed.append((name, kind, self(branch)))
        by_name = {name: fn for name, _, fn in keyed}

        def convert(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, tuple) and len(value) == 2 and value[0] in by_name:
                return {value[0]: by_name[value[0]](value[1])}
            for name, kind, fn in keyed:
                if kind != "null" and _fits(kind, value):
                    return {name: fn(value)}
            raise ValueError(f"{value!r} fits no branch of {[n for n, _, _ in keyed]}")

        return convert
