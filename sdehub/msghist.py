"""Messaging Interactions records (``conversationHistoryRecords[]``), built from the store.

:func:`record` is a pure function of a :class:`Conversation` snapshot (the same reading of
conversations, messages and participants the public model uses) and of what was asked:
the ``contentToRetrieve`` sections, the version (``v=1``: authenticated SDEs only, every value a
string; ``v=2``: typed values and, when asked for, ``unAuthSdes``), and how SDEs are picked —
the latest update of each type (search) or all of them, optionally capped per type
(get by conversation id).

``serverTimeStamp`` is a string of epoch ms everywhere (sdehub.model.history); events are listed
oldest first unless a ``cappingConfiguration`` orders a type newest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import msgspec
from sqlalchemy.engine import Connection

from sdehub import campaigns
from sdehub.errors import BadRequest
from sdehub.model.history import history_event
from sdehub.model.naming import BY_HISTORY_KEY, naming
from sdehub.model.provenance import Entry
from sdehub.model.types import wire_type
from sdehub.model.validation import FieldError
from sdehub.store import accounts as account_store
from sdehub.store import agents as agent_store
from sdehub.store import conversations as store
from sdehub.store import events
from sdehub.store import surveys as survey_store
from sdehub.store.accounts import User
from sdehub.store.agents import Transfer
from sdehub.store.conversations import Conversation, Dialog, Message, Participant
from sdehub.store.surveys import StoredSurvey, SurveyState

JSON = dict[str, Any]

CONTENT = (
    "campaign", "messageRecords", "agentParticipants", "agentParticipantsLeave",
    "agentParticipantsActive", "consumerParticipants", "transfers", "interactions",
    "messageScores", "messageStatuses", "conversationSurveys", "coBrowseSessions", "summary",
    "sdes", "unAuthSdes", "monitoring", "dialogs", "responseTime", "skillChanges", "intents",
    "uniqueIntents", "latestAgentSurvey", "previouslySubmittedAgentSurveys", "pageViews",
)  # fmt: skip
"""Every documented ``contentToRetrieve`` value (``pageViews`` seen in client code only)."""
DEFAULT_CONTENT = frozenset(CONTENT[: CONTENT.index("sdes") + 1])
AGENT_ROLES = frozenset({"ASSIGNED_AGENT", "AGENT", "MANAGER", "READER"})
CAP_EVENT_NAMES = {f"{key[0].upper()}{key[1:]}Event": key for key in BY_HISTORY_KEY}
"""``cappingConfiguration`` type names: ``CustomerInfoEvent`` ... ``SearchContentEvent``."""


class Cap(NamedTuple):
    limit: int
    newest_first: bool


SdePick = Literal["latest", "all"]


@dataclass(frozen=True)
class Ask:
    """What the caller asked each record to hold."""

    content: frozenset[str] = DEFAULT_CONTENT
    version: int = 1
    sdes: SdePick = "all"
    caps: dict[str, Cap] | None = None
    """Per history key (``customerInfo``); types not named are all returned, oldest first."""


@dataclass(frozen=True)
class Snapshot:
    conversation: Conversation
    entries: list[Entry]
    messages: list[Message]
    participants: list[Participant]
    dialogs: list[Dialog]
    survey: SurveyState | None = None
    survey_config: StoredSurvey | None = None
    transfers: Sequence[Transfer] = ()
    agents: Mapping[str, User] = field(default_factory=dict)
    skills: Mapping[str, str] = field(default_factory=dict)
    """Skill names by id (the account's catalog)."""


def lp_time(ms: int) -> str:
    """LivePerson's history time format, e.g. ``2023-11-14 22:13:20.000+0000``."""
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}+0000"


def parse_caps(raw: str) -> dict[str, Cap]:
    """``"CustomerInfoEvent:1:desc,PurchaseEvent:10:desc"`` to a cap per history key."""
    caps: dict[str, Cap] = {}
    for i, part in enumerate(p.strip() for p in raw.split(",") if p.strip()):
        name, _, rest = part.partition(":")
        limit, _, order = rest.partition(":")
        key = CAP_EVENT_NAMES.get(name)
        if key is None or not limit.isdigit() or order.lower() not in ("", "asc", "desc"):
            raise BadRequest(
                f"cappingConfiguration item {part!r} is not <TypeEvent>:<limit>:<asc|desc>",
                errors=[
                    FieldError(
                        f"$.cappingConfiguration[{i}]",
                        f"expected one of {sorted(CAP_EVENT_NAMES)} with a limit and an order",
                    )
                ],
            )
        caps[key] = Cap(int(limit), order.lower() != "asc")
    return caps


