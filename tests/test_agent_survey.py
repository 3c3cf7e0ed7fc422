"""Agent survey for messaging over HTTP: the configuration API (validation with paths, skills,
the default survey, revisions and If-Match) and the runtime API (every status, the state
revision, dismissal, resubmission, the timeout), the SDEs its answers report, the goals they
reach and the public model that shows them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sdehub.store import conversations as conv_store
from sdehub.store.conversations import Participant
from tests.harness import ACCOUNT, Harness, close
from tests.test_campaigns import configured, engagement, goals

pytestmark = pytest.mark.anyio

CONFIG = f"/api/account/{ACCOUNT}/configuration/ac-common/agent_surveys"
RUNTIME = f"/api/account/{ACCOUNT}/forms/agent_survey"
MINUTE = 60_000


def survey(**changes: Any) -> dict[str, Any]:
    """Five questions: an outcome dropdown that branches, a required free text, a checkbox,
    a Service Activity question and a purchase question."""
    body: dict[str, Any] = {
        "name": "Sales wrap-up",
        "defaultTimeoutInMinutes": 30,
        "skillIds": ["11"],
        "questions": [
            {"id": 1, "orderId": 1, "text": "Outcome", "category": "dropdown",
             "questionDefinition": "conversation_outcome",
             "replies": [{"id": 101, "text": "Sold", "next": 5},
                         {"id": 102, "text": "Not sold"}]},
            {"id": 2, "orderId": 2, "text": "Why not?", "category": "free_text",
             "required": True, "maxCharacters": 200},
            {"id": 3, "orderId": 3, "text": "Topics", "category": "checkbox",
             "replies": [{"id": 301, "text": "Price"}, {"id": 302, "text": "Stock"}]},
            {"id": 4, "orderId": 4, "text": "Service", "category": "free_text",
             "questionDefinition": "engagement_attributes",
             "engagementAttribute": {"type": "service", "attributes": ["topic", "status"]}},
            {"id": 5, "orderId": 5, "text": "Order", "category": "free_text",
             "questionDefinition": "engagement_attributes",
             "engagementAttribute": {"type": "purchase",
                                     "attributes": ["order_total", "currency", "order_id"]}},
        ],
    }  # fmt: skip
    body.update(changes)
    return body


def ans(question_id: int, **fields: Any) -> dict[str, Any]:
    return {"id": question_id, "questionStatus": "answer", **fields}


SOLD = [
    ans(1, replyIds=[101]),
    {"id": 5, "questionStatus": "answer",
     "engAttribute": {"type": "purchase",
                      "purchase": {"total": 120.5, "currency": "EUR", "orderId": "o-1"}}},
]  # fmt: skip


async def create(h: Harness, agent: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return await h.client.post(CONFIG, params={"v": "2.0"}, headers=agent, json=body)


async def setup(h: Harness, **changes: Any) -> tuple[dict[str, str], str, int]:
    """An agent, a survey for skill 11 and an open conversation on that skill."""
    agent = await h.agent()
    r = await create(h, agent, survey(**changes))
    assert r.status_code == 201, r.text
    conversation_id = await h.open_conversation(await h.connector(), skillId="11")
    return agent, conversation_id, r.json()["id"]


def params(conversation_id: str, **more: str) -> dict[str, str]:
    return {"conv": conversation_id, "skill": "11", "v": "2.0", **more}


async def state(h: Harness, agent: dict[str, str], conversation_id: str) -> httpx.Response:
    return await h.client.get(f"{RUNTIME}/state", params=params(conversation_id), headers=agent)


async def submit(
    h: Harness, agent: dict[str, str], conversation_id: str, body: Any, rev: int | str
) -> httpx.Response:
    return await h.client.post(
        f"{RUNTIME}/state", params=params(conversation_id), json=body,
        headers={**agent, "x-lp-state-rev": str(rev)},
    )  # fmt: skip


async def dismiss(
    h: Harness, agent: dict[str, str], conversation_id: str, rev: int
) -> httpx.Response:
    return await h.client.delete(
        f"{RUNTIME}/state", params=params(conversation_id),
        headers={**agent, "x-lp-state-rev": str(rev)},
    )  # fmt: skip


def paths(r: httpx.Response) -> list[str]:
    return [e["path"] for e in r.json()["error"]["errors"]]


# --- configuration ---------------------------------------------------------------------------


async def test_create_get_list_update_delete_with_revisions(h: Harness) -> None:
    agent = await h.agent()
    r = await create(h, agent, survey())
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["ac-revision"] == "1"
    assert created["id"] == 1 and created["root"] == 1 and created["deleted"] is False
    outcome = created["questions"][0]
    assert outcome["containsLogic"] is True  # "Sold" jumps to 5, "Not sold" goes on to 2
    assert [r["nextInOrder"] for r in outcome["replies"]] == [False, True]
    assert created["questions"][3]["engagementAttribute"]["type"] == "service_activity"

    r = await h.client.get(f"{CONFIG}/1", headers=agent)
    assert r.status_code == 200 and r.json() == created
    other = await create(h, agent, survey(name="Support", skillIds=["12"]))
    assert other.headers["ac-revision"] == "2"
    r = await h.client.get(CONFIG, headers=agent)
    assert r.headers["ac-revision"] == "2"
    assert [s["name"] for s in r.json()] == ["Sales wrap-up", "Support"]

    # Survey 1 has not changed since revision 1: a change naming 1 (or 2) is fine.
    r = await h.client.put(
        f"{CONFIG}/1", headers={**agent, "If-Match": "1"}, json=survey(description="v2")
    )
    assert r.status_code == 200, r.text
    assert r.headers["ac-revision"] == "3" and r.json()["description"] == "v2"
    stale = await h.client.put(
        f"{CONFIG}/1", headers={**agent, "If-Match": '"2"'}, json=survey(description="v3")
    )
    assert stale.status_code == 409
    assert paths(stale) == ["$header.If-Match"]
    stale = await h.client.delete(f"{CONFIG}/1", headers={**agent, "If-Match": "1"})
    assert stale.status_code == 409

    r = await h.client.delete(f"{CONFIG}/1", headers={**agent, "If-Match": "3"})
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert (await h.client.get(f"{CONFIG}/1", headers=agent)).status_code == 404
    assert [s["id"] for s in (await h.client.get(CONFIG, headers=agent)).json()] == [2]
    r = await h.client.get(CONFIG, params={"include_deleted": "true"}, headers=agent)
    assert [s["id"] for s in r.json()] == [1, 2]
    # Its skill is free again.
    r = await create(h, agent, survey(name="Sales again"))
    assert r.status_code == 201, r.text


INVALID = [
    pytest.param({"name": ""}, ["$.name"], id="empty-name"),
    pytest.param({"questions": []}, ["$.questions"], id="no-questions"),
    pytest.param({"defaultTimeoutInMinutes": 72 * 60 + 1}, ["$.defaultTimeoutInMinutes"],
                 id="timeout-over-72h"),
    pytest.param({"defaultTimeoutInMinutes": -1}, ["$.defaultTimeoutInMinutes"],
                 id="negative-timeout"),
    pytest.param({"root": 99}, ["$.root"], id="unknown-root"),
    pytest.param({"skillIds": ["11", "11"]}, ["$.skillIds"], id="skill-twice"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), INVALID)
async def test_invalid_survey_names_the_field(
    h: Harness, change: dict[str, Any], expected: list[str]
) -> None:
    agent = await h.agent()
    r = await create(h, agent, survey(**change))
    assert r.status_code == 400, r.text
    assert paths(r) == expected


def question(**fields: Any) -> dict[str, Any]:
    return {"id": 9, "orderId": 9, "text": "Q", "category": "free_text", **fields}


BAD_QUESTIONS = [
    pytest.param(question(category="essay"), "$.questions[6].category", id="unknown-category"),
    pytest.param(question(questionDefinition="x"), "$.questions[6].questionDefinition",
                 id="unknown-definition"),
    pytest.param(question(id=1), "$.questions[6].id", id="duplicate-id"),
    pytest.param(question(orderId=1), "$.questions[6].orderId", id="duplicate-order"),
    pytest.param(question(category="radio_button"), "$.questions[6].replies", id="no-replies"),
    pytest.param(question(replies=[{"id": 1, "text": "a"}]), "$.questions[6].replies",
                 id="replies-on-free-text"),
    pytest.param(question(maxCharacters=1025), "$.questions[6].maxCharacters",
                 id="max-characters-over-1024"),
    pytest.param(question(category="number", maxCharacters=5), "$.questions[6].maxCharacters",
                 id="max-characters-on-number"),
    pytest.param(question(next=2), "$.questions[6].next", id="branch-backwards"),
    pytest.param(question(next=77), "$.questions[6].next", id="branch-nowhere"),
    pytest.param(question(category="dropdown", next=None,
                          replies=[{"id": 1, "text": "a", "next": 3}]),
                 "$.questions[6].replies[0].next", id="reply-branches-backwards"),
    pytest.param(question(category="checkbox", replies=[{"id": 1, "text": "a", "next": 10}]),
                 "$.questions[6].replies[0].next", id="checkbox-reply-branches"),
    pytest.param(question(category="dropdown", next=10, replies=[{"id": 1, "text": "a"}]),
                 "$.questions[6].next", id="next-beside-replies"),
    pytest.param(question(questionDefinition="conversation_topic"), "$.questions[6].category",
                 id="topic-not-a-dropdown"),
    pytest.param(question(questionDefinition="engagement_attributes"),
                 "$.questions[6].engagementAttribute", id="ea-missing"),
    pytest.param(question(questionDefinition="engagement_attributes",
                          engagementAttribute={"type": "lead", "attributes": ["order_id"]}),
                 "$.questions[6].engagementAttribute.attributes[0]", id="ea-wrong-attribute"),
    pytest.param(question(questionDefinition="engagement_attributes",
                          engagementAttribute={"type": "cart", "attributes": ["topic"]}),
                 "$.questions[6].engagementAttribute.type", id="ea-unknown-type"),
    pytest.param(question(engagementAttribute={"type": "lead", "attributes": ["topic"]}),
                 "$.questions[6].engagementAttribute", id="ea-on-regular-question"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "expected"), BAD_QUESTIONS)
async def test_invalid_question_names_the_field(
    h: Harness, bad: dict[str, Any], expected: str
) -> None:
    agent = await h.agent()
    body = survey()
    body["questions"].append({"id": 10, "orderId": 10, "text": "Last", "category": "date"})
    body["questions"].append(bad)
    r = await create(h, agent, body)
    assert r.status_code == 400, r.text
    assert paths(r) == [expected]


async def test_skill_default_and_name_are_unique(h: Harness) -> None:
    agent = await h.agent()
    assert (await create(h, agent, survey(isDefault=True))).status_code == 201
    r = await create(h, agent, survey(isDefault=True, skillIds=["12", "11"]))
    assert r.status_code == 400
    assert paths(r) == ["$.name", "$.isDefault", "$.skillIds[1]"]
    # Updating a survey with its own skills and default flag is fine.
    r = await h.client.put(f"{CONFIG}/1", headers=agent, json=survey(isDefault=True))
    assert r.status_code == 200, r.text


async def test_config_errors(h: Harness) -> None:
    agent = await h.agent()
    assert (await h.client.get(CONFIG)).status_code == 401
    assert (await h.client.get(f"{CONFIG}/5", headers=agent)).status_code == 404
    assert (await h.client.get(f"{CONFIG}/x", headers=agent)).status_code == 404
    r = await h.client.put(f"{CONFIG}/5", headers=agent, json=survey())
    assert r.status_code == 404
    assert (await h.client.delete(f"{CONFIG}/5", headers=agent)).status_code == 404
    await create(h, agent, survey())
    r = await h.client.put(f"{CONFIG}/1", headers=agent, json=survey(id=2))
    assert r.status_code == 400 and paths(r) == ["$.id"]
    r = await h.client.put(f"{CONFIG}/1", headers={**agent, "If-Match": "x"}, json=survey())
    assert r.status_code == 400 and paths(r) == ["$header.If-Match"]
    r = await h.client.post(CONFIG, headers=agent, content=b"{")
    assert r.status_code == 400 and paths(r) == ["$"]


# --- runtime ---------------------------------------------------------------------------------


async def test_open_save_submit_resubmit(h: Harness) -> None:
    agent, conversation_id, survey_id = await setup(h)
    r = await h.client.get(RUNTIME, params=params(conversation_id), headers=agent)
    assert r.status_code == 200, r.text
    assert r.headers["x-lp-state-rev"] == "0"
    body = r.json()
    assert body["id"] == survey_id and body["actualTimeInMinutes"] == 30
    assert body["agentSurveyContext"] == {
        "agentSurveyStatus": "open", "lastActionTimeInMillis": 0, "autoCloseTimestamp": 0,
        "stateRevision": 0,
    }  # fmt: skip

    draft = [ans(2, freeTextReply="too dear")]
    r = await h.client.put(
        f"{RUNTIME}/state", params=params(conversation_id), headers=agent, json=draft
    )
    assert r.status_code == 200, r.text
    assert r.json()["agentSurveyStatus"] == "open" and r.headers["x-lp-state-rev"] == "1"
    r = await state(h, agent, conversation_id)
    assert r.json()["questions"][1]["questionState"] == draft[0]
    assert "questionState" not in r.json()["questions"][0]

    # "Not sold" goes through question 2, which is required and now answered.
    not_sold = [ans(1, replyIds=[102]), *draft]
    r = await submit(h, agent, conversation_id, not_sold, 1)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "agentSurveyStatus": "submitted", "lastActionTimeInMillis": h.clock.now_ms(),
        "autoCloseTimestamp": 0, "stateRevision": 2,
    }  # fmt: skip
    model = await h.public_model(conversation_id, agent)
    assert [(a["displayName"], a["value"]) for a in model["surveyQuestions"]["agentSurvey"]] == [
        ("Outcome", "Not sold"),
        ("Why not?", "too dear"),
    ]
    # Resubmit: "Sold" jumps over the required question 2 to the purchase.
    r = await submit(h, agent, conversation_id, SOLD, 2)
    assert r.status_code == 200, r.text
    agent_survey = (await h.public_model(conversation_id, agent))["surveyQuestions"]["agentSurvey"]
    assert [(a["name"], a["value"]) for a in agent_survey] == [
        ("1", "Sold"),
        ("5", "total: 120.5, currency: EUR, orderId: o-1"),
    ]
    assert agent_survey[0]["@source"] == "agent survey"


async def test_required_questions_block_submit_and_dismiss(h: Harness) -> None:
    agent, conversation_id, _ = await setup(h)
    r = await submit(h, agent, conversation_id, [ans(1, replyIds=[102])], 0)
    assert r.status_code == 400
    assert "question 2" in r.json()["error"]["message"]
    r = await dismiss(h, agent, conversation_id, 0)
    assert r.status_code == 400 and "required" in r.json()["error"]["message"]


async def test_dismiss_is_final(h: Harness) -> None:
    agent = await h.agent()
    body = survey()
    body["questions"][1]["required"] = False
    await create(h, agent, body)
    conversation_id = await h.open_conversation(await h.connector(), skillId="11")
    r = await dismiss(h, agent, conversation_id, 0)
    assert r.status_code == 200, r.text
    assert r.json()["agentSurveyStatus"] == "dismissed" and r.headers["x-lp-state-rev"] == "1"
    r = await state(h, agent, conversation_id)
    assert r.json()["agentSurveyContext"]["agentSurveyStatus"] == "dismissed"
    assert (await submit(h, agent, conversation_id, SOLD, 1)).status_code == 410
    assert (await dismiss(h, agent, conversation_id, 1)).status_code == 410
    assert (await h.public_model(conversation_id, agent))["surveyQuestions"]["agentSurvey"] == []


async def test_submitted_survey_cannot_be_dismissed(h: Harness) -> None:
    agent, conversation_id, _ = await setup(h)
    assert (await submit(h, agent, conversation_id, SOLD, 0)).status_code == 200
    r = await dismiss(h, agent, conversation_id, 1)
    assert r.status_code == 400


async def test_stale_state_revision_is_a_conflict(h: Harness) -> None:
    agent, conversation_id, _ = await setup(h)
    assert (await submit(h, agent, conversation_id, SOLD, 0)).status_code == 200
    r = await submit(h, agent, conversation_id, SOLD, 0)
    assert r.status_code == 409
    assert paths(r) == ["$header.x-lp-state-rev"]
    r = await h.client.put(
        f"{RUNTIME}/state", params=params(conversation_id),
        headers={**agent, "x-lp-state-rev": "7"}, json=SOLD,
    )  # fmt: skip
    assert r.status_code == 409
    r = await h.client.post(
        f"{RUNTIME}/state", params=params(conversation_id), headers=agent, json=SOLD
    )
    assert r.status_code == 400 and paths(r) == ["$header.x-lp-state-rev"]


async def test_timeout_closes_the_survey(h: Harness) -> None:
    agent, conversation_id, _ = await setup(h)
    connector = await h.connector()
    assert (await h.post_send(connector, close(conversation_id))).status_code == 200
    closed_at = h.clock.now_ms()
    h.clock.advance(29 * MINUTE)
    # Within the timeout after the close: still open, and the close time shows.
    r = await state(h, agent, conversation_id)
    assert r.json()["agentSurveyContext"]["autoCloseTimestamp"] == closed_at + 30 * MINUTE
    assert r.json()["agentSurveyContext"]["agentSurveyStatus"] == "open"
    assert (await submit(h, agent, conversation_id, SOLD, 0)).status_code == 200
    h.clock.advance(MINUTE)
    r = await submit(h, agent, conversation_id, SOLD, 1)
    assert r.status_code == 410
    r = await state(h, agent, conversation_id)
    assert r.json()["agentSurveyContext"]["agentSurveyStatus"] == "submitted"


async def test_unsubmitted_survey_closes_on_timeout(h: Harness) -> None:
    agent, conversation_id, _ = await setup(h, defaultTimeoutInMinutes=0)
    connector = await h.connector()
    await h.post_send(connector, close(conversation_id))
    r = await state(h, agent, conversation_id)
    assert r.json()["agentSurveyContext"]["agentSurveyStatus"] == "closed"
    r = await h.client.put(
        f"{RUNTIME}/state", params=params(conversation_id), headers=agent, json=[]
    )
    assert r.status_code == 410


async def test_only_the_assigned_agent_acts(h: Harness) -> None:
    agent, conversation_id, _ = await setup(h)
    other = await h.agent(login="agent-2")
    assigned = Participant(
        account_id=ACCOUNT, conversation_id=conversation_id, participant_id="someone-else",
        role="ASSIGNED_AGENT", joined_ms=h.clock.now_ms(),
    )  # fmt: skip
    await h.svc.db.write(conv_store.add_participant, assigned)
    for who in (agent, other):
        r = await submit(h, who, conversation_id, SOLD, 0)
        assert r.status_code == 403, r.text


async def test_without_an_assigned_agent_any_agent_acts(h: Harness) -> None:
    _, conversation_id, _ = await setup(h)
    other = await h.agent(login="agent-2")
    assert (await submit(h, other, conversation_id, SOLD, 0)).status_code == 200


ANSWER_ERRORS = [
    pytest.param([{"id": 99, "questionStatus": "answer"}], "$[0].id", id="unknown-question"),
    pytest.param([ans(1, replyIds=[101]), ans(1, replyIds=[101])], "$[1].id",
                 id="answered-twice"),
    pytest.param([ans(1, replyIds=[999])], "$[0].replyIds", id="unknown-reply"),
    pytest.param([ans(1, replyIds=[101, 102])], "$[0].replyIds", id="two-on-a-dropdown"),
    pytest.param([ans(1)], "$[0].replyIds", id="choice-without-reply"),
    pytest.param([ans(2, freeTextReply="x" * 201)], "$[0].freeTextReply",
                 id="over-max-characters"),
    pytest.param([{"id": 4, "questionStatus": "answer", "engAttribute": {"type": "service",
                                             "service": {"status": "done"}}}],
                 "$[0].engAttribute.service.status", id="ea-bad-status"),
    pytest.param([{"id": 4, "questionStatus": "answer", "engAttribute": {"type": "service",
                                             "service": {"category": "biz"}}}],
                 "$[0].engAttribute.service.category", id="ea-unconfigured-attribute"),
    pytest.param([{"id": 5, "questionStatus": "answer", "engAttribute": {"type": "purchase"}}],
                 "$[0].engAttribute.purchase", id="ea-no-values"),
    pytest.param([ans(5, freeTextReply="12")], "$[0].engAttribute", id="ea-as-text"),
    pytest.param([{"id": 1, "questionStatus": "maybe"}], "$[0].questionStatus",
                 id="unknown-status"),
    pytest.param({"id": 1}, "$", id="not-an-array"),
    pytest.param([{"id": 1}], "$[0].questionStatus", id="no-status"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), ANSWER_ERRORS)
async def test_invalid_answers_name_the_field(h: Harness, body: Any, expected: str) -> None:
    agent, conversation_id, _ = await setup(h)
    r = await submit(h, agent, conversation_id, body, 0)
    assert r.status_code == 400, r.text
    assert paths(r) == [expected]


async def test_number_and_date_answers(h: Harness) -> None:
    agent = await h.agent()
    body = survey(skillIds=[])
    body["questions"] = [
        {"id": 1, "orderId": 1, "text": "Items", "category": "number"},
        {"id": 2, "orderId": 2, "text": "Callback", "category": "date"},
    ]
    body["isDefault"] = True
    assert (await create(h, agent, body)).status_code == 201
    conversation_id = await h.open_conversation(await h.connector())  # no skill: the default
    bad = [ans(1, freeTextReply="many"), ans(2, freeTextReply="31/01/2026")]
    r = await submit(h, agent, conversation_id, bad, 0)
    assert paths(r) == ["$[0].freeTextReply", "$[1].freeTextReply"]
    good = [ans(1, freeTextReply="3"), ans(2, freeTextReply="2026-01-31")]
    assert (await submit(h, agent, conversation_id, good, 0)).status_code == 200


async def test_runtime_errors(h: Harness) -> None:
    agent, conversation_id, _ = await setup(h)
    assert (await h.client.get(RUNTIME, params=params(conversation_id))).status_code == 401
    r = await h.client.get(RUNTIME, params={"conv": conversation_id}, headers=agent)
    assert r.status_code == 400 and paths(r) == ["$query.v"]
    r = await h.client.get(RUNTIME, params={"v": "2.0"}, headers=agent)
    assert r.status_code == 400 and paths(r) == ["$query.conv"]
    r = await h.client.get(RUNTIME, params=params("nope"), headers=agent)
    assert r.status_code == 404
    # A conversation on a skill without a survey, and no default survey.
    other = await h.open_conversation(await h.connector(ext_id="c-2"), skillId="77")
    r = await h.client.get(RUNTIME, params=params(other), headers=agent)
    assert r.status_code == 404 and "no agent survey" in r.json()["error"]["message"]


async def test_disabled_survey_falls_back_to_the_default(h: Harness) -> None:
    agent = await h.agent()
    await create(h, agent, survey(enabled=False))
    r = await create(h, agent, survey(name="Default", skillIds=[], isDefault=True))
    default_id = r.json()["id"]
    conversation_id = await h.open_conversation(await h.connector(), skillId="11")
    r = await h.client.get(RUNTIME, params=params(conversation_id), headers=agent)
    assert r.json()["id"] == default_id


# --- what submitted answers report ----------------------------------------------------------


async def test_answers_report_sdes_and_reach_goals(h: Harness) -> None:
    agent = await configured(h)  # the demo catalog: goal 21 is a purchase over 50
    r = await create(h, agent, survey())
    assert r.status_code == 201
    r = await engagement(h, {"entryPoints": ["sec://checkout"]})
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    conversation_id = await h.open_conversation(
        await h.connector(), skillId="11", campaignInfo={"campaignId": "61", "engagementId": "71"},
        conversationContext={"visitorId": vid, "sessionId": sid, "type": "SharkContext"},
    )  # fmt: skip
    service = {"id": 4, "questionStatus": "answer", "engAttribute": {"type": "service",
                                         "service": {"topic": "loan", "status": "3"}}}  # fmt: skip
    answers = [ans(1, replyIds=[102]), ans(2, freeTextReply="x"), service]
    assert (await submit(h, agent, conversation_id, answers, 0)).status_code == 200
    assert (await submit(h, agent, conversation_id, SOLD, 1)).status_code == 200
    assert (await submit(h, agent, conversation_id, SOLD, 2)).status_code == 200  # unchanged

    sde = (await h.public_model(conversation_id, agent))["SDE"]
    assert [(s["topic"], s["status"]) for s in sde["serviceActivity"]] == [("loan", "3")]
    assert [t["orderId"] for t in sde["transaction"]] == ["o-1"]  # reported once
    reached = [g for g in await goals(h, agent) if g["source"] == "agent"]
    assert [(g["goalId"], g["value"], g["currency"], g["conversationId"]) for g in reached] == [
        ("21", 120.5, "EUR", conversation_id)
    ]


async def test_surveys_are_per_account(h: Harness) -> None:
    agent, conversation_id, survey_id = await setup(h)
    other = await h.agent(account="2002")
    other_config = "/api/account/2002/configuration/ac-common/agent_surveys"
    assert (await h.client.get(other_config, headers=other)).json() == []
    r = await h.client.get(f"{other_config}/{survey_id}", headers=other)
    assert r.status_code == 404
    # The same survey id and skill are free in the other account.
    r = await h.client.post(other_config, headers=other, json=survey())
    assert r.status_code == 201 and r.json()["id"] == survey_id
    # Another account's agent cannot reach this account's surveys or conversations.
    assert (await h.client.get(CONFIG, headers=other)).status_code == 401
    r = await h.client.get(
        "/api/account/2002/forms/agent_survey", params=params(conversation_id), headers=other
    )
    assert r.status_code == 404
