"""What an agent answers in an agent survey (spec/consume.md §4.3): ``QuestionState`` records,
checked against the survey, turned into SDEs and into the submitted answers reports show.

Decisions where the documentation is silent or self-contradictory:

* ``engAttribute`` carries its values under a key named after its type (``purchase``, ``lead``,
  ``service``; ``serviceActivity`` too); every documented example puts them under ``service``
  whatever the type, so that key is read for every type as well. Values may be named by their SDE
  wire name (``orderId``, ``total``) or by the configured attribute name (``order_id``,
  ``order_total``); only the attributes the question configures are accepted.
* ``number`` answers must parse as a number, ``date`` answers as an ISO 8601 date
  (``2026-01-31``) or epoch milliseconds.
* Answers to questions the branching skipped are kept as saved but neither required, reported
  nor turned into SDEs.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from sdehub.model.surveys import CHOICES, EA_FIELDS, SINGLE_CHOICE, Question, Survey, next_question
from sdehub.model.types import Event, Lead, LeadData, ServiceActivity, ServiceData, Transaction
from sdehub.model.validation import FieldError, Path, format_path, validate


class QuestionState(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: Annotated[int, Meta(ge=1)]
    questionStatus: Literal["show", "answer"]
    replyIds: list[int] | None = None
    freeTextReply: Annotated[str, Meta(max_length=50_000)] | None = None
    engAttribute: dict[str, Any] | None = None


class AnswerItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    answer: str
    answerId: int | None = None


class SubmittedAnswer(msgspec.Struct, kw_only=True):
    """One answered question as history reports it (``submittedAnswers[]``)."""

    questionId: int
    questionText: str
    questionDefinition: str
    questionCategory: str
    answers: list[AnswerItem]


_EA_KEYS = {
    "purchase": ("purchase", "service"),
    "lead": ("lead", "service"),
    "service_activity": ("service", "serviceActivity"),
}


def decode_states(body: Any) -> tuple[list[QuestionState], list[FieldError]]:
    states, errors = validate(body, list[QuestionState])
    return (states or [], errors)


def check(survey: Survey, states: list[QuestionState]) -> list[FieldError]:
    """Problems of the answers themselves (not whether required ones are there)."""
    by_id = {q.id: q for q in survey.questions}
    errors: list[FieldError] = []
    seen: set[int] = set()
    for i, state in enumerate(states):
        question = by_id.get(state.id)
        if question is None:
            errors.append(FieldError(f"$[{i}].id", f"the survey has no question {state.id}"))
            continue
        if state.id in seen:
            errors.append(FieldError(f"$[{i}].id", f"question {state.id} is answered twice"))
        seen.add(state.id)
        if state.questionStatus == "answer":
            errors += _answer_problems(question, state, (i,))
    return errors


def _answer_problems(q: Question, state: QuestionState, at: Path) -> list[FieldError]:
    def bad(field: str, message: str) -> list[FieldError]:
        return [FieldError(format_path((*at, field)), message)]

    if q.questionDefinition == "engagement_attributes":
        if not isinstance(state.engAttribute, dict):
            return bad("engAttribute", "an engagement_attributes question is answered here")
        _, errors = ea_record(q, state.engAttribute, (*at, "engAttribute"))
        return errors
    if q.category in CHOICES:
        ids = state.replyIds or []
        if not ids:
            return bad("replyIds", f"a {q.category} question is answered with replyIds")
        if q.category in SINGLE_CHOICE and len(ids) > 1:
            return bad("replyIds", f"a {q.category} question takes one reply")
        known = {r.id for r in q.replies or ()}
        unknown = [r for r in ids if r not in known]
        if unknown:
            return bad("replyIds", f"question {q.id} has no reply {unknown[0]}")
        return []
    text = state.freeTextReply
    if text is None or not text.strip():
        return bad("freeTextReply", f"a {q.category} question is answered with freeTextReply")
    limit = q.maxCharacters or 1024
    if q.category == "free_text" and len(text) > limit:
        return bad("freeTextReply", f"at most {limit} characters")
    if q.category == "number":
        try:
            float(text)
        except ValueError:
            return bad("freeTextReply", f"expected a number, got {text!r}")
    if q.category == "date" and not text.isdigit():
        try:
            date.fromisoformat(text)
        except ValueError:
            return bad("freeTextReply", f"expected a date (YYYY-MM-DD) or epoch ms, got {text!r}")
    return []


def ea_record(
    q: Question, answer: dict[str, Any], at: Path
) -> tuple[Event | None, list[FieldError]]:
    """The SDE an engagement-attribute answer reports (or why it cannot)."""
    ea = q.engagementAttribute
    assert ea is not None
    kind = "service_activity" if ea.type == "service" else ea.type
    values = next((answer[k] for k in _EA_KEYS[kind] if isinstance(answer.get(k), dict)), None)
    if values is None:
        key = _EA_KEYS[kind][0]
        return None, [FieldError(format_path((*at, key)), f"the {kind} values are expected here")]
    key = next(k for k in _EA_KEYS[kind] if isinstance(answer.get(k), dict))
    allowed: dict[str, str] = {n: EA_FIELDS[kind][n] for n in ea.attributes}
    wire_of: dict[str, str] = {**{w: w for w in allowed.values()}, **allowed}
    payload: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in values.items():
        if name not in wire_of:
            errors.append(
                FieldError(
                    format_path((*at, key, name)),
                    f"question {q.id} reports only {', '.join(ea.attributes)}",
                )
            )
        elif value is not None:
            payload[wire_of[name]] = value
    if errors:
        return None, errors
    if not payload:
        return None, [FieldError(format_path((*at, key)), "no value given")]
    where = (*at, key)
    if kind == "purchase":
        record, errors = validate(payload, Transaction, where)
        return record, errors
    if kind == "lead":
        lead, errors = validate(payload, LeadData, where)
        return (None if lead is None else Lead(lead=lead)), errors
    service, errors = validate(payload, ServiceData, where)
    return (None if service is None else ServiceActivity(service=service)), errors


def path(survey: Survey, answered: dict[int, QuestionState]) -> list[Question]:
    """The questions the agent goes through, from the root, following the answers."""
    by_id = {q.id: q for q in survey.questions}
    out: list[Question] = []
    current = survey.root
    while current is not None and current in by_id and len(out) < len(by_id):
        question = by_id[current]
        out.append(question)
        state = answered.get(current)
        current = next_question(survey, question, (state.replyIds or []) if state else [])
    return out


def answered_on_path(
    survey: Survey, states: list[QuestionState]
) -> list[tuple[Question, QuestionState]]:
    answered = {s.id: s for s in states if s.questionStatus == "answer"}
    return [(q, answered[q.id]) for q in path(survey, answered) if q.id in answered]


def missing(survey: Survey, states: list[QuestionState]) -> list[FieldError]:
    """Required questions on the path that have no answer."""
    answered = {s.id: s for s in states if s.questionStatus == "answer"}
    return [
        FieldError("$", f"question {q.id} ({q.text!r}) is required")
        for q in path(survey, answered)
        if q.required and q.id not in answered
    ]


def submitted(survey: Survey, states: list[QuestionState]) -> list[SubmittedAnswer]:
    out = []
    for q, state in answered_on_path(survey, states):
        if q.questionDefinition == "engagement_attributes":
            record, _ = ea_record(q, state.engAttribute or {}, ())
            fields = _fields(record)
            items = [AnswerItem(answer=f"{k}: {v}") for k, v in fields.items()]
        elif q.category in CHOICES:
            texts = {r.id: r.text for r in q.replies or ()}
            items = [AnswerItem(answer=texts[r], answerId=r) for r in state.replyIds or []]
        else:
            items = [AnswerItem(answer=state.freeTextReply or "")]
        out.append(
            SubmittedAnswer(
                questionId=q.id,
                questionText=q.text,
                questionDefinition=q.questionDefinition,
                questionCategory=q.category,
                answers=items,
            )
        )
    return out


def records(survey: Survey, states: list[QuestionState]) -> list[Event]:
    """The SDEs the engagement-attribute answers report."""
    out = []
    for q, state in answered_on_path(survey, states):
        if q.questionDefinition == "engagement_attributes":
            record, _ = ea_record(q, state.engAttribute or {}, ())
            if record is not None:
                out.append(record)
    return out


def _fields(record: Event | None) -> dict[str, Any]:
    if record is None:
        return {}
    data = msgspec.to_builtins(record)
    data.pop("type", None)
    inner = data.get("lead") or data.get("service")
    return dict(inner) if isinstance(inner, dict) else data
