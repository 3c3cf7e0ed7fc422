"""Conversation, survey and agent-activity records of Data Access files.

End reasons: LivePerson documents live-chat codes only; a consumer close is reported as 210
("visitor closed chat") and any other close as 201 ("rep stopped chat"). Transfers and secure forms
do not exist in sdehub, so those arrays are empty, as the documentation shows them.
"""

from __future__ import annotations

from typing import Any

from sdehub.dataaccess.records import Datum, as_int, header, named
from sdehub.msghist import AGENT_ROLES
from sdehub.store.exports import Row

END_REASONS = {"CONSUMER": 210}
# The documented contentFormat values for the messaging content types.
FORMATS = {"text/plain": "TEXT_PLAIN", "hosted/file": "HOSTED_FILE", "text/html": "TEXT_HTML"}
SURVEY_AGENT = 3
LOGIN, LOGOUT = 3, 4
OFFLINE, ONLINE = 1, 2
NOT_APPLICABLE = -9  # maxConcurrentEng on login and logout, as documented


def _text(event: dict[str, Any]) -> str | None:
    message = event.get("message")
    if isinstance(message, str):
        return message
    return None if message is None else str(message)


def _visit(row: Row) -> Any:
    """A conversation's visit; LivePerson's example writes empty strings where there is none (a
    messaging conversation has no web visit)."""
    return header(row["visitor_id"] or "", row["session_id"] or "", "")


def _format(message: Row) -> str:
    if message["event_type"] != "ContentEvent":
        return "NA"  # structured content has no documented contentFormat
    return FORMATS.get(message["event"].get("contentType", "text/plain"), "NA")


def transcript(conv: Row) -> list[Datum]:
    lines = []
    for m in conv["messages"]:
        if m["event_type"] not in ("ContentEvent", "RichContentEvent"):
            continue
        agent = m["role"] in AGENT_ROLES
        lines.append(
            {
                "text": _text(m["event"]),
                "timestamp": m["server_ms"],
                "by": m["participant_id"],
                # 0 visitor line, 1 rep line (the documented message types).
                "type": "1" if agent else "0",
                "controlType": None,
                "agentId": m["participant_id"] if agent else None,
                "contentFormat": _format(m),
                "messageId": f"{m['conversation_id']}:{m['sequence']}",
                "dialogId": m["dialog_id"],
                "fileData": None,
                "linkData": None,
                "mcs": None,
            }
        )
    return lines


def conversation_body(conv: Row) -> tuple[Datum, list[int]]:
    agents = [p for p in conv["participants"] if p["role"] in AGENT_ROLES]
    lines = transcript(conv)
    first_agent = agents[0]["joined_ms"] if agents else None
    campaign, engagement = as_int(conv["campaign_id"]), as_int(conv["engagement_id"])
    skill = as_int(conv["skill_id"])
    record = {
        "type": "MESSAGING" if conv["channel_type"] == "MESSAGING" else "LIVE_CHAT",
        "conversationId": conv["conversation_id"],
        "conversationStartTime": conv["created_ms"],
        "interactionStartTime": first_agent,
        "conversationEndTime": conv["closed_ms"],
        "consumerId": conv["consumer_id"],
        "isInteractive": any(line["type"] == "0" for line in lines),
        "sourceOrigin": None,
        "sourceDevice": None,
        "endReasonId": END_REASONS.get(conv["close_reason"] or "CONSUMER", 201),
        "campaignData": None
        if campaign is None and engagement is None
        else {"campaignId": campaign, "campaignEngagementId": engagement},
        "skills": [] if skill is None else [skill],
        "startReasonId": 0,
        "startPage": None,
        "startUrl": None,
        "transcripts": lines,
        "transfers": [],
        "secureForms": [],
        "mcs": None,
        "queueStartTime": conv["created_ms"],
        "queueEndTime": first_agent,
        "agentId": agents[-1]["participant_id"] if agents else None,
        "skillId": skill,
    }
    body = {"header": _visit(conv), "engagements": [named("Conversation", record)]}
    times = [conv["created_ms"], conv["closed_ms"]]
    return {"body": named("EngagementData", body)}, times


def _answer(item: dict[str, Any]) -> str:
    return ", ".join(str(a.get("answer", "")) for a in item.get("answers") or [])


def survey_body(state: Row) -> tuple[Datum, list[int]]:
    at = state["last_action_ms"]
    contents = [
        {
            "question": item.get("questionText"),
            "answer": _answer(item),
            "answerSubmitTime": at,
            "surveyName": state["survey_name"],
            "answerType": None,
            "csatThreshold": None,
        }
        for item in state["submitted"] or []
    ]
    entry = {
        "id": str(state["survey_id"]),
        "type": SURVEY_AGENT,
        "viewTime": at,
        "conversationId": state["conversation_id"],
        "contents": contents,
    }
    body = {"header": _visit(state), "surveys": [entry]}
    return {"body": named("SurveyData", body)}, [at]


def agent_body(session: Row, since_ms: int, until_ms: int) -> tuple[Datum, list[int]]:
    """A login, and the session's expiry when it falls in the hour (a logout's own time is not
    kept, so an explicit logout is not reported)."""

    def event(kind: int, state: int, prev: int, at: int) -> Datum:
        return {
            "agentID": session["user_id"], "type": kind, "state": state, "prevState": prev,
            "timestamp": at, "agentEmployeeId": None, "agentUsername": session["full_name"],
            "agentNickname": session["nickname"], "agentLoginname": session["login_name"],
            "prevConcurrentEng": None, "concurrentEng": None,
            "maxConcurrentEng": NOT_APPLICABLE, "agentGroupID": None,
        }  # fmt: skip

    events = []
    if since_ms <= session["created_ms"] < until_ms:
        events.append(event(LOGIN, ONLINE, OFFLINE, session["created_ms"]))
    if since_ms <= session["expires_ms"] < until_ms and not session["revoked"]:
        events.append(event(LOGOUT, OFFLINE, ONLINE, session["expires_ms"]))
    body = {
        "header": named("AgentHeader", {"agentSessionId": session["session_id"]}),
        "agentSessionsData": events,
    }
    return {"body": named("AgentActivityData", body)}, [e["timestamp"] for e in events]
