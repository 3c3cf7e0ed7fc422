"""Survey and agent-activity records of Data Access files, and the choices conversations'
records make (``avrotext`` writes those).

End reasons: LivePerson documents live-chat codes only; a consumer close is reported as 210
("visitor closed chat") and any other close as 201 ("rep stopped chat"). Transfers and secure forms
do not exist in sdehub, so those arrays are empty, as the documentation shows them.
"""

from __future__ import annotations

from typing import Any

from sdehub.dataaccess.records import Datum, header, named
from sdehub.store.exports import Row

END_REASONS = {"CONSUMER": 210}
# The documented contentFormat values for the messaging content types.
FORMATS = {"text/plain": "TEXT_PLAIN", "hosted/file": "HOSTED_FILE", "text/html": "TEXT_HTML"}
SURVEY_AGENT = 3
LOGIN, LOGOUT = 3, 4
OFFLINE, ONLINE = 1, 2
NOT_APPLICABLE = -9  # maxConcurrentEng on login and logout, as documented


def _visit(row: Row) -> Any:
    """A conversation's visit; LivePerson's example writes empty strings where there is none (a
    messaging conversation has no web visit)."""
    return header(row["visitor_id"] or "", row["session_id"] or "", "")


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
