"""Request bodies as JSON: decoded once, with a clear error and a check no store would fail."""

from __future__ import annotations

from typing import Any

import msgspec

from sdehub.errors import BadRequest
from sdehub.model.validation import FieldError, nul_errors


def decode_json(body: bytes) -> Any:
    """Bytes to plain JSON values; a parse error names where it happened."""
    if not body.strip():
        raise BadRequest(
            "the request body is empty; expected JSON",
            errors=[FieldError("$", "expected a JSON document, got nothing")],
        )
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(
            f"the request body is not valid JSON: {exc}",
            errors=[FieldError("$", f"invalid JSON: {exc}")],
        ) from None
    # JSON can only carry U+0000 escaped, so the byte search is a cheap exact pre-check.
    if b"\\u0000" in body:
        errors = nul_errors(value)
        if errors:
            raise BadRequest.from_errors(errors)
    return value
