"""Conversation outcomes over HTTP: the configuration (validation with paths, skills, revisions and
If-Match), the form of a conversation's skill, every status of a submission (the 30 minutes after
the close on the test clock), and what a submission becomes: SDE events reported by the agent, the
public model and its live pushes, goals, Messaging Interactions records. Also
``chattingAgentInfo``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from sdehub.store import events
from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness, close
from tests.test_agent_desk import Agent, login
from tests.test_campaigns import configured, engagement, goals
from tests.test_live import bind, connect, push

pytestmark = pytest.mark.anyio

CONFIG = f"/api/account/{ACCOUNT}/admin/outcomes"
DESK = f"/api/account/{ACCOUNT}/agent-workspace/conversations"
MSGHIST = f"/messaging_history/api/account/{ACCOUNT}/conversations/conversation/search"
MINUTE = 60_000

PURCHASE = {"sde": "purchase", "skillIds": ["11"],
            "fields": [{"field": "total", "displayName": "Order total"},
                       {"field": "orderId", "displayName": "Order number"}]}  # fmt: skip
SERVICE = {"sde": "service", "skillIds": [],
           "fields": [{"field": "topic", "displayName": "Topic"},
                      {"field": "status", "displayName": "Status"}]}  # fmt: skip
LEAD = {"sde": "lead", "skillIds": [12],
        "fields": [{"field": "value", "displayName": "Deal value"},
                   {"field": "leadId", "displayName": "Lead"}]}  # fmt: skip


def outcomes(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"outcomes": list(entries or (PURCHASE, SERVICE, LEAD))}


async def put(
    h: Harness, agent: Agent | dict[str, str], body: Any, **headers: str
) -> httpx.Response:
    auth = agent.headers if isinstance(agent, Agent) else agent
    return await h.client.put(CONFIG, headers={**auth, **headers}, json=body)


def paths(r: httpx.Response) -> list[str]:
    assert r.status_code == 400, r.text
    return [e["path"] for e in r.json()["error"]["errors"]]


async def setup(h: Harness, *, skill: str | None = "11", ext_id: str = "consumer-1",
                **request: Any) -> tuple[Agent, str]:  # fmt: skip
    """The demo catalog (skills 11, 12), the outcomes configured, a conversation on ``skill``
    that the agent "ann" accepted."""
    await configured(h)
    agent = await login(h, "ann")
    r = await put(h, agent, outcomes())
    assert r.status_code == 200, r.text
    if skill is not None:
        request["skillId"] = skill
    conversation_id = await h.open_conversation(await h.connector(ext_id=ext_id), **request)
    await agent.post(f"{conversation_id}/accept")
    return agent, conversation_id


async def form(h: Harness, agent: Agent, conversation_id: str) -> dict[str, Any]:
    r = await h.client.get(f"{DESK}/{conversation_id}/outcomes", headers=agent.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def submit(h: Harness, agent: Agent, conversation_id: str, body: Any) -> httpx.Response:
    return await h.client.post(
        f"{DESK}/{conversation_id}/outcomes", headers=agent.headers, json=body
    )


ORDER = {"sde": "purchase", "values": {"total": 120.5, "orderId": "A-1"}}


# --- configuration ---------------------------------------------------------------------------


async def test_config_round_trip_with_revisions(h: Harness) -> None:
    await configured(h)
    agent = await login(h, "ann")
    r = await h.client.get(CONFIG, headers=agent.headers)
    assert r.status_code == 200 and r.json() == {"revision": 0, "outcomes": []}
    assert r.headers["etag"] == '"0"'
    r = await put(h, agent, outcomes())
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body["revision"] == 1 and body["author"] == "ann"
    assert body["outcomes"][2] == {**LEAD, "skillIds": ["12"]}  # skill ids become strings
    assert (await h.client.get(CONFIG, headers=agent.headers)).json() == body
    # If-Match: a change made from an older revision is refused.
    r = await put(h, agent, outcomes(PURCHASE), **{"If-Match": "0"})
    assert r.status_code == 409
    assert [e["path"] for e in r.json()["error"]["errors"]] == ["$header.If-Match"]
    r = await put(h, agent, outcomes(PURCHASE), **{"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["revision"] == 2
    r = await put(h, agent, outcomes(PURCHASE), **{"If-Match": "latest"})
    assert paths(r) == ["$header.If-Match"]
    # Every revision is kept.
    r = await h.client.get(f"{CONFIG}/revisions", headers=agent.headers)
    assert [(x["revision"], x["author"]) for x in r.json()] == [(2, "ann"), (1, "ann")]
    r = await h.client.get(f"{CONFIG}/revisions/1", headers=agent.headers)
    assert r.json() == body and r.headers["etag"] == '"1"'
    r = await h.client.get(f"{CONFIG}/revisions", params={"before": 2}, headers=agent.headers)
    assert [x["revision"] for x in r.json()] == [1]
    assert (await h.client.get(f"{CONFIG}/revisions/3", headers=agent.headers)).status_code == 404
    assert (await h.client.get(f"{CONFIG}/revisions/x", headers=agent.headers)).status_code == 404
    assert (await h.client.get(CONFIG, headers=agent.headers)).json()["revision"] == 2


def field(name: str, display: str = "Name") -> dict[str, str]:
    return {"field": name, "displayName": display}


CONFIG_ERRORS = [
    pytest.param({"sde": "cart", "skillIds": [], "fields": [field("total")]},
                 ["$.outcomes[0].sde"], id="unknown-sde"),
    pytest.param({**PURCHASE, "fields": [field("currency")]},
                 ["$.outcomes[0].fields[0].field"], id="unknown-field"),
    pytest.param({**SERVICE, "fields": [field("status"), field("serviceId"), field("status")]},
                 ["$.outcomes[0].fields[2].field"], id="field-twice"),
    pytest.param({**PURCHASE, "fields": []}, ["$.outcomes[0].fields"], id="no-field"),
    pytest.param({**PURCHASE, "fields": [field("total", "")]},
                 ["$.outcomes[0].fields[0].displayName"], id="empty-display-name"),
    pytest.param({**PURCHASE, "fields": [{"field": "total"}]},
                 ["$.outcomes[0].fields[0].displayName"], id="no-display-name"),
    pytest.param({**PURCHASE, "skillIds": ["11", 99]}, ["$.outcomes[0].skillIds[1]"],
                 id="unknown-skill"),
    pytest.param({**PURCHASE, "skillIds": ["11", 11]}, ["$.outcomes[0].skillIds[1]"],
                 id="skill-twice"),
    pytest.param({"sde": "purchase", "fields": [field("total")]}, ["$.outcomes[0].skillIds"],
                 id="no-skill-ids"),
]  # fmt: skip


@pytest.mark.parametrize(("entry", "expected"), CONFIG_ERRORS)
async def test_invalid_config_names_the_path(
    h: Harness, entry: dict[str, Any], expected: list[str]
) -> None:
    agent = await configured(h)
    r = await put(h, agent, {"outcomes": [entry]})
    assert paths(r) == expected
    assert (await h.client.get(CONFIG, headers=agent)).json()["revision"] == 0  # nothing stored


async def test_overlapping_entries_and_bad_documents(h: Harness) -> None:
    agent = await configured(h)
    r = await put(h, agent, outcomes(PURCHASE, {**PURCHASE, "skillIds": ["12", "11"]}))
    assert paths(r) == ["$.outcomes[1].skillIds[1]"]
    r = await put(h, agent, outcomes(SERVICE, {**SERVICE, "fields": [field("category")]}))
    assert paths(r) == ["$.outcomes[1].skillIds"]
    # The same SDE for other skills, and one for every skill beside a skill's own: fine.
    r = await put(h, agent, outcomes(PURCHASE, {**PURCHASE, "skillIds": ["12"]},
                                     {**PURCHASE, "skillIds": []}))  # fmt: skip
    assert r.status_code == 200, r.text
    assert paths(await put(h, agent, {"outcome": []})) == ["$.outcomes"]
    assert paths(await put(h, agent, [PURCHASE])) == ["$"]
    r = await h.client.put(CONFIG, headers=agent, content=b"{")
    assert r.status_code == 400


async def test_skills_come_from_the_catalog(h: Harness) -> None:
    agent = await h.agent()  # no catalog yet: no skill is known
    assert paths(await put(h, agent, outcomes(PURCHASE))) == ["$.outcomes[0].skillIds[0]"]
    r = await put(h, agent, outcomes(SERVICE))  # every skill: fine without a catalog
    assert r.status_code == 200, r.text


async def test_config_needs_an_agent_of_the_account(h: Harness) -> None:
    assert (await h.client.get(CONFIG)).status_code == 401
    assert (await h.client.put(CONFIG, json=outcomes())).status_code == 401
    other = await h.agent(account="2002")
    assert (await h.client.get(CONFIG, headers=other)).status_code == 401
    await configured(h)
    agent = await h.agent()
    assert (await put(h, agent, outcomes())).status_code == 200
    r = await h.client.get("/api/account/2002/admin/outcomes", headers=other)
    assert r.json() == {"revision": 0, "outcomes": []}


# --- the form ----------------------------------------------------------------------------------


async def test_the_form_is_the_one_of_the_conversations_skill(h: Harness) -> None:
    agent, conversation_id = await setup(h)
    body = await form(h, agent, conversation_id)
    statuses = body["sections"][1]["fields"][1].pop("enum")
    assert body == {
        "conversationId": conversation_id, "skillId": "11", "open": True, "deadline": None,
        "sections": [
            {"sde": "purchase", "title": "Transaction", "fields": [
                {"field": "total", "displayName": "Order total", "type": "number"},
                {"field": "orderId", "displayName": "Order number", "type": "string"}]},
            {"sde": "service", "title": "Service activity", "fields": [
                {"field": "topic", "displayName": "Topic", "type": "string"},
                {"field": "status", "displayName": "Status", "type": "integer"}]},
        ],
        "submissions": [],
    }  # fmt: skip
    assert len(statuses) == 14 and statuses[0] == "Complete" and statuses[13] == "Resolved"
    # Skill 12 has the lead and the every-skill service; no skill: the service only.
    other = await h.open_conversation(await h.connector(ext_id="c-2"), skillId="12")
    assert [s["sde"] for s in (await form(h, agent, other))["sections"]] == ["service", "lead"]
    unassigned = await h.open_conversation(await h.connector(ext_id="c-3"))
    assert [s["sde"] for s in (await form(h, agent, unassigned))["sections"]] == ["service"]
    # A skill's own entry wins over the every-skill one; a transfer changes the form.
    await put(h, agent, outcomes(SERVICE, {**SERVICE, "skillIds": ["12"],
                                           "fields": [field("serviceId", "Ticket")]}))  # fmt: skip
    await agent.post(f"{conversation_id}/transfer", {"skillId": 12})
    (section,) = (await form(h, agent, conversation_id))["sections"]
    assert [f["displayName"] for f in section["fields"]] == ["Ticket"]
    # Nothing configured for the skill: no section (the widget hides it).
    await put(h, agent, outcomes(PURCHASE))
    assert (await form(h, agent, other))["sections"] == []


async def test_form_errors(h: Harness) -> None:
    agent, conversation_id = await setup(h)
    url = f"{DESK}/{conversation_id}/outcomes"
    assert (await h.client.get(url)).status_code == 401
    assert (await h.client.post(url, json=ORDER)).status_code == 401
    r = await h.client.get(f"{DESK}/nope/outcomes", headers=agent.headers)
    assert r.status_code == 404
    assert (await submit(h, agent, "nope", ORDER)).status_code == 404
    # Another account's agent does not see this account's conversations.
    other = await login(h, "ann", account="2002")
    r = await h.client.get(f"/api/account/2002/agent-workspace/conversations/{conversation_id}"
                           "/outcomes", headers=other.headers)  # fmt: skip
    assert r.status_code == 404


# --- submissions -------------------------------------------------------------------------------


async def test_a_submission_is_an_sde_reported_by_the_agent(h: Harness) -> None:
    agent, conversation_id = await setup(h)
    r = await submit(h, agent, conversation_id, ORDER)
    assert r.status_code == 201, r.text
    now = "2026-01-01T00:00:00.000Z"
    assert r.json() == {"sde": "purchase", "values": {"total": 120.5, "orderId": "A-1"},
                        "agentId": agent.id, "time": now}  # fmt: skip
    h.clock.advance(1000)
    service = {"sde": "service", "values": {"topic": "refund", "status": "Resolved"}}
    r = await submit(h, agent, conversation_id, service)
    assert r.status_code == 201, r.text
    assert r.json()["values"] == {"topic": "refund", "status": 13}  # a status by its name
    body = await form(h, agent, conversation_id)
    assert [(s["sde"], s["agentId"]) for s in body["submissions"]] == [
        ("purchase", agent.id), ("service", agent.id)
    ]  # fmt: skip

    # The store: SDE events of the conversation, provenance source agent, actor the agent.
    entries = await h.svc.db.read(lambda c: events.for_conversation(c, ACCOUNT, conversation_id))
    reported = [(e.record, e.meta.source, e.meta.actor, e.meta.authenticated) for e in entries]
    assert [(type(r).__name__, s, a, auth) for r, s, a, auth in reported] == [
        ("Transaction", "agent", agent.id, False),
        ("ServiceActivity", "agent", agent.id, False),
    ]

    # The public model, under the messaging rules (a service activity replaces the last one).
    sde = (await h.public_model(conversation_id, agent.headers))["SDE"]
    assert [(t["total"], t["orderId"], t["_meta"]["source"]) for t in sde["transaction"]] == [
        ("120.5", "A-1", "agent")
    ]
    await submit(h, agent, conversation_id, {"sde": "service", "values": {"status": 7}})
    sde = (await h.public_model(conversation_id, agent.headers))["SDE"]
    assert [(s.get("topic"), s["status"]) for s in sde["serviceActivity"]] == [(None, "7")]

    # Messaging Interactions: the records hold them as they hold any unauthenticated SDE.
    r = await h.client.post(
        MSGHIST, params={"v": 2}, headers=agent.headers,
        json={"conversationId": conversation_id, "contentToRetrieve": ["unAuthSdes", "sdes"]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    record = r.json()["conversationHistoryRecords"][0]
    found = record["unAuthSdes"]["events"]
    assert [e["sdeType"] for e in found] == ["PURCHASE", "SERVICE_ACTIVITY", "SERVICE_ACTIVITY"]
    assert found[0]["purchase"]["total"] == 120.5 and found[0]["purchase"]["orderId"] == "A-1"
    assert found[0]["isAuthenticated"] is False
    assert found[1]["serviceActivity"]["serviceActivity"] == {"topic": "refund", "status": 13}


VALUE_ERRORS = [
    pytest.param({"sde": "purchase", "values": {"total": "lots"}}, ["$.values.total"],
                 id="total-not-a-number"),
    pytest.param({"sde": "purchase", "values": {"total": True}}, ["$.values.total"],
                 id="total-a-boolean"),
    pytest.param({"sde": "purchase", "values": {"orderId": {"id": 1}}}, ["$.values.orderId"],
                 id="order-id-an-object"),
    pytest.param({"sde": "purchase", "values": {"currency": "EUR"}}, ["$.values.currency"],
                 id="not-a-form-field"),
    pytest.param({"sde": "service", "values": {"status": 14}}, ["$.values.status"],
                 id="status-over-13"),
    pytest.param({"sde": "service", "values": {"status": "done"}}, ["$.values.status"],
                 id="status-unknown-name"),
    pytest.param({"sde": "service", "values": {"status": 1.5}}, ["$.values.status"],
                 id="status-not-an-integer"),
    pytest.param({"sde": "service", "values": {"serviceId": "S-1"}}, ["$.values.serviceId"],
                 id="field-not-configured"),
    pytest.param({"sde": "purchase", "values": {}}, ["$.values"], id="no-value"),
    pytest.param({"sde": "purchase", "values": {"total": None}}, ["$.values"], id="only-nulls"),
    pytest.param({"sde": "purchase", "values": [120]}, ["$.values"], id="values-not-an-object"),
    pytest.param({"sde": "purchase"}, ["$.values"], id="no-values"),
    pytest.param({"sde": "cart", "values": {"total": 1}}, ["$.sde"], id="unknown-sde"),
    pytest.param({"sde": "lead", "values": {"value": 1}}, ["$.sde"], id="sde-not-in-the-form"),
    pytest.param({"values": {"total": 1}}, ["$.sde"], id="no-sde"),
    pytest.param([], ["$"], id="not-an-object"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), VALUE_ERRORS)
async def test_invalid_values_name_the_field(h: Harness, body: Any, expected: list[str]) -> None:
    agent, conversation_id = await setup(h)
    r = await submit(h, agent, conversation_id, body)
    assert paths(r) == expected
    assert (await form(h, agent, conversation_id))["submissions"] == []


async def test_numbers_are_read_as_on_every_other_api(h: Harness) -> None:
    agent, conversation_id = await setup(h)
    r = await submit(
        h, agent, conversation_id, {"sde": "purchase", "values": {"total": "99.90", "orderId": 7}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["values"] == {"total": 99.9, "orderId": "7"}


async def test_only_the_conversations_agent_submits(h: Harness) -> None:
    agent, conversation_id = await setup(h)
    other = await login(h, "bob")
    r = await submit(h, other, conversation_id, ORDER)
    assert r.status_code == 403 and "ann" not in r.text  # names the holder by id
    assert agent.id in r.json()["error"]["message"]
    # Nobody holds a conversation waiting in a queue: nobody submits.
    waiting = await h.open_conversation(await h.connector(ext_id="c-2"), skillId="11")
    assert (await submit(h, agent, waiting, ORDER)).status_code == 403
    # A transfer hands the right on with the conversation.
    await agent.post(f"{conversation_id}/transfer", {"skillId": 11})
    assert (await submit(h, agent, conversation_id, ORDER)).status_code == 403
    await other.post(f"{conversation_id}/accept")
    assert (await submit(h, other, conversation_id, ORDER)).status_code == 201


async def test_submissions_end_30_minutes_after_the_close(h: Harness) -> None:
    agent, conversation_id = await setup(h)
    other = await login(h, "bob")
    await agent.post(f"{conversation_id}/close", status=204)
    body = await form(h, agent, conversation_id)
    assert body["open"] is True and body["deadline"] == "2026-01-01T00:30:00.000Z"
    h.clock.advance(30 * MINUTE)  # the last moment: the agent who held it at the close may
    assert (await submit(h, other, conversation_id, ORDER)).status_code == 403
    assert (await submit(h, agent, conversation_id, ORDER)).status_code == 201
    h.clock.advance(1)
    r = await submit(h, agent, conversation_id, ORDER)
    assert r.status_code == 409, r.text
    assert "2026-01-01T00:30:00.000Z" in r.json()["error"]["message"]
    body = await form(h, agent, conversation_id)
    assert body["open"] is False and len(body["submissions"]) == 1


async def test_a_consumer_close_keeps_the_agent(h: Harness) -> None:
    agent, conversation_id = await setup(h)
    assert (await h.post_send(await h.connector(), close(conversation_id))).status_code == 200
    h.clock.advance(10 * MINUTE)
    assert (await submit(h, agent, conversation_id, ORDER)).status_code == 201
    h.clock.advance(21 * MINUTE)
    assert (await submit(h, agent, conversation_id, ORDER)).status_code == 409


async def test_a_submission_reaches_goals(h: Harness) -> None:
    await configured(h)  # the demo catalog: goal 21 is a purchase over 50
    r = await engagement(h, {"entryPoints": ["sec://checkout"]})
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    agent, conversation_id = await setup(
        h, campaignInfo={"campaignId": "61", "engagementId": "71"},
        conversationContext={"visitorId": vid, "sessionId": sid, "type": "SharkContext"},
    )  # fmt: skip
    small = {"sde": "purchase", "values": {"total": 20, "orderId": "A-0"}}
    assert (await submit(h, agent, conversation_id, small)).status_code == 201
    assert (await submit(h, agent, conversation_id, ORDER)).status_code == 201
    assert (await submit(h, agent, conversation_id, ORDER)).status_code == 201  # the same order
    reached = [g for g in await goals(h, agent.headers) if g["goalId"] == "21"]
    assert [(g["source"], g["value"], g["conversationId"], g["duplicate"]) for g in reached] == [
        ("agent", 120.5, conversation_id, False),
        ("agent", 120.5, conversation_id, True),
    ]
    # The goal tracker counts the order once (the duplicate never), as reported by the agent.
    day = time.strftime("%Y-%m-%d", time.gmtime(h.clock.now_ms() / 1000))
    r = await h.client.get(
        f"/api/account/{ACCOUNT}/reports/goal-tracker", headers=agent.headers,
        params={"from": day, "to": day, "groupBy": "agent"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    rows = [row for row in r.json()["rows"] if row["reportedBy"] == "agent"]
    assert [(row["agentId"], row["reportingAgentId"], row["transactions"],
             row["transactionValue"]) for row in rows] == [
        (agent.id, agent.id, 1, 120.5)
    ]  # fmt: skip


# --- live pushes and chattingAgentInfo ---------------------------------------------------------


async def test_a_submission_is_pushed_to_bindings(h: Harness) -> None:
    agent, conversation_id = await setup(h)
    ws = await connect(h, agent.headers)
    try:
        assert await bind(ws, conversation_id, "SDE.transaction") == [("SDE.transaction", [])]
        assert (await submit(h, agent, conversation_id, ORDER)).status_code == 201
        key, value = await push(ws)
        assert key == "SDE.transaction"
        assert [(t["total"], t["orderId"], t["_meta"]["actor"]) for t in value] == [
            ("120.5", "A-1", agent.id)
        ]
        # A refused submission changes nothing: nothing is pushed.
        await submit(h, agent, conversation_id, {"sde": "purchase", "values": {"total": "x"}})
        await ws.nothing()
    finally:
        await ws.__aexit__(None, None, None)


async def test_the_visits_other_conversations_are_pushed_too(h: Harness) -> None:
    r = await engagement(h, {"entryPoints": ["sec://checkout"]})
    context = {"visitorId": r.json()["visitorId"], "sessionId": r.json()["sessionId"],
               "type": "SharkContext"}  # fmt: skip
    earlier = await h.open_conversation(await h.connector(ext_id="c-0"),
                                        conversationContext=context)  # fmt: skip
    await h.post_send(await h.connector(ext_id="c-0"), close(earlier))
    agent, conversation_id = await setup(h, conversationContext=context)
    ws = await connect(h, agent.headers)
    try:
        assert await bind(ws, earlier, "SDE.transaction") == [("SDE.transaction", [])]
        assert (await submit(h, agent, conversation_id, ORDER)).status_code == 201
        m = await ws.receive()
        assert (m["conversationId"], m["key"]) == (earlier, "SDE.transaction")
        assert [t["orderId"] for t in m["newValue"]] == ["A-1"]
    finally:
        await ws.__aexit__(None, None, None)


async def test_chatting_agent_info_follows_the_assigned_agent(h: Harness) -> None:
    await configured(h)
    ann = await login(h, "ann")
    bob = await login(h, "bob")
    conversation_id = await h.open_conversation(await h.connector(), skillId="11")
    blank = {"agentName": "", "agentGroupName": "", "agentId": None, "agentNickname": ""}
    model = await h.public_model(conversation_id, bob.headers)
    assert model["chattingAgentInfo"] == blank
    assert model["chatInfo"]["spectatedEngagement"] is False
    ws = await connect(h, bob.headers)
    try:
        assert await bind(ws, conversation_id, "chattingAgentInfo") == [
            ("chattingAgentInfo", blank)
        ]
        await ann.post(f"{conversation_id}/accept")
        assert await push(ws) == ("chattingAgentInfo", {
            "agentName": "ann", "agentGroupName": "Main Group", "agentId": int(ann.id),
            "agentNickname": "ann"})  # fmt: skip
        model = await h.public_model(conversation_id, bob.headers)
        assert model["chatInfo"]["spectatedEngagement"] is True  # bob is not the chatting agent
        model = await h.public_model(conversation_id, ann.headers)
        assert model["chatInfo"]["spectatedEngagement"] is False
        # Live sessions share one build of the model: each still sees itself.
        mine = await connect(h, ann.headers)
        try:
            for socket, expected in ((ws, True), (mine, False)):
                await socket.send({"type": "get", "id": "s", "conversationId": conversation_id,
                                   "key": "chatInfo.spectatedEngagement"})  # fmt: skip
                assert (await socket.receive())["value"] is expected
        finally:
            await mine.__aexit__(None, None, None)
        await ann.post(f"{conversation_id}/transfer", {"skillId": 12})
        assert await push(ws) == ("chattingAgentInfo", blank)
        await bob.post(f"{conversation_id}/accept")
        key, value = await push(ws)
        assert value["agentId"] == int(bob.id) and value["agentName"] == "bob"
        # After the close the model keeps the agent who held it.
        await bob.post(f"{conversation_id}/close", status=204)
        await ws.nothing()
    finally:
        await ws.__aexit__(None, None, None)
    model = await h.public_model(conversation_id, ann.headers)
    assert model["chattingAgentInfo"]["agentId"] == int(bob.id)


async def test_outcomes_on_postgres(make_harness: HarnessFactory, postgres_url: str) -> None:
    account = f"pg{uuid.uuid4().hex[:12]}"
    base = f"/api/account/{account}"
    async with make_harness(db=postgres_url) as h:
        admin = await login(h, "admin", account)
        r = await h.client.put(f"{base}/admin/catalog", headers=admin.headers,
                               json={"skills": [{"id": 11, "name": "Sales"}]})  # fmt: skip
        assert r.status_code == 200, r.text
        r = await h.client.put(f"{base}/admin/outcomes", headers=admin.headers,
                               json=outcomes(PURCHASE, SERVICE))  # fmt: skip
        assert r.status_code == 200 and r.json()["revision"] == 1, r.text
        conversation_id = await h.open_conversation(
            await h.connector(account), account=account, skillId="11"
        )
        url = f"{base}/agent-workspace/conversations/{conversation_id}"
        assert (await h.client.post(f"{url}/accept", headers=admin.headers)).status_code == 200
        r = await h.client.post(f"{url}/outcomes", headers=admin.headers, json=ORDER)
        assert r.status_code == 201, r.text
        r = await h.client.get(f"{url}/outcomes", headers=admin.headers)
        assert [s["values"] for s in r.json()["submissions"]] == [ORDER["values"]]
        model = await h.public_model(conversation_id, admin.headers, account)
        assert [t["orderId"] for t in model["SDE"]["transaction"]] == ["A-1"]
        assert model["chattingAgentInfo"]["agentName"] == "admin"
