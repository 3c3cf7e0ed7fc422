"""The same app on PostgreSQL: the connector flow, attribution and quarantine end to end.

The store's contract suite runs every query on both backends; this runs the HTTP surface on
PostgreSQL too, with a fresh account per test (the database is shared by the session).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.conftest import HarnessFactory
from tests.harness import close, profile, request_conversation, text

pytestmark = pytest.mark.anyio


@pytest.fixture
def account() -> str:
    return f"pg{uuid.uuid4().hex[:12]}"


async def test_connector_flow_on_postgres(
    make_harness: HarnessFactory, postgres_url: str, account: str
) -> None:
    async with make_harness(db=postgres_url) as h:
        headers = await h.connector(account)
        conversation_id = await h.open_conversation(
            headers,
            {"type": "ctmrinfo", "info": {"ctype": "vip", "balance": 12.5}},
            {"type": "personal", "personal": {"firstname": "Pia", "lastname": "Gres"}},
            account=account,
        )
        for i in range(3):
            r = await h.post_send(headers, text(conversation_id, f"m{i}", req_id=i), account)
            assert r.json()["body"]["sequence"] == i
        r = await h.post_send(headers, close(conversation_id), account)
        assert r.status_code == 200, r.text
        model = await h.public_model(conversation_id, await h.agent(account), account)
        assert model["SDE"]["customerDetails"][0]["balance"] == "12.5"
        assert model["visitorInfo"]["visitorName"] == "Pia Gres"
        assert [line["text"] for line in model["chatTranscript"]["lines"]] == ["m0", "m1", "m2"]


async def test_rejections_are_quarantined_on_postgres(
    make_harness: HarnessFactory, postgres_url: str, account: str
) -> None:
    async with make_harness(db=postgres_url) as h:
        headers = await h.connector(account)
        bad = [profile({"type": "personal", "personal": {"age": {"age": -1}}}),
               request_conversation(account)]  # fmt: skip
        r = await h.post_conversation(headers, bad, account)
        assert r.status_code == 400
        q = await h.client.get(f"/api/account/{account}/quarantine", headers=await h.agent(account))
        [item] = q.json()["items"]
        assert (
            item["errors"][0]["path"] == "$[0].body.authenticatedData.lp_sdes[0].personal.age.age"
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_nul_characters_are_refused_alike(
    make_harness: HarnessFactory, request: pytest.FixtureRequest, account: str, backend: str
) -> None:
    db = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    async with make_harness(db=db) as h:
        headers = await h.connector(account)
        raw = (
            '[{"id":"1","type":"userprofile.SetUserProfile","body":{"firstName":"a\\u0000b"}},'
            '{"id":"2","type":"cm.ConsumerRequestConversation","body":{"brandId":"'
            + account
            + '"}}]'
        )
        r = await h.client.post(
            f"/api/account/{account}/messaging/consumer/conversation?v=3",
            headers={**headers, "Content-Type": "application/json"},
            content=raw.encode(),
        )
        assert r.status_code == 400, r.text
        assert r.json()["body"]["errors"][0]["path"] == "$[0].body.firstName"
        q = await h.client.get(f"/api/account/{account}/quarantine", headers=await h.agent(account))
        assert q.json()["items"][0]["body"] == raw


async def test_concurrent_accepts_on_postgres_give_one_agent_the_conversation(
    make_harness: HarnessFactory, postgres_url: str, account: str
) -> None:
    async with make_harness(db=postgres_url) as h:
        agents = [await h.agent(account, f"agent-{i}") for i in range(4)]
        conversation_id = await h.open_conversation(await h.connector(account), account=account)
        url = f"/api/account/{account}/agent-workspace/conversations/{conversation_id}/accept"
        answers = await asyncio.gather(*(h.client.post(url, headers=a) for a in agents))
        assert sorted(r.status_code for r in answers) == [200, 409, 409, 409]
        r = await h.client.post(
            f"/api/account/{account}/agent-workspace/conversations/{conversation_id}/close",
            headers=agents[[r.status_code for r in answers].index(200)],
        )
        assert r.status_code == 204