def _pick(entries: list[Entry], ask: Ask) -> list[Entry]:
    by_type: dict[str, list[Entry]] = {}
    for entry in entries:  # log order: oldest first
        by_type.setdefault(wire_type(entry.record), []).append(entry)
    picked: list[Entry] = []
    for wt, group in by_type.items():
        key = naming(wt).history_key
        if ask.sdes == "latest":
            picked.append(group[-1])
        elif ask.caps is not None and key in ask.caps:
            cap = ask.caps[key]
            chosen = group[::-1][: cap.limit] if cap.newest_first else group[: cap.limit]
            picked.extend(chosen)
        else:
            picked.extend(group)
    return picked


def sde_events(entries: list[Entry], ask: Ask, *, authenticated: bool) -> JSON:
    mine = [
        e
        for e in entries
        if e.meta.authenticated == authenticated
        and naming(wire_type(e.record)).history_key is not None
    ]
    return {"events": [history_event(e, ask.version) for e in _pick(mine, ask)]}


def _info(snap: Snapshot, now_ms: int) -> JSON:
    conv = snap.conversation
    end = conv.closed_ms
    agents = [p for p in snap.participants if p.role in AGENT_ROLES]
    info: JSON = {
        "conversationId": conv.conversation_id,
        "brandId": conv.account_id,
        "startTime": lp_time(conv.created_ms),
        "startTimeL": conv.created_ms,
        "endTime": lp_time(end) if end is not None else "undefined",
        "endTimeL": end if end is not None else -1,
        "duration": (end if end is not None else now_ms) - conv.created_ms,
        "status": "CLOSE" if conv.state != "OPEN" else "OPEN",
        "closeReason": (conv.close_reason or "CONSUMER") if end is not None else None,
        "latestSkillId": int(conv.skill_id) if conv.skill_id and conv.skill_id.isdigit() else -1,
        "latestAgentId": agents[-1].participant_id if agents else "-1",
        "isPartial": False,
        "source": "APP",
        "device": str((conv.client_properties or {}).get("deviceFamily", "UNKNOWN")),
    }
    info["pendingAgentSurvey"] = snap.survey is not None and snap.survey.status == "open"
    if conv.csat and isinstance(conv.csat.get("csatRate"), int):
        info["csat"] = conv.csat["csatRate"]
    return {k: v for k, v in info.items() if v is not None}


def _message(m: Message) -> JSON | None:
    event = m.event
    if m.event_type == "ContentEvent":
        content = event.get("message")
        if isinstance(content, dict):
            kind, data = "HOSTED_FILE", {"file": content}
        else:
            kind, data = "TEXT_PLAIN", {"msg": {"text": str(content)}}
    elif m.event_type == "RichContentEvent":
        kind = "RICH_CONTENT"
        data = {"richContent": {"content": msgspec.json.encode(event.get("content")).decode()}}
    else:
        return None
    return {
        "type": kind,
        "messageData": data,
        "messageId": f"ms::conv:{m.conversation_id}::msg:{m.sequence}",
        "audience": "ALL",
        "seq": m.sequence,
        "dialogId": m.dialog_id,
        "participantId": m.participant_id,
        "source": "APP",
        "time": lp_time(m.server_ms),
        "timeL": m.server_ms,
        "device": "UNKNOWN",
        "sentBy": "Consumer" if m.role == "CONSUMER" else "Agent",
    }


def _participant(p: Participant, dialog_id: str) -> JSON:
    out: JSON = {
        "participantId": p.participant_id,
        "time": lp_time(p.joined_ms),
        "timeL": p.joined_ms,
        "dialogId": dialog_id,
    }
    if p.role in AGENT_ROLES:
        out.update(agentId=p.participant_id, role=p.role, userType="HUMAN")
    return out


def _dialog(d: Dialog) -> JSON:
    return {
        "dialogId": d.dialog_id,
        "status": d.state,
        "dialogType": d.dialog_type,
        "channelType": "MESSAGING",
        "startTime": lp_time(d.created_ms),
        "startTimeL": d.created_ms,
        "endTimeL": d.closed_ms if d.closed_ms is not None else -1,
    }


