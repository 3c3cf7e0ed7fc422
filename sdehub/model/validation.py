"""Validation of decoded JSON against msgspec types, reporting every error with its JSON path.

msgspec stops at the first error; our clients need all of them (``{"path": "$.info.balance",
"message": ...}``), so a validator is compiled once per type from ``msgspec.inspect`` and walks
the value. It is tolerant where LivePerson's own (Jackson-based) services are, because real
clients rely on it and the documentation's examples do it:

* a number where a string is expected becomes that string (``"orderId": 1234``);
* a numeric string where a number is expected becomes the number (``"channel": "1"``), and an
  integral float is accepted for an integer (``"age": 30.0``);
* ``"true"``/``"false"`` strings for booleans; enum strings in any letter case;
* ``null`` for an optional field means absent; field aliases declared in ``Meta(extra=...)``.

Unknown fields are ignored, as the LivePerson services do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from functools import cache
from typing import Any, Final, TypeVar, cast

import msgspec
import msgspec.inspect as mi

T = TypeVar("T")
Path = tuple[str | int, ...]
Node = Callable[[Any, Path, list["FieldError"]], Any]


class FieldError(msgspec.Struct, frozen=True):
    """One problem with one value: where (a JSON path) and what was expected."""

    path: str
    message: str


class ValidationFailed(Exception):
    """A payload did not validate; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = list(errors)


class _Invalid:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()


def format_path(path: Path) -> str:
    parts = ["$"]
    for seg in path:
        parts.append(f"[{seg}]" if isinstance(seg, int) else f".{seg}")
    return "".join(parts)


def describe(value: Any) -> str:
    """A short description of a JSON value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {msgspec.json.encode(shown).decode()}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _fail(errs: list[FieldError], path: Path, message: str) -> _Invalid:
    errs.append(FieldError(format_path(path), message))
    return INVALID


def validate(value: Any, typ: type[T] | Any, path: Path = ()) -> tuple[T | None, list[FieldError]]:
    """Validate ``value`` (decoded JSON) against ``typ``; return the typed value or the errors."""
    errs: list[FieldError] = []
    out = compile_type(cast(Any, typ))(value, path, errs)
    if errs or out is INVALID:
        return None, errs
    return cast(T, out), errs


def convert(value: Any, typ: type[T] | Any, path: Path = ()) -> T:
    """Like :func:`validate` but raises :class:`ValidationFailed`."""
    out, errs = validate(value, typ, path)
    if errs:
        raise ValidationFailed(errs)
    return cast(T, out)


def nul_errors(value: Any, path: Path = ()) -> list[FieldError]:
    """Strings holding U+0000, anywhere in a JSON value.

    PostgreSQL cannot store that character in text or JSON columns, so it is refused at the edge
    on every backend alike rather than failing later on one of them.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return [FieldError(format_path(path), "the NUL character (U+0000) is not allowed")]
        return []
    if isinstance(value, list):
        return [e for i, item in enumerate(value) for e in nul_errors(item, (*path, i))]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if "\x00" in str(key):
                found.append(FieldError(format_path(path), "a member name holds U+0000"))
            found += nul_errors(item, (*path, str(key)))
        return found
    return []


@cache
def compile_type(typ: Any) -> Node:
    return _compile(mi.type_info(typ))


def _compile(t: mi.Type) -> Node:
    if isinstance(t, mi.Metadata):
        if t.extra and "codes" in t.extra and isinstance(t.type, mi.LiteralType):
            return _literal_node(t.type.values, codes=tuple(t.extra["codes"]))
        if t.extra and "unsupported_tag" in t.extra and isinstance(t.type, mi.UnionType):
            return _tagged_node(list(t.type.types), unsupported=t.extra["unsupported_tag"])  # type: ignore[arg-type]
        return _compile(t.type)
    if isinstance(t, mi.AnyType):
        return lambda v, p, e: v
    if isinstance(t, mi.NoneType):
        return lambda v, p, e: (
            None if v is None else _fail(e, p, f"expected null, got {describe(v)}")
        )
    if isinstance(t, mi.StrType):
        return _str_node(t)
    if isinstance(t, mi.IntType):
        return _int_node(t)
    if isinstance(t, mi.FloatType):
        return _float_node(t)
    if isinstance(t, mi.BoolType):
        return _bool
    if isinstance(t, mi.LiteralType):
        return _literal_node(t.values)
    if isinstance(t, mi.ListType):
        return _list_node(t)
    if isinstance(t, mi.DictType):
        return _dict_node(t)
    if isinstance(t, mi.StructType):
        return _struct_node(t)
    if isinstance(t, mi.UnionType):
        return _union_node(t)
    raise TypeError(f"no validator for {t!r}")


def _check_len(v: str | list[Any], t: Any, p: Path, e: list[FieldError], unit: str) -> Any:
    if t.min_length is not None and len(v) < t.min_length:
        return _fail(e, p, f"expected at least {t.min_length} {unit}, got {len(v)}")
    if t.max_length is not None and len(v) > t.max_length:
        return _fail(e, p, f"expected at most {t.max_length} {unit}, got {len(v)}")
    return v


