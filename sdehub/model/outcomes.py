"""Conversation outcomes (spec/consume.md §4.1, seed 003): which Transaction, Lead and Service
Activity properties agents of which skills may report, under which display names, and the SDE a
submitted form becomes.

Decisions where the documentation is silent:

* A form field is named by the property's SDE wire name (``total``, ``orderId``, ``leadId``,
  ``serviceId`` ...), so a submission's values are the SDE's own fields.
* An entry with no ``skillIds`` applies to every skill (and to conversations without one); an
  entry naming the conversation's skill wins over it. Two entries for the same SDE may not both
  name a skill, nor both apply to every skill.
* Values are checked by the SDE types' own validation (a number may come as a numeric string, as
  on every other API); a Service Activity ``status`` may also be given by its name
  (``"Resolved"``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, NamedTuple

import msgspec
from msgspec import Meta

from sdehub.model.types import (
    SERVICE_STATUS_NAMES,
    Event,
    Lead,
    LeadData,
    ServiceActivity,
    ServiceData,
    Transaction,
)
from sdehub.model.validation import FieldError, format_path, validate

Sde = Literal["purchase", "lead", "service"]
SkillId = Annotated[str, Meta(min_length=1, max_length=128)]
DisplayName = Annotated[str, Meta(min_length=1, max_length=256)]


class FieldSpec(NamedTuple):
    type: Literal["number", "integer", "string"]
    enum: tuple[str, ...] | None = None


class FormSpec(NamedTuple):
    title: str
    fields: dict[str, FieldSpec]


NUMBER, STRING = FieldSpec("number"), FieldSpec("string")
# The reportable properties of each SDE, in the order a form shows them (seed 003's table).
FORMS: Final[dict[str, FormSpec]] = {
    "purchase": FormSpec("Transaction", {"total": NUMBER, "orderId": STRING}),
    "lead": FormSpec("Lead", {"topic": STRING, "value": NUMBER, "leadId": STRING}),
    "service": FormSpec(
        "Service activity",
        {
            "topic": STRING,
            "status": FieldSpec("integer", SERVICE_STATUS_NAMES),
            "category": STRING,
            "serviceId": STRING,
        },
    ),
}


class OutcomeField(msgspec.Struct, kw_only=True):
    field: str
    """The SDE property, by its wire name."""
    displayName: DisplayName
    """What the agent sees."""


class Outcome(msgspec.Struct, kw_only=True):
    sde: Sde
    skillIds: list[SkillId]
    """The skills whose agents report it; empty: every skill."""
    fields: list[OutcomeField]


class OutcomesConfig(msgspec.Struct, kw_only=True):
    outcomes: list[Outcome]


def check(config: OutcomesConfig, known_skills: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []

    def bad(message: str, *at: str | int) -> None:
        errors.append(FieldError(format_path(("outcomes", *at)), message))

    owners: dict[tuple[str, str | None], int] = {}
    for i, entry in enumerate(config.outcomes):
        allowed = FORMS[entry.sde].fields
        if not entry.fields:
            bad(f"{entry.sde} needs at least one field ({', '.join(allowed)})", i, "fields")
        seen: set[str] = set()
        for j, f in enumerate(entry.fields):
            if f.field not in allowed:
                bad(f"{entry.sde} takes {', '.join(allowed)}, not {f.field!r}", i, "fields", j,
                    "field")  # fmt: skip
            elif f.field in seen:
                bad(f"{f.field} is listed twice", i, "fields", j, "field")
            seen.add(f.field)
        if not entry.skillIds:
            owner = owners.setdefault((entry.sde, None), i)
            if owner != i:
                bad(f"outcomes[{owner}] already reports {entry.sde} for every skill", i,
                    "skillIds")  # fmt: skip
        for k, skill in enumerate(entry.skillIds):
            if skill not in known_skills:
                bad(f"no skill {skill!r} in the account's catalog", i, "skillIds", k)
                continue
            owner = owners.setdefault((entry.sde, skill), i)
            if owner != i:
                bad(f"outcomes[{owner}] already reports {entry.sde} for skill {skill}", i,
                    "skillIds", k)  # fmt: skip
            elif skill in entry.skillIds[:k]:
                bad(f"skill {skill} is listed twice", i, "skillIds", k)
    return errors


def sections(config: OutcomesConfig | None, skill_id: str | None) -> list[Outcome]:
    """The entries agents see in a conversation of this skill, in configuration order."""
    if config is None:
        return []
    chosen: dict[str, Outcome] = {}
    for entry in config.outcomes:
        if skill_id is not None and skill_id in entry.skillIds:
            chosen[entry.sde] = entry
        elif not entry.skillIds:
            chosen.setdefault(entry.sde, entry)
    return [e for e in config.outcomes if chosen.get(e.sde) is e]


def record_of(entry: Outcome, values: dict[str, Any]) -> tuple[Event | None, list[FieldError]]:
    """The SDE a submission of this form entry reports (paths under ``$.values``)."""
    spec = FORMS[entry.sde].fields
    shown = [f.field for f in entry.fields]
    errors = [
        FieldError(
            format_path(("values", name)),
            f"the {entry.sde} form of this conversation has {', '.join(shown)}, not {name!r}",
        )
        for name in values
        if name not in shown
    ]
    if errors:
        return None, errors
    payload: dict[str, Any] = {}
    for name, value in values.items():
        names = spec[name].enum
        if names is not None and isinstance(value, str) and value in names:
            value = names.index(value)
        if value is not None:
            payload[name] = value
    if not payload:
        return None, [FieldError("$.values", f"no value given (the form has {', '.join(shown)})")]
    at = ("values",)
    if entry.sde == "purchase":
        return validate(payload, Transaction, at)
    if entry.sde == "lead":
        lead, errors = validate(payload, LeadData, at)
        return (None if lead is None else Lead(lead=lead)), errors
    service, errors = validate(payload, ServiceData, at)
    return (None if service is None else ServiceActivity(service=service)), errors


def values_of(record: Event) -> dict[str, Any]:
    """A reported record's form values (the SDE's fields, without the wrapper)."""
    data: dict[str, Any] = msgspec.to_builtins(record)
    data.pop("type", None)
    inner = data.get("lead", data.get("service"))
    return dict(inner) if isinstance(inner, dict) else data
