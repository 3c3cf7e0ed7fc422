"""Avro JSON text of leaf values: the nullable unions of the Data Access schema.

Each function returns the JSON text the generic encoder (``files.encode_line``) writes for the
datum the record builders used to make of a value: ``null`` or ``{"string":"..."}``,
``{"long":1}``...
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable
from typing import Any, Final

import msgspec

from sdehub.dataaccess.records import NS, as_int

# A JSON string literal: the stdlib's C escaper writes exactly what msgspec writes for any str
# (quotes, backslashes and control characters escaped, everything else as is).
esc: Final[Callable[[str], str]] = json.encoder.encode_basestring
_float_text = msgspec.json.encode
NULL: Final = "null"


def s(value: Any) -> str:
    """``["null", "string"]`` of ``str(value)``."""
    if value is None:
        return NULL
    return '{"string":' + esc(value if type(value) is str else str(value)) + "}"


def i(value: Any) -> str:
    """``["null", "int"]`` of a whole number (or digits); anything else is absent."""
    if type(value) is not int:
        value = as_int(value)
        if value is None:
            return NULL
    return '{"int":' + str(value) + "}"


def long(value: Any) -> str:
    """``["null", "long"]``, as :func:`i`."""
    if type(value) is not int:
        value = as_int(value)
        if value is None:
            return NULL
    return '{"long":' + str(value) + "}"


def double(value: Any) -> str:
    """``["null", "double"]`` of a number; msgspec's float text, as the generic encoder's."""
    if type(value) is float:
        return '{"double":' + _float_text(value).decode() + "}"
    if type(value) is int:
        return '{"double":' + _float_text(float(value)).decode() + "}"
    return NULL


def boolean(value: Any) -> str:
    if value is True:
        return '{"boolean":true}'
    return '{"boolean":false}' if value is False else NULL


def stamp(value: Any) -> str:
    """``["null", "long"]`` of a timestamp (an int, but for a bad row)."""
    return '{"long":' + str(value) + "}" if type(value) is int else long(value)


def header(visitor_id: Any, session_id: Any, context_id: Any = None) -> str:
    return (
        f'{{"{NS}.VisitorHeader":{{"visitId":{s(session_id)},"visitorId":{s(visitor_id)}'
        f',"contextId":{s(context_id)}}}}}'
    )
