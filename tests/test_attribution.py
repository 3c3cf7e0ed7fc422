"""Which SDEs belong to which conversation: the messaging attribution window (12 h before the
start, while open, 12 h after the close), driven through the Connector API with a manual clock."""

from __future__ import annotations

import pytest

from sdehub.ingest import HOUR_MS, record
from sdehub.model.types import CartUpdate, SearchContent
from sdehub.store.events import Origin
from tests.harness import Harness, close, profile, request_conversation

pytestmark = pytest.mark.anyio
GOLD = {"type": "ctmrinfo", "info": {"ctype": "gold"}}


async def customer_types(h: Harness, conversation_id: str) -> list[str]:
    details = await h.public_model(conversation_id, await h.agent(), path="SDE.customerDetails")
    return [d["type"] for d in details]


@pytest.mark.parametrize(("gap_hours", "attributed"), [(6, True), (11.9, True), (12.5, False)])
async def test_sdes_before_the_start(h: Harness, gap_hours: float, attributed: bool) -> None:
    headers = await h.connector()
    first = await h.open_conversation(headers, GOLD)
    await h.post_send(headers, close(first))
    h.clock.advance(int(gap_hours * HOUR_MS))
    headers = await h.connector()  # AppJWTs last an hour: take a fresh one, same consumer
    r = await h.post_conversation(headers, [profile(), request_conversation()])
    second = r.json()[1]["body"]["conversationId"]
    assert await customer_types(h, second) == (["gold"] if attributed else [])


@pytest.mark.parametrize(("after_hours", "attributed"), [(1, True), (11, True), (13, False)])
async def test_sdes_after_the_close(h: Harness, after_hours: float, attributed: bool) -> None:
    headers = await h.connector()
    conversation_id = await h.open_conversation(headers)
    await h.post_send(headers, close(conversation_id))
    h.clock.advance(int(after_hours * HOUR_MS))
    headers = await h.connector()
    r = await h.post_send(headers, profile({"type": "ctmrinfo", "info": {"ctype": "late"}}))
    assert r.status_code == 200, r.text
    assert await customer_types(h, conversation_id) == (["late"] if attributed else [])


async def test_sdes_of_the_linked_visit_belong_to_the_conversation(h: Harness) -> None:
    window = h.svc.messaging.window_ms
    visit = Origin(source="webtag", authenticated=False, visitor_id="V1", session_id="S1")
    other = Origin(source="webtag", authenticated=False, visitor_id="V2", session_id="S2")
    now = h.clock.now_ms()
    cart = [CartUpdate(total=30.0, numItems=2)]
    await h.svc.db.write(record, "1001", cart, visit, now_ms=now, window_ms=window)
    elsewhere = [SearchContent(keywords=["not mine"])]
    await h.svc.db.write(record, "1001", elsewhere, other, now_ms=now, window_ms=window)
    h.clock.advance(60_000)
    headers = await h.connector()
    conversation_id = await h.open_conversation(
        headers, conversationContext={"visitorId": "V1", "sessionId": "S1", "type": "SharkContext"}
    )
    model = await h.public_model(conversation_id, await h.agent())
    shown = model["SDE"]["shoppingCart"]
    assert [(c["cartTotal"], c["numItems"]) for c in shown] == [("30.0", 2)]
    assert shown[0]["_meta"]["source"] == "webtag" and shown[0]["_meta"]["authenticated"] is False
    assert model["SDE"]["searchContent"]["keywords"] == []

    # Reported on the visit while the conversation is open: attributed as it arrives.
    refund = [SearchContent(keywords=["refund"])]
    await h.svc.db.write(record, "1001", refund, visit, now_ms=h.clock.now_ms(), window_ms=window)
    keywords = await h.public_model(conversation_id, await h.agent(), path="SDE.searchContent")
    assert [k["value"] for k in keywords["keywords"]] == ["refund"]


async def test_quarantine_pages_oldest_first(h: Harness) -> None:
    headers = await h.connector()
    for i in range(5):
        await h.post_send(headers, {"id": str(i), "type": "ms.PublishEvent", "body": {}})
    agent = await h.agent()
    r = await h.client.get("/api/account/1001/quarantine", params={"limit": 2}, headers=agent)
    page = r.json()
    assert [i["body"] for i in page["items"]] == [
        '{"id":"0","type":"ms.PublishEvent","body":{}}',
        '{"id":"1","type":"ms.PublishEvent","body":{}}',
    ]
    seen = [i["id"] for i in page["items"]]
    while page["next"]:
        page = (await h.client.get(page["next"], headers=agent)).json()
        seen += [i["id"] for i in page["items"]]
    assert len(seen) == 5 and seen == sorted(seen)
    r = await h.client.get("/api/account/1001/quarantine", params={"limit": 0}, headers=agent)
    assert r.status_code == 400 and r.json()["error"]["errors"][0]["path"] == "$query.limit"
    r = await h.client.get("/api/account/1001/quarantine", params={"api": "idp.authenticate"},
                           headers=agent)  # fmt: skip
    assert r.json() == {"items": [], "next": None}
    assert (await h.client.get("/api/account/1001/quarantine")).status_code == 401
