"""The agent workspace websocket: get/bind/unbind over the public model, pushes after SDEs from
every API, authentication and isolation (in process, on the harness's started app)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import ACCOUNT, Harness, profile, text
from tests.wsclient import Closed, WsClient

pytestmark = pytest.mark.anyio

WS = f"/api/account/{ACCOUNT}/agent-workspace/ws"
APP = f"/api/account/{ACCOUNT}/app/web-1"
CUSTOMER = {"type": "ctmrinfo", "info": {"cstatus": "gold", "customerId": "c-1"}}
CART = {"type": "cart", "total": 30.0, "currency": "USD", "numItems": 2}


def bearer(agent: dict[str, str]) -> str:
    return agent["Authorization"].removeprefix("Bearer ")


async def connect(h: Harness, agent: dict[str, str]) -> WsClient:
    ws = WsClient(h.app, WS, query=f"token={bearer(agent)}")
    await ws.__aenter__()
    assert (await ws.receive())["type"] == "ready"
    return ws


async def bind(ws: WsClient, conversation_id: str, key: str, id: Any = 1) -> list[Any]:
    """Bind; the pushes that came before the ok, as (key, newValue) pairs."""
    await ws.send({"type": "bind", "id": id, "conversationId": conversation_id, "key": key})
    pushes = []
    while (m := await ws.receive())["type"] == "push":
        assert m["conversationId"] == conversation_id
        pushes.append((m["key"], m["newValue"]))
    assert m == {"type": "ok", "id": id}, m
    return pushes


async def push(ws: WsClient) -> tuple[str, Any]:
    m = await ws.receive()
    assert m["type"] == "push", m
    return m["key"], m["newValue"]


async def visit(h: Harness) -> tuple[str, str]:
    r = await h.client.post(f"{APP}/engagement", params={"v": "1.0"}, json={})
    assert r.status_code == 201, r.text
    return r.json()["visitorId"], r.json()["sessionId"]


async def test_get_answers_the_value_at_a_path(h: Harness) -> None:
    agent = await h.agent()
    conversation_id = await h.open_conversation(await h.connector(), CUSTOMER)
    ws = await connect(h, agent)
    try:
        await ws.send({"type": "get", "id": "a", "conversationId": conversation_id,
                       "key": "SDE.customerDetails"})  # fmt: skip
        m = await ws.receive()
        assert m["type"] == "result" and m["id"] == "a" and m["key"] == "SDE.customerDetails"
        assert [d["status"] for d in m["value"]] == ["gold"]
        await ws.send({"type": "get", "id": 2, "conversationId": conversation_id, "key": "nope"})
        assert (await ws.receive()) | {"message": ""} == {"type": "error", "id": 2, "message": ""}
        await ws.send({"type": "get", "id": 3, "conversationId": "unknown", "key": "SDE"})
        assert (await ws.receive())["type"] == "error"
        await ws.send_text('{"type": "shout", "id": 4}')
        m = await ws.receive()
        assert m["type"] == "error" and m["id"] == 4
        await ws.send_text("not json")
        assert (await ws.receive())["type"] == "error"
        await ws.send_bytes(b'{"type": "get", "id": 5, "conversationId": "x", "key": "SDE"}')
        m = await ws.receive()
        assert m["type"] == "error" and m["id"] == 5  # a binary frame is read as JSON too
    finally:
        await ws.__aexit__(None, None, None)


async def test_a_bind_pushes_now_and_on_every_change_until_unbound(h: Harness) -> None:
    agent = await h.agent()
    connector = await h.connector()
    conversation_id = await h.open_conversation(connector)
    ws = await connect(h, agent)
    try:
        assert await bind(ws, conversation_id, "SDE.customerDetails") == [
            ("SDE.customerDetails", [])
        ]
        r = await h.post_send(connector, profile(CUSTOMER, req_id="9"))
        assert r.status_code == 200, r.text
        key, value = await push(ws)
        assert key == "SDE.customerDetails" and [d["status"] for d in value] == ["gold"]
        # A message changes the transcript, not the bound path: nothing is pushed.
        await h.post_send(connector, text(conversation_id, "hello"))
        await ws.nothing()
        await ws.send({"type": "unbind", "id": 5, "conversationId": conversation_id,
                       "key": "SDE.customerDetails"})  # fmt: skip
        assert await ws.receive() == {"type": "ok", "id": 5}
        await h.post_send(connector, profile({**CUSTOMER, "info": {"cstatus": "silver"}}))
        await ws.nothing()
        await ws.send({"type": "unbind", "id": 6, "conversationId": conversation_id,
                       "key": "SDE.customerDetails"})  # fmt: skip
        assert (await ws.receive())["type"] == "error"
    finally:
        await ws.__aexit__(None, None, None)


async def test_binding_a_pseudo_object_binds_each_child(h: Harness) -> None:
    agent = await h.agent()
    vid, sid = await visit(h)
    context = {"visitorId": vid, "sessionId": sid, "type": "SharkContext"}
    conversation_id = await h.open_conversation(await h.connector(), conversationContext=context)
    ws = await connect(h, agent)
    try:
        initial = await bind(ws, conversation_id, "SDE")
        keys = [k for k, _ in initial]
        assert "SDE.customerDetails" in keys and "SDE.shoppingCart" in keys
        assert all(k.startswith("SDE.") for k in keys)
        # The Monitoring API reports into the conversation's visit: one push, for the cart.
        r = await h.client.put(
            f"{APP}/report", params={"v": "1.1", "vid": vid, "sid": sid},
            json={"engagementAttributes": [CART]},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        key, value = await push(ws)
        assert key == "SDE.shoppingCart" and value[0]["cartTotal"] == "30.0"
        await ws.nothing()
        # The Engagement Attributes API too.
        jwt = await h.app_jwt()
        r = await h.client.put(
            f"/api/account/{ACCOUNT}/monitoring/visitors/{vid}/visits/current/events",
            params={"v": "1", "sid": sid}, headers={"Authorization": jwt}, json=[CUSTOMER],
        )  # fmt: skip
        assert r.status_code == 200, r.text
        key, value = await push(ws)
        assert key == "SDE.customerDetails" and value[0]["status"] == "gold"
    finally:
        await ws.__aexit__(None, None, None)


async def test_transcript_lines_push_only_the_new_lines(h: Harness) -> None:
    agent = await h.agent()
    connector = await h.connector()
    conversation_id = await h.open_conversation(connector)
    await h.post_send(connector, text(conversation_id, "first"))
    ws = await connect(h, agent)
    try:
        [(key, lines)] = await bind(ws, conversation_id, "chatTranscript.lines")
        assert key == "chatTranscript.lines" and [x["text"] for x in lines] == ["first"]
        await h.post_send(connector, text(conversation_id, "second"))
        assert [x["text"] for x in (await push(ws))[1]] == ["second"]
        r = await h.client.post(
            f"/api/account/{ACCOUNT}/agent-workspace/conversations/{conversation_id}/accept",
            headers=agent,
        )
        assert r.status_code == 200
        await ws.nothing()  # accepting adds no line
        r = await h.client.post(
            f"/api/account/{ACCOUNT}/agent-workspace/conversations/{conversation_id}/messages",
            headers=agent, json={"text": "hi"},
        )  # fmt: skip
        assert r.status_code == 201
        [line] = (await push(ws))[1]
        assert (line["source"], line["text"]) == ("agent", "hi")
    finally:
        await ws.__aexit__(None, None, None)


async def test_the_bearer_may_come_in_a_header_or_a_first_message(h: Harness) -> None:
    agent = await h.agent()
    async with WsClient(h.app, WS, headers=agent) as ws:
        assert (await ws.receive())["type"] == "ready"
    async with WsClient(h.app, WS) as ws:
        await ws.send({"type": "auth", "token": bearer(agent)})
        assert (await ws.receive())["type"] == "ready"


@pytest.mark.parametrize("how", ["bad token", "no auth message", "garbage"])
async def test_without_a_valid_bearer_the_socket_closes(h: Harness, how: str) -> None:
    ws = WsClient(h.app, WS, query="token=nope" if how == "bad token" else "")
    async with ws:
        if how == "no auth message":
            await ws.send({"type": "get", "conversationId": "x", "key": "SDE"})
        elif how == "garbage":
            await ws.send_text("{")
        m = await ws.receive()
        assert m["type"] == "error" and m["message"]
        with pytest.raises(Closed) as closed:
            await ws.receive()
        assert closed.value.code == 4401


async def test_another_accounts_bearer_and_conversations_are_refused(h: Harness) -> None:
    ours = await h.agent()
    theirs = await h.agent("2002")
    their_conversation = await h.open_conversation(await h.connector("2002"), account="2002")
    async with WsClient(h.app, WS, query=f"token={bearer(theirs)}") as ws:
        assert (await ws.receive())["type"] == "error"
        with pytest.raises(Closed):
            await ws.receive()
    ws = await connect(h, ours)
    try:
        await ws.send({"type": "bind", "id": 1, "conversationId": their_conversation,
                       "key": "chatInfo"})  # fmt: skip
        m = await ws.receive()
        assert m["type"] == "error" and m["id"] == 1
        await h.post_send(
            await h.connector("2002"), text(their_conversation, "secret"), account="2002"
        )
        await ws.nothing()
    finally:
        await ws.__aexit__(None, None, None)


async def test_an_agent_survey_answer_is_pushed(h: Harness) -> None:
    from tests.test_agent_survey import SOLD, setup, submit

    agent, conversation_id, _ = await setup(h)
    ws = await connect(h, agent)
    try:
        assert await bind(ws, conversation_id, "SDE.transaction") == [("SDE.transaction", [])]
        assert await bind(ws, conversation_id, "surveyQuestions.agentSurvey", id=2) == [
            ("surveyQuestions.agentSurvey", [])
        ]
        r = await submit(h, agent, conversation_id, SOLD, 0)
        assert r.status_code == 200, r.text
        pushed = dict([await push(ws), await push(ws)])
        assert [t["orderId"] for t in pushed["SDE.transaction"]] == ["o-1"]
        assert [a["displayName"] for a in pushed["surveyQuestions.agentSurvey"]] == [
            "Outcome",
            "Order",
        ]
    finally:
        await ws.__aexit__(None, None, None)


async def test_a_closed_socket_leaves_no_subscription_behind(h: Harness) -> None:
    agent = await h.agent()
    connector = await h.connector()
    conversation_id = await h.open_conversation(connector)
    ws = await connect(h, agent)
    await bind(ws, conversation_id, "chatTranscript.lines")
    assert h.svc.channels._local  # listening to the conversation, its consumer ...
    await ws.__aexit__(None, None, None)
    assert h.svc.channels._local == {}
    r = await h.post_send(connector, text(conversation_id, "anyone?"))
    assert r.status_code == 200


async def test_a_burst_of_lines_arrives_complete_and_in_order(h: Harness) -> None:
    agent = await h.agent()
    connector = await h.connector()
    conversation_id = await h.open_conversation(connector)
    ws = await connect(h, agent)
    try:
        await bind(ws, conversation_id, "chatTranscript.lines")
        for i in range(5):
            await h.post_send(connector, text(conversation_id, f"m{i}", req_id=i))
        got: list[str] = []
        while len(got) < 5:  # pushes may be coalesced: however many, none lost or repeated
            got += [line["text"] for line in (await push(ws))[1]]
        assert got == [f"m{i}" for i in range(5)]
        await ws.nothing()
    finally:
        await ws.__aexit__(None, None, None)


async def test_every_client_of_a_conversation_is_pushed_from_one_read(h: Harness) -> None:
    first, second = await h.agent(), await h.agent(login="agent-2", password="pw-2")
    connector = await h.connector()
    conversation_id = await h.open_conversation(connector, CUSTOMER)
    sockets = [await connect(h, first), await connect(h, first), await connect(h, second)]
    models = h.app.state.live.models
    try:
        for ws in sockets:
            await bind(ws, conversation_id, "SDE.customerDetails")
        agent_ids = []
        for ws in sockets:  # the shared model, with each agent's own agentInfo
            await ws.send({"type": "get", "id": 7, "conversationId": conversation_id,
                           "key": "agentInfo.agentId"})  # fmt: skip
            agent_ids.append((await ws.receive())["value"])
        assert agent_ids[0] == agent_ids[1] != agent_ids[2]
        reads = models.reads
        r = await h.post_send(connector, profile({**CUSTOMER, "info": {"cstatus": "silver"}}))
        assert r.status_code == 200, r.text
        for ws in sockets:
            key, value = await push(ws)
            assert [d["status"] for d in value] == ["silver"]
        assert models.reads == reads + 1
        # A later change is read again: the model built before it is not served for it.
        r = await h.post_send(connector, profile({**CUSTOMER, "info": {"cstatus": "bronze"}}))
        for ws in sockets:
            assert [d["status"] for d in (await push(ws))[1]] == ["bronze"]
        assert models.reads == reads + 2
    finally:
        for ws in sockets:
            await ws.__aexit__(None, None, None)