def record(snap: Snapshot, ask: Ask, *, now_ms: int) -> JSON:
    """One ``conversationHistoryRecords[]`` item."""
    conv, want = snap.conversation, ask.content
    main_dialog = snap.dialogs[0].dialog_id if snap.dialogs else conv.conversation_id
    out: JSON = {"info": _info(snap, now_ms)}
    if "campaign" in want:
        out["campaign"] = {
            k: v
            for k, v in (("campaignId", conv.campaign_id), ("engagementId", conv.engagement_id))
            if v
        }
    if "messageRecords" in want:
        out["messageRecords"] = [r for m in snap.messages if (r := _message(m))]
    agents = [p for p in snap.participants if p.role in AGENT_ROLES]
    for section, chosen in (
        ("agentParticipants", agents),
        ("agentParticipantsActive", [p for p in agents if p.left_ms is None]),
        ("agentParticipantsLeave", [p for p in agents if p.left_ms is not None]),
        ("consumerParticipants", [p for p in snap.participants if p.role == "CONSUMER"]),
    ):
        if section in want:
            out[section] = [_participant(p, main_dialog) for p in chosen]
    if "transfers" in want:
        out["transfers"] = [_transfer(snap, t, main_dialog) for t in snap.transfers]
    if "interactions" in want:
        out["interactions"] = interactions(snap)
    for empty in ("messageScores", "messageStatuses", "skillChanges"):
        if empty in want:  # sdehub records none of these yet
            out[empty] = []
    if "conversationSurveys" in want:
        out["conversationSurveys"] = []
    if "latestAgentSurvey" in want and snap.survey is not None:
        out["latestAgentSurvey"] = agent_survey(snap, main_dialog)
    if "previouslySubmittedAgentSurveys" in want:
        # Only the latest submission of a conversation's survey is kept.
        out["previouslySubmittedAgentSurveys"] = []
    if "coBrowseSessions" in want:
        out["coBrowseSessions"] = {"coBrowseSessionsList": []}
    if "summary" in want:
        # sdehub keeps no conversation summary (no API writes one): the section is there, empty.
        out["summary"] = {"text": "", "lastUpdatedTime": 0}
    if "dialogs" in want:
        out["dialogs"] = [_dialog(d) for d in snap.dialogs]
    if "sdes" in want:
        out["sdes"] = sde_events(snap.entries, ask, authenticated=True)
    if "unAuthSdes" in want and ask.version >= 2:
        out["unAuthSdes"] = sde_events(snap.entries, ask, authenticated=False)
    return out


def interactions(snap: Snapshot) -> list[JSON]:
    """``interactions[]``: each time an agent was assigned the conversation, in order
    (``interactiveSequence`` counts from 1), with the agent's names when the account has them."""
    assigned = sorted(
        (p for p in snap.participants if p.role == "ASSIGNED_AGENT"),
        key=lambda p: (p.joined_ms, p.participant_id),
    )
    out = []
    for sequence, p in enumerate(assigned, start=1):
        item: JSON = {"assignedAgentId": p.participant_id}
        agent = snap.agents.get(p.participant_id)
        if agent is not None:
            item["assignedAgentFullName"] = agent.full_name or agent.login_name
            item["assignedAgentLoginName"] = agent.login_name
            item["assignedAgentNickname"] = agent.nickname or agent.login_name
        item["interactionTimeL"] = p.joined_ms
        item["interactionTime"] = lp_time(p.joined_ms)
        item["interactiveSequence"] = sequence
        out.append(item)
    return out


def _skill(snap: Snapshot, skill_id: str | None) -> tuple[int, str]:
    if skill_id is None:
        return -1, "Unassigned"
    number = int(skill_id) if skill_id.lstrip("-").isdigit() else -1
    return number, snap.skills.get(skill_id, skill_id)


