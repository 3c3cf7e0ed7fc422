"""The Agent Workspace public model of a conversation (what widgets ``get`` and ``bind``).

:func:`build` is a pure function of what the store holds about a conversation; the structure
follows the Agent Workspace Widget SDK's public model (the messaging column of its tables), with
the SDE arrays folded from the conversation's attributed events under the messaging rules.
``path`` selects one value with the widget SDK's dotted paths (``SDE.customerDetails``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from sdehub.errors import NotFound
from sdehub.model.merge import fold
from sdehub.model.provenance import Entry
from sdehub.model.publicmodel import authenticated_data, sde_section, visitor_name
from sdehub.store import Database, events
from sdehub.store import accounts as account_store
from sdehub.store import agents as agent_store
from sdehub.store import conversations as store
from sdehub.store import surveys as survey_store
from sdehub.store.accounts import User
from sdehub.store.conversations import Consumer, Conversation, Message
from sdehub.store.surveys import SurveyState
from sdehub.tokens import IDP_ISSUER

JSON = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """Everything the public model of one conversation is built from."""

    conversation: Conversation
    consumer: Consumer | None
    entries: list[Entry]
    messages: list[Message]
    agent: User | None
    survey: SurveyState | None = None
    holder_id: str | None = None
    """The assigned agent (``ASSIGNED_AGENT``, not left); after a close, the one who held it."""
    holder: User | None = None


def iso(ms: int | None) -> str:
    if ms is None:
        return ""
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _line(message: Message, consumer_name: str) -> JSON | None:
    event = message.event
    if message.event_type == "ContentEvent":
        content = event.get("message")
        if isinstance(content, dict):  # hosted file: show its caption
            text = str(content.get("caption") or content.get("relativePath") or "")
        else:
            text = str(content)
    elif message.event_type == "RichContentEvent":
        text = msgspec.json.encode(event.get("content") or event.get("message")).decode()
    else:
        return None
    is_consumer = message.role == "CONSUMER"
    return {
        "id": str(message.sequence),
        "type": "line",
        "by": consumer_name if is_consumer else message.participant_id,
        "source": "visitor" if is_consumer else "agent",
        "subType": "REGULAR",
        "text": text,
        "textType": "plain",
        "time": iso(message.server_ms),
        "contentType": event.get("contentType", "rich-content"),
    }


def claims_and_auth(consumer: Consumer | None, state: dict[str, list[Entry]]) -> JSON:
    """Claims of the consumer's id_token when authenticated (acr loa1); otherwise the
    unauthenticated form: ``sub`` plus the authenticated SDEs the connector sent (acr "0")."""
    if consumer is not None and consumer.acr != "0" and consumer.claims:
        return {"claims": consumer.claims, "acr": consumer.acr}
    lp_sdes = [
        msgspec.to_builtins(e.record)
        for wt in ("ctmrinfo", "personal")
        for e in state.get(wt, [])
        if e.meta.authenticated
    ]
    claims: JSON = {"iss": IDP_ISSUER, "lp_sdes": lp_sdes}
    if consumer is not None:
        claims["sub"] = consumer.ext_consumer_id or consumer.consumer_id
    return {"claims": claims, "acr": "0"}


def build(snap: Snapshot) -> JSON:
    conv, consumer, agent = snap.conversation, snap.consumer, snap.agent
    state = fold(snap.entries, "messaging")
    profile = (consumer.profile if consumer else None) or {}
    name = visitor_name(state) or " ".join(
        p for p in (profile.get("firstName"), profile.get("lastName")) if p
    )
    private = profile.get("privateData") or {}
    props = conv.client_properties or {}
    lines = [line for m in snap.messages if (line := _line(m, name or "Visitor"))]
    closed = conv.state != "OPEN"
    context = conv.context or {}
    return {
        "chatInfo": {
            "rtSessionId": conv.conversation_id,
            "accountId": conv.account_id,
            "chatRequestedTime": conv.created_ms,
            "chatStartTime": conv.created_ms,
            "chatStartUrl": "",
            # The agent asking is not the one chatting (seed 001).
            "spectatedEngagement": snap.holder_id is not None
            and (agent is None or agent.user_id != snap.holder_id),
            "isMessaging": True,
            "chatSkill": conv.skill_id or "",
        },
        "chattingAgentInfo": _chatting_agent(snap.holder_id, snap.holder),
        "agentInfo": agent_info(conv.account_id, agent),
        "chatTranscript": {"lines": lines},
        "surveyQuestions": {
            "preChat": {
                "email": {"value": private.get("mail", ""), "displayName": ""},
                "phone": {
                    "value": consumer.ext_consumer_id or consumer.consumer_id if consumer else "",
                    "displayName": "",
                },
                "name": {"value": name, "displayName": ""},
                "customizedQuestions": [],
            },
            "postChat": [],
            "agentSurvey": agent_survey(snap.survey),
        },
        "visitorInfo": {
            "visitorId": conv.consumer_id,
            "visitorName": name,
            "device": str(props.get("deviceFamily", "")),
            "browser": str(props.get("browser", "")),
            "operatingSystem": str(props.get("os", props.get("osName", ""))),
            "visitStartTime": iso(conv.created_ms),
            "chattingVisitorState": "ENDED" if closed else "CHATTING",
            "chatRequestedTime": iso(conv.created_ms),
            "visitorTyping": conv.chat_state == "COMPOSING",
            "countryCode": "",
        },
        "campaignInfo": {
            "campaignName": "",
            "campaignId": conv.campaign_id or "",
            "campaignDescription": "",
            "targetAudience": [],
            "goalName": "",
            "goalId": "",
            "goalDescription": "",
        },
        "engagementInfo": {
            "VisitorBehavior": [],
            "skill": conv.skill_id or "",
            "engagementType": "",
            "engagementId": conv.engagement_id or "",
            "engagementName": "",
            "agentNote": "",
            "engagementSkill": conv.skill_id or "",
            "language": context.get("lang", ""),
        },
        "visitorJourney": {
            "pages": [],
            "searchEngine": {"searchProvider": "", "searchKeywords": ""},
        },
        "SDE": msgspec.to_builtins(sde_section(state)),
        "authenticatedData": msgspec.to_builtins(authenticated_data(state)),
        "claimsAndAuthType": claims_and_auth(consumer, state),
        "customVariables": [],
        "splitSession": {"customVariables": []},
        "applicationInfo": {"theme": "light"},
    }


def agent_survey(state: SurveyState | None) -> list[JSON]:
    """The answers of the conversation's last submitted agent survey (drafts never show)."""
    if state is None or state.status != "submitted" or not state.submitted:
        return []
    return [
        {
            "@scope": "session",
            "@source": "agent survey",
            "name": str(answer["questionId"]),
            "displayName": answer["questionText"],
            "time": iso(state.last_action_ms),
            "value": ", ".join(str(a["answer"]) for a in answer["answers"]),
        }
        for answer in state.submitted
    ]


