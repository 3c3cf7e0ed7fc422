"""Agent surveys for messaging: the account's surveys (configuration) and each conversation's
survey at runtime (spec/consume.md §4.2-4.3).

Configuration: every change takes the next number of one counter per account (the collection's
``ac-revision``) as the survey's revision. A change naming a revision (``If-Match``) is refused
(409) when the survey changed after it. A skill is assigned to at most one survey; one enabled
survey may be the account's default, for conversations whose skill has none.

Runtime, per conversation: the survey of its skill (else the default) is ``open`` until the agent
submits (``submitted``; resubmitting replaces the answers) or dismisses it (``dismissed``, final;
refused while the survey has required questions). It can be acted on while the conversation is
open and until ``defaultTimeoutInMinutes`` after it closed; then an open survey is ``closed``
and every action is refused (410). Every change moves the state revision on (``x-lp-state-rev``):
a change naming another revision is refused (409: read the state again).

Who may act: "only the assigned agent". When the conversation has a participant in the role
``ASSIGNED_AGENT`` (still there: the agent that accepted it, :mod:`sdehub.agents`), only that
agent; while it has none, any agent of the account may.

Submitting the engagement-attribute answers reports them as Purchase / Lead / Service Activity
SDEs of the conversation (source ``agent``), which reach goals like consumer-reported ones. A
resubmission reports only the answers that changed, so a transaction is not counted twice.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from sqlalchemy.engine import Connection

from sdehub import campaigns
from sdehub.channels import Changes
from sdehub.clock import Clock
from sdehub.errors import BadRequest, Conflict, Forbidden, Gone, NotFound
from sdehub.ingest import record
from sdehub.model import survey_answers as answers
from sdehub.model.provenance import Entry
from sdehub.model.survey_answers import QuestionState
from sdehub.model.surveys import Survey, decode_survey
from sdehub.model.validation import FieldError
from sdehub.store import Database, visits
from sdehub.store import conversations as conv_store
from sdehub.store import surveys as store
from sdehub.store.conversations import Conversation
from sdehub.store.events import Origin
from sdehub.store.surveys import StoredSurvey, SurveyState

Action = Literal["save", "submit", "dismiss"]
MINUTE_MS = 60_000
ASSIGNED_AGENT = "ASSIGNED_AGENT"


class Context(msgspec.Struct, kw_only=True):
    """``agentSurveyContext``: where a conversation's survey stands."""

    agentSurveyStatus: Literal["open", "submitted", "dismissed", "closed"]
    lastActionTimeInMillis: int
    autoCloseTimestamp: int
    stateRevision: int


class Runtime(msgspec.Struct, kw_only=True):
    """What the runtime API reads: the survey, the conversation's state and its context."""

    survey_id: int
    survey: Survey
    state: SurveyState | None
    context: Context
    conversation: Conversation


def validated(document: Any) -> Survey:
    survey, errors = decode_survey(document)
    if survey is None:
        raise BadRequest.from_errors(errors)
    return survey


# --- configuration (writes run in the writer) ----------------------------------------------


def save_survey(
    conn: Connection,
    account_id: str,
    survey_id: int | None,
    survey: Survey,
    expected: int | None,
    now_ms: int,
) -> StoredSurvey:
    """Create (``survey_id`` None) or replace a survey; returns it as stored."""
    existing = None
    if survey_id is None:
        survey_id = store.next_survey_id(conn, account_id)
    else:
        existing = _live(conn, account_id, survey_id)
        _check_revision(existing, expected)
    errors = []
    for other in store.list_surveys(conn, account_id):
        if other.survey_id == survey_id:
            continue
        if other.name == survey.name:
            errors.append(FieldError("$.name", f"survey {other.survey_id} has this name"))
        if survey.isDefault and other.is_default:
            errors.append(
                FieldError("$.isDefault", f"survey {other.survey_id} is the default survey")
            )
    owners = store.skill_assignments(conn, account_id)
    for i, skill in enumerate(survey.skillIds):
        owner = owners.get(skill)
        if owner is not None and owner != survey_id:
            errors.append(
                FieldError(f"$.skillIds[{i}]", f"skill {skill} is assigned to survey {owner}")
            )
    if errors:
        raise BadRequest.from_errors(errors)
    stored = StoredSurvey(
        account_id=account_id,
        survey_id=survey_id,
        revision=store.collection_revision(conn, account_id) + 1,
        name=survey.name,
        is_default=survey.isDefault,
        enabled=survey.enabled,
        deleted=False,
        document=msgspec.to_builtins(survey),
        created_ms=existing.created_ms if existing else now_ms,
        updated_ms=now_ms,
    )
    store.put_survey(conn, stored)
    store.assign_skills(conn, account_id, survey_id, list(survey.skillIds))
    return stored


def delete_survey(
    conn: Connection, account_id: str, survey_id: int, expected: int | None, now_ms: int
) -> StoredSurvey:
    """Mark a survey deleted and release its skills; conversations that started it keep it."""
    existing = _live(conn, account_id, survey_id)
    _check_revision(existing, expected)
    stored = msgspec.structs.replace(
        existing,
        deleted=True,
        is_default=False,
        revision=store.collection_revision(conn, account_id) + 1,
        updated_ms=now_ms,
    )
    store.put_survey(conn, stored)
    store.assign_skills(conn, account_id, survey_id, [])
    return stored