def _transfer(snap: Snapshot, t: Transfer, dialog_id: str) -> JSON:
    """A ``transfers[]`` item: an agent sent the conversation back to a skill's queue."""
    source_id, source_name = _skill(snap, t.from_skill_id)
    target_id, target_name = _skill(snap, t.to_skill_id)
    agent = snap.agents.get(t.from_agent_id)
    out: JSON = {
        "timeL": t.transferred_ms,
        "time": lp_time(t.transferred_ms),
        "assignedAgentId": "null",  # back to a queue: nobody holds it yet
        "targetSkillId": target_id,
        "targetSkillName": target_name,
        "reason": "Skill",
        "by": t.from_agent_id,
        "sourceSkillId": source_id,
        "sourceSkillName": source_name,
        "sourceAgentId": t.from_agent_id,
        "dialogId": dialog_id,
    }
    if agent is not None:
        out["sourceAgentFullName"] = agent.full_name or agent.login_name
        out["sourceAgentLoginName"] = agent.login_name
        out["sourceAgentNickname"] = agent.nickname or agent.login_name
    if t.reason:
        out["contextData"] = {"transferReason": t.reason}
    return out


# Survey states as history names them (consume.md §2.6); "closed" is a timed-out open survey.
_SURVEY_STATUS = {
    "open": "OPEN",
    "submitted": "SUBMITTED",
    "dismissed": "DISMISSED",
    "closed": "CLOSED",
}


def agent_survey(snap: Snapshot, dialog_id: str) -> JSON:
    """``latestAgentSurvey``: the conversation's agent survey, its status and submitted answers."""
    state, config = snap.survey, snap.survey_config
    assert state is not None
    status = _SURVEY_STATUS.get(state.status, state.status.upper())
    out: JSON = {
        "surveyStatus": status,
        "statusReason": "timeout" if status == "CLOSED" else status,
        "dialogId": dialog_id,
        "surveyId": str(state.survey_id),
        "acSurveyId": state.survey_id,
        "acSurveyName": config.name if config else "",
        "acSurveyRevision": config.revision if config else 0,
        "surveySkillId": snap.conversation.skill_id or "-1",
        "lastUpdateTime": state.last_action_ms,
        "submittedAnswers": list(state.submitted or []) if status == "SUBMITTED" else [],
    }
    if state.performed_by:
        out["performedByAgentId"] = state.performed_by
    assigned = [p for p in snap.participants if p.role in AGENT_ROLES and p.left_ms is None]
    if assigned:
        out["assignedAgentId"] = assigned[-1].participant_id
    return out


def snapshots(conn: Connection, account_id: str, conversation_ids: Sequence[str]) -> list[Snapshot]:
    """The conversations that exist, in the order asked (one read transaction)."""
    found = []
    for conversation_id in conversation_ids:
        conversation = store.get_conversation(conn, account_id, conversation_id)
        if conversation is None:
            continue
        participants = store.participants_of(conn, account_id, conversation_id)
        transfers = agent_store.transfers_of(conn, account_id, conversation_id)
        found.append(
            Snapshot(
                conversation=conversation,
                entries=events.for_conversation(conn, account_id, conversation_id),
                messages=store.messages_of(conn, account_id, conversation_id),
                participants=participants,
                dialogs=store.dialogs_of(conn, account_id, conversation_id),
                agents=_agents(conn, account_id, participants, transfers),
                **_survey(conn, account_id, conversation_id),
                **_transfers(conn, account_id, transfers),
            )
        )
    return found


def _agents(
    conn: Connection,
    account_id: str,
    participants: Sequence[Participant],
    transfers: Sequence[Transfer],
) -> dict[str, User]:
    """The account's users among the conversation's agents (assigned, or who transferred it)."""
    ids = {p.participant_id for p in participants if p.role in AGENT_ROLES}
    ids.update(t.from_agent_id for t in transfers)
    agents = {}
    for user_id in sorted(ids):
        user = account_store.get_user(conn, account_id, user_id)
        if user is not None:
            agents[user_id] = user
    return agents


def _transfers(conn: Connection, account_id: str, transfers: Sequence[Transfer]) -> dict[str, Any]:
    if not transfers:
        return {}
    compiled = campaigns.current(conn, account_id)
    skills = {str(s.id): s.name for s in compiled.catalog.skills} if compiled else {}
    return {"transfers": transfers, "skills": skills}


def _survey(conn: Connection, account_id: str, conversation_id: str) -> dict[str, Any]:
    state = survey_store.get_state(conn, account_id, conversation_id)
    if state is None:
        return {}
    return {
        "survey": state,
        "survey_config": survey_store.get_survey(conn, account_id, state.survey_id),
    }