def _str_node(t: mi.StrType) -> Node:
    pattern = re.compile(t.pattern) if t.pattern is not None else None

    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        if isinstance(v, str):
            pass
        elif (
            isinstance(v, int | float)
            and not isinstance(v, bool)
            and (isinstance(v, int) or math.isfinite(v))
        ):
            v = str(v)
        else:
            return _fail(e, p, f"expected a string, got {describe(v)}")
        if pattern is not None and pattern.search(v) is None:
            return _fail(e, p, f"expected a string matching {t.pattern!r}, got {describe(v)}")
        return _check_len(v, t, p, e, "characters")

    return node


def _check_bounds(v: float, t: mi.IntType | mi.FloatType, p: Path, e: list[FieldError]) -> Any:
    if isinstance(t, mi.IntType) and not INT64[0] <= v <= INT64[1]:
        return _fail(e, p, f"expected a 64-bit integer, got {v!r}")
    if t.ge is not None and v < t.ge:
        return _fail(e, p, f"expected a value >= {t.ge}, got {v!r}")
    if t.le is not None and v > t.le:
        return _fail(e, p, f"expected a value <= {t.le}, got {v!r}")
    if isinstance(t, mi.FloatType) and t.gt is not None and v <= t.gt:
        return _fail(e, p, f"expected a value > {t.gt}, got {v!r}")
    if isinstance(t, mi.IntType) and t.gt is not None and v <= t.gt:
        return _fail(e, p, f"expected a value > {t.gt}, got {v!r}")
    return v


_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
# Stored values become Avro longs and database BIGINTs: integers stay within 64 bits.
INT64 = (-(2**63), 2**63 - 1)


def _number_from_str(v: str) -> float | None:
    """A JSON-style number in a string (no ``inf``, ``nan`` or ``1_000``)."""
    if _NUMBER.match(v) is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _int_node(t: mi.IntType) -> Node:
    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        if isinstance(v, bool):
            return _fail(e, p, f"expected an integer, got {describe(v)}")
        if isinstance(v, int):
            return _check_bounds(v, t, p, e)
        f: float | None = v if isinstance(v, float) else None
        if isinstance(v, str):
            f = _number_from_str(v)
        if f is None or not math.isfinite(f) or not f.is_integer():
            return _fail(e, p, f"expected an integer, got {describe(v)}")
        return _check_bounds(int(f), t, p, e)

    return node


def _float_node(t: mi.FloatType) -> Node:
    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        if isinstance(v, bool):
            return _fail(e, p, f"expected a number, got {describe(v)}")
        f: float | None
        if isinstance(v, int | float):
            try:
                f = float(v) if math.isfinite(v) else None
            except OverflowError:  # an integer beyond the float range
                f = None
        elif isinstance(v, str):
            f = _number_from_str(v)
        else:
            f = None
        if f is None:
            return _fail(e, p, f"expected a number, got {describe(v)}")
        return _check_bounds(f, t, p, e)

    return node


def _bool(v: Any, p: Path, e: list[FieldError]) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return _fail(e, p, f"expected true or false, got {describe(v)}")


def _literal_node(values: tuple[Any, ...], codes: tuple[Any, ...] = ()) -> Node:
    """One of ``values``; strings in any case; ``codes[i]`` may also be given as the number i."""
    exact = set(values)
    folded = {v.lower(): v for v in values if isinstance(v, str)}
    by_code = {str(i): value for i, value in enumerate(codes)}
    shown = ", ".join(str(v) for v in values)

    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        if isinstance(v, Hashable) and v in exact and not isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in folded:
            return folded[v.lower()]
        if by_code and not isinstance(v, bool) and isinstance(v, int | str) and str(v) in by_code:
            return by_code[str(v)]
        return _fail(e, p, f"expected one of {shown}, got {describe(v)}")

    return node


def _list_node(t: mi.ListType) -> Node:
    item = _compile(t.item_type)

    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        if not isinstance(v, list):
            return _fail(e, p, f"expected an array, got {describe(v)}")
        if _check_len(v, t, p, e, "items") is INVALID:
            return INVALID
        out = [item(x, (*p, i), e) for i, x in enumerate(v)]
        return INVALID if any(x is INVALID for x in out) else out

    return node


def _dict_node(t: mi.DictType) -> Node:
    key = _compile(t.key_type)
    val = _compile(t.value_type)

    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        if not isinstance(v, dict):
            return _fail(e, p, f"expected an object, got {describe(v)}")
        out = {key(k, (*p, str(k)), e): val(x, (*p, str(k)), e) for k, x in v.items()}
        bad = any(k is INVALID or x is INVALID for k, x in out.items())
        return INVALID if bad else out

    return node


def _aliases(t: mi.Type) -> tuple[str, ...]:
    if isinstance(t, mi.Metadata) and t.extra:
        return tuple(t.extra.get("aliases", ()))
    return ()