def _live(conn: Connection, account_id: str, survey_id: int) -> StoredSurvey:
    found = store.get_survey(conn, account_id, survey_id)
    if found is None or found.deleted:
        raise NotFound(f"no agent survey {survey_id} in account {account_id}")
    return found


def _check_revision(survey: StoredSurvey, expected: int | None) -> None:
    # Any revision from the survey's own onwards was read after its last change.
    if expected is not None and expected < survey.revision:
        raise Conflict(
            f"agent survey {survey.survey_id} changed at revision {survey.revision}, after "
            f"revision {expected}: read it again and reapply the change",
            errors=[FieldError("$header.If-Match", f"expected {survey.revision} or later")],
        )


# --- runtime --------------------------------------------------------------------------------


def read_runtime(
    conn: Connection, account_id: str, conversation_id: str, skill: str | None, now_ms: int
) -> Runtime:
    conversation = _conversation(conn, account_id, conversation_id)
    state = store.get_state(conn, account_id, conversation_id)
    stored = _survey_for(conn, conversation, state, skill)
    survey = msgspec.convert(stored.document, Survey)
    return Runtime(
        survey_id=stored.survey_id,
        survey=survey,
        state=state,
        context=context(conversation, survey, state, now_ms),
        conversation=conversation,
    )


def context(
    conversation: Conversation, survey: Survey, state: SurveyState | None, now_ms: int
) -> Context:
    closes = 0
    if conversation.state != "OPEN" and conversation.closed_ms is not None:
        closes = conversation.closed_ms + survey.defaultTimeoutInMinutes * MINUTE_MS
    status = state.status if state else "open"
    if status == "open" and closes and now_ms >= closes:
        status = "closed"
    return Context(
        agentSurveyStatus=status,  # type: ignore[arg-type]
        lastActionTimeInMillis=state.last_action_ms if state and state.status != "open" else 0,
        autoCloseTimestamp=closes,
        stateRevision=state.state_revision if state else 0,
    )


def act(
    conn: Connection,
    account_id: str,
    conversation_id: str,
    skill: str | None,
    action: Action,
    states: list[QuestionState],
    expected: int | None,
    agent_id: str,
    now_ms: int,
    window_ms: int,
) -> Context:
    """Save, submit or dismiss the conversation's survey, in one transaction."""
    runtime = read_runtime(conn, account_id, conversation_id, skill, now_ms)
    survey, ctx, state = runtime.survey, runtime.context, runtime.state
    conversation = runtime.conversation
    if ctx.autoCloseTimestamp and now_ms >= ctx.autoCloseTimestamp:
        raise Gone(
            f"the agent survey of conversation {conversation_id} closed at "
            f"{ctx.autoCloseTimestamp} ({survey.defaultTimeoutInMinutes} min after the "
            "conversation)"
        )
    if ctx.agentSurveyStatus == "dismissed":
        raise Gone(f"the agent survey of conversation {conversation_id} was dismissed")
    _check_agent(conn, account_id, conversation_id, agent_id)
    if expected is not None and expected != ctx.stateRevision:
        raise Conflict(
            f"the survey state is at revision {ctx.stateRevision}, not {expected}: "
            "read the state again",
            errors=[FieldError("$header.x-lp-state-rev", f"expected {ctx.stateRevision}")],
        )
    errors = answers.check(survey, states)
    if action == "submit":
        errors = errors or answers.missing(survey, states)
    if errors:
        raise BadRequest.from_errors(errors)
    status: str = ctx.agentSurveyStatus
    if action == "dismiss":
        if status == "submitted":
            raise BadRequest("a submitted survey cannot be dismissed; submit it again instead")
        required = [q.id for q in survey.questions if q.required]
        if required:
            raise BadRequest(
                f"the survey has required questions ({', '.join(map(str, required))}) and "
                "cannot be dismissed"
            )
        status = "dismissed"
    new = SurveyState(
        account_id=account_id,
        conversation_id=conversation_id,
        survey_id=runtime.survey_id,
        status=status,
        state_revision=ctx.stateRevision + 1,
        # A dismissal keeps what was saved; it only ends the survey.
        answers=[msgspec.to_builtins(s) for s in states]
        if action != "dismiss"
        else (state.answers if state else []),
        last_action_ms=now_ms if action != "save" else (state.last_action_ms if state else 0),
        submitted=state.submitted if state else None,
        submissions=state.submissions if state else 0,
        performed_by=agent_id if action != "save" else (state.performed_by if state else None),
    )
    if action == "submit":
        new.status = "submitted"
        new.submitted = [msgspec.to_builtins(a) for a in answers.submitted(survey, states)]
        new.submissions += 1
        before = []
        if state is not None and state.status == "submitted":
            before = answers.records(survey, msgspec.convert(state.answers, list[QuestionState]))
        fresh = [r for r in answers.records(survey, states) if r not in before]
        report_by_agent(conn, conversation, fresh, agent_id, now_ms, window_ms)
    store.put_state(conn, new)
    return context(conversation, survey, new, now_ms)


