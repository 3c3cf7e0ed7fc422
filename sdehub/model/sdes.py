"""Decoding lists of reported SDEs under the rules of the carrier they arrived on.

Every carrier takes the same objects, but not all of them: impression events only arrive on the
Monitoring API report method, and the authenticated flow (a JWT ``lp_sdes`` claim or
``authenticatedData.lp_sdes``) takes only Customer Info (without the store fields) and
Personal Info.
"""

from __future__ import annotations

from typing import Any

from sdehub.model.types import (
    AUTHENTICATED_EXCLUDED_FIELDS,
    IMPRESSION_TYPES,
    AuthenticatedSDE,
    CustomerInfo,
    Event,
    wire_type,
)
from sdehub.model.validation import FieldError, Path, compile_type, describe, format_path

_IMPRESSIONS = frozenset(str(c.__struct_config__.tag) for c in IMPRESSION_TYPES)


def decode_sdes(
    raw: Any,
    *,
    path: Path = (),
    impressions: bool = False,
    authenticated: bool = False,
    single: bool = False,
) -> tuple[list[Event], list[FieldError]]:
    """Validate a JSON array of SDEs; return the typed records, or every error found.

    ``single`` also accepts one bare object (``lpTag.sdes.push`` takes an object or an array).
    """
    if single and isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        return [], [
            FieldError(format_path(path), f"expected an array of SDEs, got {describe(raw)}")
        ]
    check = compile_type(AuthenticatedSDE if authenticated else Event)
    errors: list[FieldError] = []
    records: list[Event] = []
    for i, item in enumerate(raw):
        item_path = (*path, i)
        before = len(errors)
        record = check(item, item_path, errors)
        if len(errors) > before:
            continue
        wt = wire_type(record)
        if wt in _IMPRESSIONS and not impressions:
            errors.append(
                FieldError(
                    format_path((*item_path, "type")),
                    f"impression event {wt!r} is only accepted by the Monitoring API report method",
                )
            )
            continue
        if authenticated:
            problems = authenticated_problems(record, item_path)
            if problems:
                errors.extend(problems)
                continue
        records.append(record)
    return (records, []) if not errors else ([], errors)


def authenticated_problems(record: Event, path: Path) -> list[FieldError]:
    """Why ``record`` cannot be an authenticated SDE (empty when it can). The type itself is
    checked by decoding into :data:`AuthenticatedSDE`; what remains are Customer Info's store
    fields, which the authenticated flow does not take."""
    if isinstance(record, CustomerInfo):
        return [
            FieldError(
                format_path((*path, "info", name)),
                f"{name} is not supported in the authenticated flow",
            )
            for name in sorted(AUTHENTICATED_EXCLUDED_FIELDS)
            if getattr(record.info, name) is not None
        ]
    return []