def _agent_id(user_id: str) -> int | str:
    # The public model types agent ids as numbers; sdehub's are numeric strings.
    return int(user_id) if user_id.isdigit() else user_id


def _chatting_agent(holder_id: str | None, holder: User | None) -> JSON:
    """``chattingAgentInfo``: the conversation's assigned agent, blank while it has none."""
    if holder_id is None:
        return {"agentName": "", "agentGroupName": "", "agentId": None, "agentNickname": ""}
    return {
        "agentName": (holder.full_name or holder.login_name) if holder else "",
        "agentGroupName": "Main Group" if holder else "",
        "agentId": _agent_id(holder_id),
        "agentNickname": (holder.nickname or holder.login_name) if holder else "",
    }


def as_seen_by(model: JSON, agent_id: str, info: JSON) -> JSON:
    """A model built for no agent in particular (shared by every live session bound to the
    conversation) as one agent sees it: its own ``agentInfo``, and whether it spectates."""
    holder = model["chattingAgentInfo"]["agentId"]
    spectated = holder is not None and str(holder) != agent_id
    chat = {**model["chatInfo"], "spectatedEngagement": spectated}
    return {**model, "chatInfo": chat, "agentInfo": info}


def agent_info(account_id: str, agent: User | None) -> JSON:
    if agent is None:
        return {"accountId": account_id}
    return {
        "accountId": account_id,
        "agentName": agent.full_name or agent.login_name,
        "agentId": _agent_id(agent.user_id),
        "agentNickname": agent.nickname or agent.login_name,
        "agentEmail": agent.email or "",
        "maxChats": 0,
        "employeeId": "",
        "agentGroupName": "Main Group",
    }


def select(model: JSON, path: str) -> Any:
    """The value at a dotted path (``SDE.customerDetails``); :class:`NotFound` when absent."""
    value: Any = model
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise NotFound(f"the public model has no path {path!r}")
        value = value[part]
    return value


async def snapshot(
    db: Database, account_id: str, conversation_id: str, agent_id: str | None
) -> Snapshot:
    """Read what :func:`build` needs in one consistent read."""

    def read(conn: Any) -> Snapshot:
        conversation = store.get_conversation(conn, account_id, conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id!r} in account {account_id}")
        holder_id = agent_store.holder_of(conn, account_id, conversation_id)
        return Snapshot(
            conversation=conversation,
            consumer=store.get_consumer(conn, account_id, conversation.consumer_id),
            entries=events.for_conversation(conn, account_id, conversation_id),
            messages=store.messages_of(conn, account_id, conversation_id),
            agent=account_store.get_user(conn, account_id, agent_id) if agent_id else None,
            survey=survey_store.get_state(conn, account_id, conversation_id),
            holder_id=holder_id,
            holder=account_store.get_user(conn, account_id, holder_id) if holder_id else None,
        )

    return await db.read(read)