def _struct_node(t: mi.StructType) -> Node:
    cls = t.cls
    fields = [
        (f.name, f.encode_name, _aliases(f.type), f.required, _compile(f.type)) for f in t.fields
    ]

    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        if not isinstance(v, dict):
            return _fail(e, p, f"expected an object, got {describe(v)}")
        kwargs: dict[str, Any] = {}
        bad = False
        for name, wire, aliases, required, check in fields:
            key = wire
            raw = v.get(wire)
            if raw is None:
                for alias in aliases:
                    if v.get(alias) is not None:
                        key, raw = alias, v[alias]
                        break
            if raw is None:
                if required:
                    _fail(e, (*p, wire), "is required")
                    bad = True
                continue
            out = check(raw, (*p, key), e)
            if out is INVALID:
                bad = True
            else:
                kwargs[name] = out
        return INVALID if bad else cls(**kwargs)

    return node


def _union_node(t: mi.UnionType) -> Node:
    types = [x for x in t.types if not isinstance(x, mi.NoneType)]
    nullable = len(types) != len(t.types)
    structs = [x for x in types if isinstance(x, mi.StructType)]
    others = [x for x in types if not isinstance(x, mi.StructType)]
    candidates: list[tuple[str, Node]] = [(_kind(x), _compile(x)) for x in others]
    if structs:
        tagged = len(structs) > 1 or structs[0].tag_field is not None
        struct_node = _tagged_node(structs) if tagged else _struct_node(structs[0])
        candidates.insert(0, ("object", struct_node))
    inner = candidates[0][1] if len(candidates) == 1 else _first_match_node(candidates)
    if not nullable:
        return inner
    return lambda v, p, e: None if v is None else inner(v, p, e)


def _kind(t: mi.Type) -> str:
    """The JSON kind a type naturally takes, so a union tries the matching member first."""
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.StrType | mi.LiteralType):
        return "string"
    if isinstance(t, mi.IntType | mi.FloatType):
        return "number"
    if isinstance(t, mi.BoolType):
        return "boolean"
    if isinstance(t, mi.ListType):
        return "array"
    if isinstance(t, mi.DictType | mi.StructType):
        return "object"
    return "any"


def _value_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _tagged_node(structs: list[mi.StructType], unsupported: str | None = None) -> Node:
    """Dispatch on the tag; ``unsupported`` words the error for a tag this union leaves out."""
    tag_field = structs[0].tag_field
    assert tag_field is not None
    by_tag = {s.tag: _struct_node(s) for s in structs}
    shown = ", ".join(str(s.tag) for s in structs)

    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        if not isinstance(v, dict):
            return _fail(e, p, f"expected an object, got {describe(v)}")
        tag = v.get(tag_field)
        if tag is None:
            return _fail(e, (*p, tag_field), f"is required (one of {shown})")
        check = by_tag.get(tag) if isinstance(tag, str) else None
        if check is None and unsupported and isinstance(tag, str):
            return _fail(e, (*p, tag_field), f"SDE type {tag!r} {unsupported}")
        if check is None:
            return _fail(e, (*p, tag_field), f"expected one of {shown}, got {describe(tag)}")
        return check(v, p, e)

    return node


def _first_match_node(candidates: list[tuple[str, Node]]) -> Node:
    """Try the members whose JSON kind matches the value first, so ``str | int`` keeps a number
    a number; report the errors of the best-matching member."""

    def node(v: Any, p: Path, e: list[FieldError]) -> Any:
        kind = _value_kind(v)
        # A member of the value's own kind decides alone: ``str | int`` must not turn a number
        # that is out of the int's range into a string. Other kinds are tried (with their
        # tolerance) only when no member has the value's kind.
        same = [c for c in candidates if c[0] == kind]
        ordered = same or candidates
        first: list[FieldError] | None = None
        for _, check in ordered:
            trial: list[FieldError] = []
            out = check(v, p, trial)
            if not trial and out is not INVALID:
                return out
            first = first if first is not None else trial
        e.extend(first or [FieldError(format_path(p), f"unexpected {describe(v)}")])
        return INVALID

    return node


# A run of 19 digits, found as 19 zeros once every digit is a zero and every other byte a space:
# bytes.translate and a substring search cost ~1 us for a CONVERSATION body where a regex search
# for \d{19,} cost ~15 us (it restarts at every digit of every number), in the database writer.
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_NUMBER = b"0" * 19


def one_pass(
    decoder: msgspec.json.Decoder[T], body: bytes, *, aliases: Sequence[bytes] = ()
) -> T | None:
    """A body decoded straight into its type by msgspec, or None when the validator must look
    (it then gives the answer or every error). msgspec is strict where the validator is
    tolerant, so it refuses rather than differs, except in three places that are tested here
    first: JSON can only carry U+0000 escaped, so its byte form marks a NUL; msgspec takes
    integers up to 2**64, where the validator (like the database) stops at 2**63, so a body with
    19 digits in a row is left to the validator; and a field's alias (``Meta(extra={"aliases":
    ...})``) is known to the validator only."""
    if (
        b"\\u0000" in body
        or _LONG_NUMBER in body.translate(_DIGITS_AS_ZEROS)
        or any(a in body for a in aliases)
    ):
        return None
    try:
        return decoder.decode(body)
    except msgspec.DecodeError:  # also msgspec.ValidationError
        return None
