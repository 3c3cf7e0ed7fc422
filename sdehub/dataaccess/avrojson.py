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


_TYPES = {
    "boolean": "(bool,)", "int": "(int,)", "long": "(int,)", "float": "(int, float)",
    "double": "(int, float)", "string": "(str,)",
}  # fmt: skip
"""Python types each scalar branch takes (``type(v) in``: a bool is no int here)."""


def _refuse(value: Any, branches: Any) -> Any:
    raise ValueError(f"{value!r} fits no branch of {branches}")


class Compiler:
    """Turns a parsed schema (as fastavro parses or loads it) into converters.

    A record becomes the source of one Python function (compiled with ``exec``) that builds the
    whole Avro JSON dict of the record in one expression: a nullable field of one branch, the
    common case, is an inline ``None if v is None else {"string": v}``. Unions of several
    non-null branches pick their branch at run time (:meth:`union`).
    """

    def __init__(self) -> None:
        self.named: dict[str, Convert] = {}
        self._env: dict[str, Any] = {
            "_named": self.named, "_float": float, "_str": str, "_refuse": _refuse,
        }  # fmt: skip
        self._n = 0

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

    # -- code generation -------------------------------------------------------------------

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def _expr(self, schema: Any, src: str) -> str:
        """A Python expression converting the value of the expression ``src`` (read once)."""
        if isinstance(schema, str):
            if schema in ("float", "double"):
                return f"_float({src})"
            if schema == "null":
                return "None"
            if schema in PRIMITIVES:
                return src
            return f"_named[{schema!r}]({src})"
        if isinstance(schema, list):
            return self._union_expr(schema, src)
        kind = schema["type"]
        if kind in ("record", "enum"):
            self(schema)  # defines it
            return f"_named[{schema['name']!r}]({src})"
        if kind == "array":
            x = self._name("x")
            return f"[{self._expr(schema['items'], x)} for {x} in {src}]"
        if kind == "map":
            k, x = self._name("k"), self._name("x")
            return f"{{{k}: {self._expr(schema['values'], x)} for {k}, {x} in {src}.items()}}"
        return self._expr(kind, src)

    def _union_expr(self, branches: list[Any], src: str) -> str:
        others = [b for b in branches if b != "null"]
        if len(others) != 1:
            fn = self._name("_union")
            self._env[fn] = self.union(branches)
            return f"{fn}({src})"
        (branch,) = others
        kind = branch if isinstance(branch, str) else branch["type"]
        named = kind not in PRIMITIVES and kind not in ("array", "map")
        label = branch if isinstance(branch, str) else branch.get("name", kind)
        v = self._name("v")
        if named:  # a record (or enum) branch: fastavro's datum may name it as (name, value)
            inner = self._expr(branch, f"({v}[1] if type({v}) is tuple else {v})")
        else:
            inner = self._expr(branch, v)
        wrapped = f"{{{label!r}: {inner}}}"
        if kind in _TYPES:  # a scalar of the wrong type would make an unreadable file
            wrapped = f"({wrapped} if type({v}) in {_TYPES[kind]} else _refuse({v}, {branches!r}))"
        if "null" not in branches:
            return f"(({v} := {src}), {wrapped})[1]"
        return f"(None if ({v} := {src}) is None else {wrapped})"

    def record(self, schema: dict[str, Any]) -> Convert:
        name = schema["name"]
        fn = "_record_" + "".join(ch if ch.isalnum() else "_" for ch in name)
        # Registered before its fields are compiled, so a recursive reference finds it.
        self.named[name] = lambda v: self._env[fn](v)
        items = []
        for field in schema["fields"]:
            default = self._name("_default")
            self._env[default] = field.get("default")
            key = repr(field["name"])
            # Every expression reads its source once, so the source may be the lookup itself.
            items.append(f"{key}: {self._expr(field['type'], f'get({key}, {default})')}")
        source = f"def {fn}(datum):\n    get = datum.get\n    return {{{', '.join(items)}}}\n"
        exec(compile(source, f"<avro {name}>", "exec"), self._env)
        compiled: Convert = self._env[fn]
        self.named[name] = compiled
        return compiled

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
