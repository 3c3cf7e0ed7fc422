"""Agent surveys in Messaging Interactions: ``latestAgentSurvey``, ``info.pendingAgentSurvey``
and the ``agentSurveySearch`` filter, over surveys filled through the runtime API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Harness
from tests.test_agent_survey import RUNTIME, SOLD, ans, params, setup, submit
from tests.test_msghist import BASE, ids, search, window

pytestmark = pytest.mark.anyio


async def surveyed(h: Harness) -> tuple[dict[str, str], str, str, int]:
    """Two conversations of skill 11: one survey submitted ("Sold", an order), one with a draft
    saved (open: pending)."""
    agent, submitted, survey_id = await setup(h)
    r = await h.client.get(RUNTIME, params=params(submitted), headers=agent)
    assert r.status_code == 200, r.text
    assert (await submit(h, agent, submitted, SOLD, 0)).status_code == 200
    pending = await h.open_conversation(await h.connector(ext_id="consumer-2"), skillId="11")
    draft = [ans(2, freeTextReply="thinking about it")]
    r = await h.client.put(f"{RUNTIME}/state", params=params(pending), headers=agent, json=draft)
    assert r.status_code == 200, r.text
    return agent, submitted, pending, survey_id


async def test_latest_agent_survey_in_the_record(h: Harness) -> None:
    agent, submitted, pending, survey_id = await surveyed(h)
    body = {"conversationIds": [submitted, pending], "contentToRetrieve": ["latestAgentSurvey"]}
    r = await h.client.post(f"{BASE}/conversation/search", json=body, headers=agent)
    assert r.status_code == 200, r.text
    records = {x["info"]["conversationId"]: x for x in r.json()["conversationHistoryRecords"]}
    done = records[submitted]["latestAgentSurvey"]
    assert done["surveyStatus"] == "SUBMITTED" and done["acSurveyId"] == survey_id
    assert done["acSurveyName"] == "Sales wrap-up" and done["surveySkillId"] == "11"
    assert [(a["questionId"], a["answers"][0]["answer"]) for a in done["submittedAnswers"]][0] == (
        1,
        "Sold",
    )
    assert records[submitted]["info"]["pendingAgentSurvey"] is False
    assert records[pending]["latestAgentSurvey"]["surveyStatus"] == "OPEN"
    assert records[pending]["latestAgentSurvey"]["submittedAnswers"] == []
    assert records[pending]["info"]["pendingAgentSurvey"] is True


@pytest.mark.parametrize(
    ("survey_search", "which"),
    [
        ({"pendingAgentSurvey": [True]}, {"pending"}),
        ({"pendingAgentSurvey": [False]}, {"submitted", "none"}),
        ({"pendingAgentSurvey": [True, False]}, {"submitted", "pending", "none"}),
        ({"answerKeywords": ["sold"]}, {"submitted"}),
        ({"answerKeywords": ["refund"]}, set()),
        ({"questionKeywords": ["outcome"]}, {"submitted"}),
        ({"questionId": ["1"]}, {"submitted"}),
        ({"questionName": ["Outcome"]}, {"submitted"}),
        ({"surveyId": [999]}, set()),
    ],
    ids=["pending", "not-pending", "either", "answer", "no-answer", "question-words",
         "question-id", "question-name", "other-survey"],
)  # fmt: skip
async def test_agent_survey_search(
    h: Harness, survey_search: dict[str, Any], which: set[str]
) -> None:
    agent, submitted, pending, _ = await surveyed(h)
    none = await h.open_conversation(await h.connector(ext_id="consumer-3"))
    names = {submitted: "submitted", pending: "pending", none: "none"}
    page = await search(h, {"start": window(h), "agentSurveySearch": survey_search}, agent)
    assert {names[i] for i in ids(page)} == which
    assert page["_metadata"]["count"] == len(which)


async def test_survey_id_filter(h: Harness) -> None:
    agent, submitted, pending, survey_id = await surveyed(h)
    page = await search(
        h, {"start": window(h), "agentSurveySearch": {"surveyId": [survey_id]}}, agent
    )
    assert set(ids(page)) == {submitted, pending}
