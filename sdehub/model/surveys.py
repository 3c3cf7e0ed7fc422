"""The agent survey for messaging, as configured (spec/consume.md §4.2): :class:`Survey`.

Field names are LivePerson's (``ac-common/agent_surveys``): a survey has ``name``, ``root`` (the
first question), ``isDefault``, ``defaultTimeoutInMinutes``, ``enabled`` and ``questions``; a
question has ``orderId``, ``category``, ``questionDefinition``, ``required``, ``next`` /
``nextInOrder``, ``maxCharacters``, ``replies`` and, for ``engagement_attributes``, an
``engagementAttribute``. Where sdehub adds or decides something the documentation leaves open:

* ``skillIds`` assigns the survey to skills (LivePerson does it on the skill); a skill belongs to
  at most one survey, which the store checks against the other surveys.
* Branching only moves forward: a ``next`` must name a question with a higher ``orderId``.
  Without ``next`` a question (or reply) goes on to the next question in order, the documented
  default "jump to next". Only single-choice replies (``radio_button``, ``dropdown``) may carry
  their own ``next``, and a question with replies has none itself.
* ``containsLogic`` and ``nextInOrder`` are derived, never trusted from the client.
* The engagement-attribute type ``service`` is accepted for ``service_activity`` (the runtime
  docs use both) and stored as ``service_activity``.

:func:`decode_survey` returns the survey or every problem with its JSON path.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from sdehub.model.types import Text
from sdehub.model.validation import FieldError, format_path, validate

Category = Literal["free_text", "radio_button", "checkbox", "dropdown", "number", "date"]
Definition = Literal[
    "regular_question", "conversation_topic", "conversation_outcome", "engagement_attributes"
]
EaType = Literal["purchase", "lead", "service_activity", "service"]
EaAttribute = Literal[
    "order_total", "currency", "order_id", "topic", "value", "lead_id", "status", "category",
    "service_id",
]  # fmt: skip
QuestionId = Annotated[int, Meta(ge=1, le=2**53)]
MAX_TIMEOUT_MINUTES: Final = 72 * 60
MAX_CHARACTERS: Final = 1024

CHOICES: Final = frozenset({"radio_button", "checkbox", "dropdown"})
SINGLE_CHOICE: Final = frozenset({"radio_button", "dropdown"})
# Which attributes each engagement-attribute type can carry, and their SDE wire names.
EA_FIELDS: Final[dict[str, dict[str, str]]] = {
    "purchase": {"order_total": "total", "currency": "currency", "order_id": "orderId"},
    "lead": {"topic": "topic", "value": "value", "currency": "currency", "lead_id": "leadId"},
    "service_activity": {
        "topic": "topic",
        "status": "status",
        "category": "category",
        "service_id": "serviceId",
    },
}


class Reply(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: QuestionId
    text: Annotated[str, Meta(min_length=1, max_length=1024)]
    next: QuestionId | None = None
    nextInOrder: bool | None = None


class EngagementAttribute(msgspec.Struct, kw_only=True):
    type: EaType
    attributes: Annotated[list[EaAttribute], Meta(min_length=1)]


class Question(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: QuestionId
    orderId: Annotated[int, Meta(ge=0)]
    text: Annotated[str, Meta(min_length=1, max_length=1024)]
    category: Category
    questionDefinition: Definition = "regular_question"
    required: bool = False
    next: QuestionId | None = None
    nextInOrder: bool | None = None
    maxCharacters: Annotated[int, Meta(ge=1, le=MAX_CHARACTERS)] | None = None
    replies: list[Reply] | None = None
    engagementAttribute: EngagementAttribute | None = None
    containsLogic: bool | None = None


class Survey(msgspec.Struct, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=256)]
    description: Text = ""
    root: QuestionId | None = None
    isDefault: bool = False
    defaultTimeoutInMinutes: Annotated[int, Meta(ge=0, le=MAX_TIMEOUT_MINUTES)] = 0
    enabled: bool = True
    questions: Annotated[list[Question], Meta(min_length=1)]
    skillIds: list[Annotated[str, Meta(min_length=1, max_length=128)]] = []


def decode_survey(document: Any) -> tuple[Survey | None, list[FieldError]]:
    """The survey a request body describes (derived fields filled in), or every problem."""
    if isinstance(document, dict):
        # Read-only members of an answer may come back in a body that was read and edited.
        document = {
            k: v for k, v in document.items() if k not in ("id", "revision", "deleted", "$ref")
        }
    survey, errors = validate(document, Survey)
    if survey is None:
        return None, errors
    errors = problems(survey)
    if errors:
        return None, errors
    return derived(survey), []


def problems(survey: Survey) -> list[FieldError]:
    errors: list[FieldError] = []

    def bad(path: tuple[str | int, ...], message: str) -> None:
        errors.append(FieldError(format_path(path), message))

    order = {q.id: q.orderId for q in survey.questions}
    seen_ids: set[int] = set()
    seen_orders: set[int] = set()
    for i, q in enumerate(survey.questions):
        at = ("questions", i)
        if q.id in seen_ids:
            bad((*at, "id"), f"question id {q.id} is used twice")
        if q.orderId in seen_orders:
            bad((*at, "orderId"), f"orderId {q.orderId} is used twice")
        seen_ids.add(q.id)
        seen_orders.add(q.orderId)
        _question_problems(q, at, order, bad)
    if survey.root is not None and survey.root not in order:
        bad(("root",), f"no question has id {survey.root}")
    if len(set(survey.skillIds)) != len(survey.skillIds):
        bad(("skillIds",), "a skill is listed twice")
    return errors


def _question_problems(
    q: Question, at: tuple[str | int, ...], order: dict[int, int], bad: Any
) -> None:
    def forward(target: int, path: tuple[str | int, ...]) -> None:
        if target not in order:
            bad(path, f"no question has id {target}")
        elif order[target] <= q.orderId:
            bad(path, f"branching only jumps forward: question {target} (orderId "
                      f"{order[target]}) does not come after orderId {q.orderId}")  # fmt: skip

    if q.category in CHOICES:
        if not q.replies:
            bad((*at, "replies"), f"a {q.category} question needs at least one reply")
        if q.next is not None:
            bad((*at, "next"), "a question with replies has no next of its own; set it on replies")
    elif q.replies:
        bad((*at, "replies"), f"a {q.category} question takes no replies")
    if q.maxCharacters is not None and q.category != "free_text":
        bad((*at, "maxCharacters"), "only free_text questions take maxCharacters")
    if q.next is not None:
        forward(q.next, (*at, "next"))
    reply_ids: set[int] = set()
    for j, reply in enumerate(q.replies or ()):
        if reply.id in reply_ids:
            bad((*at, "replies", j, "id"), f"reply id {reply.id} is used twice")
        reply_ids.add(reply.id)
        if reply.next is not None:
            if q.category not in SINGLE_CHOICE:
                bad((*at, "replies", j, "next"), "only radio_button and dropdown replies branch")
            else:
                forward(reply.next, (*at, "replies", j, "next"))
    if q.questionDefinition in ("conversation_topic", "conversation_outcome"):
        if q.category != "dropdown":
            bad((*at, "category"), f"a {q.questionDefinition} question is a dropdown")
    if q.questionDefinition == "engagement_attributes":
        ea = q.engagementAttribute
        if ea is None:
            bad((*at, "engagementAttribute"), "required for an engagement_attributes question")
        else:
            kind = "service_activity" if ea.type == "service" else ea.type
            for k, name in enumerate(ea.attributes):
                if name not in EA_FIELDS[kind]:
                    allowed = ", ".join(EA_FIELDS[kind])
                    bad((*at, "engagementAttribute", "attributes", k),
                        f"{kind} takes {allowed}, not {name}")  # fmt: skip
    elif q.engagementAttribute is not None:
        bad((*at, "engagementAttribute"), "only engagement_attributes questions take one")


def derived(survey: Survey) -> Survey:
    """The survey in question order, with ``root``, ``nextInOrder`` and ``containsLogic`` set."""
    questions = sorted(survey.questions, key=lambda q: q.orderId)
    following = {q.id: n.id for q, n in zip(questions, questions[1:], strict=False)}
    out = []
    for q in questions:
        replies = [
            msgspec.structs.replace(r, nextInOrder=r.next is None or r.next == following.get(q.id))
            for r in q.replies or ()
        ]
        targets = {r.next or following.get(q.id) for r in replies}
        ea = q.engagementAttribute
        if ea is not None and ea.type == "service":
            ea = msgspec.structs.replace(ea, type="service_activity")
        out.append(
            msgspec.structs.replace(
                q,
                replies=replies or None,
                nextInOrder=q.next is None or q.next == following.get(q.id),
                containsLogic=len(targets) >= 2,
                engagementAttribute=ea,
            )
        )
    root = survey.root if survey.root is not None else questions[0].id
    return msgspec.structs.replace(survey, questions=out, root=root)


def next_question(survey: Survey, question: Question, reply_ids: list[int]) -> int | None:
    """Where the survey goes after ``question`` answered with ``reply_ids``."""
    if question.category in SINGLE_CHOICE:
        for reply in question.replies or ():
            if reply.id in reply_ids and reply.next is not None:
                return reply.next
    if question.next is not None:
        return question.next
    ids = [q.id for q in survey.questions]
    at = ids.index(question.id)
    return ids[at + 1] if at + 1 < len(ids) else None