def report_by_agent(
    conn: Connection,
    conversation: Conversation,
    records: list[Any],
    agent_id: str,
    now_ms: int,
    window_ms: int,
) -> list[Entry]:
    """Record SDEs an agent reported for a conversation (source ``agent``, the agent as actor):
    they belong to the conversation and, when it came from a live visit, to the visit, where they
    count for its goals. Used by the agent survey and conversation outcomes."""
    if not records:
        return []
    account_id = conversation.account_id
    vid, sid = conversation.visitor_id, conversation.session_id
    in_visit = bool(vid and sid) and visits.get_visit(conn, account_id, vid or "", sid or "")
    origin = Origin(
        source="agent",
        authenticated=False,
        actor=agent_id,
        visitor_id=vid if in_visit else None,
        session_id=sid if in_visit else None,
        conversation_id=conversation.conversation_id,
    )
    entries = record(conn, account_id, records, origin, now_ms=now_ms, window_ms=window_ms)
    compiled = campaigns.current(conn, account_id)
    if in_visit and compiled is not None and vid and sid and compiled.may_reach(entries, False):
        model = campaigns.visit_model(conn, account_id, vid, sid)
        campaigns.record_goals(
            conn, account_id, model, compiled, entries, now_ms=now_ms, source="agent"
        )
    return entries


def _conversation(conn: Connection, account_id: str, conversation_id: str) -> Conversation:
    found = conv_store.get_conversation(conn, account_id, conversation_id)
    if found is None:
        raise NotFound(f"no conversation {conversation_id!r} in account {account_id}")
    return found


def _survey_for(
    conn: Connection,
    conversation: Conversation,
    state: SurveyState | None,
    skill: str | None,
) -> StoredSurvey:
    account_id = conversation.account_id
    if state is not None:  # a started survey stays the conversation's
        started = store.get_survey(conn, account_id, state.survey_id)
        if started is not None:
            return started
    skill_id = conversation.skill_id or (skill if skill not in (None, "", "-1") else None)
    if skill_id is not None:
        survey_id = store.survey_of_skill(conn, account_id, skill_id)
        found = store.get_survey(conn, account_id, survey_id) if survey_id else None
        if found is not None and found.enabled and not found.deleted:
            return found
    default = store.default_survey(conn, account_id)
    if default is not None and default.enabled:
        return default
    raise NotFound(
        f"no agent survey applies to conversation {conversation.conversation_id} "
        f"(skill {skill_id or 'unassigned'}, and no enabled default survey)"
    )


def _check_agent(conn: Connection, account_id: str, conversation_id: str, agent_id: str) -> None:
    assigned = {
        p.participant_id
        for p in conv_store.participants_of(conn, account_id, conversation_id)
        if p.role == ASSIGNED_AGENT and p.left_ms is None
    }
    if assigned and agent_id not in assigned:
        raise Forbidden(
            f"only the agent assigned to conversation {conversation_id} may act on its survey"
        )


class AgentSurveys:
    """The operations of both APIs, in the server's process."""

    def __init__(
        self, db: Database, clock: Clock, *, window_ms: int, changes: Changes | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._window_ms = window_ms
        self._changes = changes

    async def list_all(
        self, account_id: str, *, include_deleted: bool
    ) -> tuple[int, list[StoredSurvey]]:
        def read(conn: Connection) -> tuple[int, list[StoredSurvey]]:
            return store.collection_revision(conn, account_id), store.list_surveys(
                conn, account_id, include_deleted=include_deleted
            )

        return await self._db.read(read)

    async def get(self, account_id: str, survey_id: int) -> StoredSurvey:
        return await self._db.read(lambda c: _live(c, account_id, survey_id))

    async def save(
        self, account_id: str, survey_id: int | None, document: Any, expected: int | None
    ) -> StoredSurvey:
        survey = validated(document)
        return await self._db.write(
            save_survey, account_id, survey_id, survey, expected, self._clock.now_ms()
        )

    async def delete(self, account_id: str, survey_id: int, expected: int | None) -> StoredSurvey:
        return await self._db.write(
            delete_survey, account_id, survey_id, expected, self._clock.now_ms()
        )

    async def runtime(self, account_id: str, conversation_id: str, skill: str | None) -> Runtime:
        now = self._clock.now_ms()
        return await self._db.read(
            lambda c: read_runtime(c, account_id, conversation_id, skill, now)
        )

    async def act(
        self,
        account_id: str,
        conversation_id: str,
        skill: str | None,
        action: Action,
        states: list[QuestionState],
        expected: int | None,
        agent_id: str,
    ) -> Context:
        ctx: Context = await self._db.write(
            act, account_id, conversation_id, skill, action, states, expected, agent_id,
            self._clock.now_ms(), self._window_ms,
        )  # fmt: skip
        if self._changes is not None:
            await self._changes.conversation(account_id, conversation_id)
        return ctx
