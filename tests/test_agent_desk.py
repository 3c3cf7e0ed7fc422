"""Agents' skills, the routing queue and the agent's conversation actions over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from sdehub.store import agents as agent_store
from sdehub.store import conversations as conv_store
from tests.harness import ACCOUNT, Harness, text

pytestmark = pytest.mark.anyio

BASE = f"/api/account/{ACCOUNT}"
DESK = f"{BASE}/agent-workspace/conversations"
SKILLS = [{"id": 11, "name": "Sales"}, {"id": 12, "name": "Support"}]


class Agent:
    def __init__(self, h: Harness, headers: dict[str, str], user_id: str) -> None:
        self.h, self.headers, self.id = h, headers, user_id

    async def post(self, path: str, body: Any = None, status: int = 200) -> Any:
        r = await self.h.client.post(f"{DESK}/{path}", headers=self.headers, json=body)
        assert r.status_code == status, r.text
        return r.json() if r.content else None

    async def desk(self) -> dict[str, Any]:
        r = await self.h.client.get(DESK, headers=self.headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def waiting(self) -> list[str]:
        return [c["conversationId"] for c in (await self.desk())["waiting"]]

    async def mine(self) -> list[str]:
        return [c["conversationId"] for c in (await self.desk())["mine"]]


async def login(h: Harness, login: str, account: str = ACCOUNT) -> Agent:
    r = await h.client.post(
        f"/api/account/{account}/login", params={"v": "1.3"},
        json={"username": login, "password": "pw"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    return Agent(h, {"Authorization": f"Bearer {body['bearer']}"}, body["config"]["userId"])


async def setup(h: Harness, account: str = ACCOUNT) -> None:
    admin = await login(h, "admin", account)
    r = await h.client.put(
        f"/api/account/{account}/admin/catalog", headers=admin.headers, json={"skills": SKILLS}
    )
    assert r.status_code == 200, r.text


async def with_skills(h: Harness, login_name: str, *skills: Any) -> Agent:
    agent = await login(h, login_name)
    r = await h.client.put(
        f"{BASE}/admin/agents/{agent.id}", headers=agent.headers, json={"skillIds": list(skills)}
    )
    assert r.status_code == 200, r.text
    return agent


async def test_an_agents_skills_come_from_the_catalog(h: Harness) -> None:
    await setup(h)
    agent = await login(h, "ann")
    url = f"{BASE}/admin/agents/{agent.id}"
    r = await h.client.get(url, headers=agent.headers)
    assert r.json() == {"agentId": agent.id, "skillIds": []}
    r = await h.client.put(url, headers=agent.headers, json={"skillIds": [12, "11", 12]})
    assert r.status_code == 200 and r.json()["skillIds"] == ["11", "12"]
    r = await h.client.put(url, headers=agent.headers, json={"skillIds": ["11", "99"]})
    assert r.status_code == 400 and r.json()["error"]["errors"][0]["path"] == "$.skillIds[1]"
    r = await h.client.put(url, headers=agent.headers, json={"skills": []})
    assert r.status_code == 400
    r = await h.client.get(f"{BASE}/admin/agents/424242", headers=agent.headers)
    assert r.status_code == 404
    r = await h.client.get(url)
    assert r.status_code == 401
    # Still the catalog's own collections under /admin/{collection}.
    r = await h.client.get(f"{BASE}/admin/skills", headers=agent.headers)
    assert r.status_code == 200


async def test_the_queue_offers_my_skills_and_the_unassigned(h: Harness) -> None:
    await setup(h)
    sales = await with_skills(h, "sales", 11)
    support = await with_skills(h, "support", 12)
    opened = []
    for ext_id, skill in (("c1", {"skillId": "11"}), ("c2", {"skillId": "12"}), ("c3", {})):
        h.clock.advance(1000)  # served oldest first
        opened.append(await h.open_conversation(await h.connector(ext_id=ext_id), **skill))
    c1, c2, c3 = opened
    assert await sales.waiting() == [c1, c3]
    assert await support.waiting() == [c2, c3]
    desk = await sales.post(f"{c3}/accept")
    assert [c["conversationId"] for c in desk["mine"]] == [c3]
    assert desk["mine"][0]["skillId"] is None
    assert await sales.waiting() == [c1]
    assert await support.waiting() == [c2]
    r = await h.client.post(f"{DESK}/{c3}/accept", headers=support.headers)
    assert r.status_code == 409 and "taken" in r.json()["error"]["message"], r.text
    r = await h.client.post(f"{DESK}/nope/accept", headers=support.headers)
    assert r.status_code == 404


async def test_an_agent_line_reaches_the_transcript(h: Harness) -> None:
    await setup(h)
    agent = await with_skills(h, "ann", 11)
    connector = await h.connector()
    conversation_id = await h.open_conversation(connector, skillId="11")
    await h.post_send(connector, text(conversation_id, "hello"))
    await agent.post(f"{conversation_id}/messages", {"text": "no"}, status=403)
    await agent.post(f"{conversation_id}/accept")
    sent = await agent.post(f"{conversation_id}/messages", {"text": "hi, how can I help?"}, 201)
    assert sent == {"sequence": 1}
    lines = await h.public_model(conversation_id, agent.headers, path="chatTranscript.lines")
    assert [(line["source"], line["text"], line["by"]) for line in lines] == [
        ("visitor", "hello", "Visitor"),
        ("agent", "hi, how can I help?", agent.id),
    ]
    # The consumer's next message takes the following sequence.
    r = await h.post_send(connector, text(conversation_id, "thanks"))
    assert r.json()["body"]["sequence"] == 2
    await agent.post(f"{conversation_id}/messages", {"text": ""}, status=400)
    await agent.post(f"{conversation_id}/messages", {"txt": "x"}, status=400)


async def test_a_transfer_returns_the_conversation_to_another_queue(h: Harness) -> None:
    await setup(h)
    sales = await with_skills(h, "sales", 11)
    support = await with_skills(h, "support", 12)
    conversation_id = await h.open_conversation(await h.connector(), skillId="11")
    await sales.post(f"{conversation_id}/accept")
    await support.post(f"{conversation_id}/transfer", {"skillId": 12}, status=403)
    await sales.post(f"{conversation_id}/transfer", {"skillId": 99}, status=400)
    done = await sales.post(f"{conversation_id}/transfer", {"skillId": 12, "reason": "billing"})
    assert done == {
        "conversationId": conversation_id, "fromAgentId": sales.id, "fromSkillId": "11",
        "toSkillId": "12", "reason": "billing", "time": h.clock.now_ms(),
    }  # fmt: skip
    assert await sales.mine() == [] and await sales.waiting() == []
    assert await support.waiting() == [conversation_id]
    await sales.post(f"{conversation_id}/messages", {"text": "still here?"}, status=403)
    await support.post(f"{conversation_id}/accept")
    model = await h.public_model(conversation_id, support.headers, path="chatInfo")
    assert model["chatSkill"] == "12"
    # ... and back again: the same agent may hold it a second time.
    await support.post(f"{conversation_id}/transfer", {"skillId": "11"})
    await sales.post(f"{conversation_id}/accept")
    assert await sales.mine() == [conversation_id]
    rows = await h.svc.db.read(lambda c: agent_store.transfers_of(c, ACCOUNT, conversation_id))
    assert [(t.number, t.from_agent_id, t.from_skill_id, t.to_skill_id) for t in rows] == [
        (0, sales.id, "11", "12"),
        (1, support.id, "12", "11"),
    ]
    # Messaging Interactions reports them as LivePerson's transfers records.
    r = await h.client.post(
        f"/messaging_history/api/account/{ACCOUNT}/conversations/conversation/search",
        headers=sales.headers,
        json={"conversationId": conversation_id, "contentToRetrieve": ["transfers"]},
    )
    assert r.status_code == 200, r.text
    transfers = r.json()["conversationHistoryRecords"][0]["transfers"]
    assert [{k: t[k] for k in ("sourceSkillId", "sourceSkillName", "targetSkillId",
                                "targetSkillName", "sourceAgentId", "by", "reason",
                                "sourceAgentLoginName")} for t in transfers] == [
        {"sourceSkillId": 11, "sourceSkillName": "Sales", "targetSkillId": 12,
         "targetSkillName": "Support", "sourceAgentId": sales.id, "by": sales.id,
         "reason": "Skill", "sourceAgentLoginName": "sales"},
        {"sourceSkillId": 12, "sourceSkillName": "Support", "targetSkillId": 11,
         "targetSkillName": "Sales", "sourceAgentId": support.id, "by": support.id,
         "reason": "Skill", "sourceAgentLoginName": "support"},
    ]  # fmt: skip
    assert transfers[0]["contextData"] == {"transferReason": "billing"}
    assert transfers[0]["timeL"] == done["time"] and transfers[0]["time"].endswith("+0000")


async def test_closing_ends_the_conversation_for_everyone(h: Harness) -> None:
    await setup(h)
    agent = await with_skills(h, "ann", 11)
    other = await with_skills(h, "bob", 11)
    connector = await h.connector()
    conversation_id = await h.open_conversation(connector, skillId="11")
    await agent.post(f"{conversation_id}/accept")
    await other.post(f"{conversation_id}/close", status=403)
    await agent.post(f"{conversation_id}/close", status=204)
    conversation = await h.svc.db.read(
        lambda c: conv_store.get_conversation(c, ACCOUNT, conversation_id)
    )
    assert conversation is not None
    assert (conversation.state, conversation.close_reason) == ("CLOSE", "AGENT")
    assert await agent.mine() == [] and await other.waiting() == []
    await agent.post(f"{conversation_id}/close", status=409)
    await agent.post(f"{conversation_id}/messages", {"text": "x"}, status=409)
    await other.post(f"{conversation_id}/accept", status=409)
    r = await h.post_send(connector, text(conversation_id, "hello?"))
    assert r.status_code == 400
    # The consumer may open a new one.
    await h.open_conversation(connector)


async def test_another_accounts_conversations_stay_out_of_reach(h: Harness) -> None:
    await setup(h)
    await setup(h, "2002")
    mine = await with_skills(h, "ann", 11)
    theirs = await h.open_conversation(await h.connector("2002"), account="2002")
    assert theirs not in await mine.waiting()
    for action, body in (("accept", None), ("messages", {"text": "x"}),
                         ("transfer", {"skillId": 11}), ("close", None)):  # fmt: skip
        r = await h.client.post(f"{DESK}/{theirs}/{action}", headers=mine.headers, json=body)
        assert r.status_code == 404, (action, r.text)
    # A bearer of account 1001 is no bearer for account 2002.
    r = await h.client.get("/api/account/2002/agent-workspace/conversations", headers=mine.headers)
    assert r.status_code == 401
