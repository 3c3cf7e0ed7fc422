"""The Messaging Interactions API: filters, paging, records, SDE forms, errors (agent bearer)."""

from __future__ import annotations

from typing import Any

import pytest

from sdehub.ingest import HOUR_MS, record
from sdehub.model.types import CustomerInfo, CustomerInfoData, Transaction
from sdehub.store import conversations
from sdehub.store.events import Origin
from tests.harness import ACCOUNT, Harness, close, profile, request_conversation, text

pytestmark = pytest.mark.anyio
BASE = f"/messaging_history/api/account/{ACCOUNT}/conversations"

CTMR = {"type": "ctmrinfo", "info": {"ctype": "vip", "cstatus": "active", "customerId": "C-1",
                                     "balance": -400.5}}  # fmt: skip
PERSONAL = {"type": "personal", "personal": {"firstname": "John", "lastname": "Smith",
            "company": "Acme Widgets Inc",
            "contacts": [{"email": "john@example.com", "phone": "+15550100"}]}}  # fmt: skip


async def start(h: Harness, ext_id: str, *sdes: dict[str, Any], **request: Any) -> str:
    headers = await h.connector(ext_id=ext_id)
    conversation_id = await h.open_conversation(headers, *sdes, **request)
    return conversation_id


async def unauth(h: Harness, conversation_id: str, *records: Any) -> None:
    """Report unauthenticated SDEs for the conversation's consumer (as a web tag would)."""

    now = h.clock.now_ms()  # the closure runs in the writer: it must not hold the harness

    def write(conn: Any) -> None:
        conv = conversations.get_conversation(conn, ACCOUNT, conversation_id)
        assert conv is not None
        origin = Origin(source="api", authenticated=False, consumer_id=conv.consumer_id)
        record(conn, ACCOUNT, list(records), origin, now_ms=now, window_ms=12 * HOUR_MS)

    await h.svc.db.write(write)


def window(h: Harness) -> dict[str, int]:
    now = h.clock.now_ms()
    return {"from": now - HOUR_MS, "to": now + HOUR_MS}


async def search(
    h: Harness, body: dict[str, Any], agent: dict[str, str], **params: Any
) -> dict[str, Any]:
    r = await h.client.post(f"{BASE}/search", params=params, json=body, headers=agent)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


def ids(page: dict[str, Any]) -> list[str]:
    return [r["info"]["conversationId"] for r in page["conversationHistoryRecords"]]


async def test_record_has_info_messages_participants_and_double_wrapped_sdes(h: Harness) -> None:
    agent = await h.agent()
    conv = await start(h, "c-1", CTMR, PERSONAL)
    h.clock.advance(1000)
    assert (
        await h.post_send(await h.connector(ext_id="c-1"), text(conv, "hello there"))
    ).is_success
    page = await search(h, {"start": window(h)}, agent)
    assert page["_metadata"]["count"] == 1
    rec = page["conversationHistoryRecords"][0]
    info = rec["info"]
    assert info["conversationId"] == conv and info["status"] == "OPEN"
    assert info["startTimeL"] == h.clock.now_ms() - 1000 and info["endTimeL"] == -1
    msg = rec["messageRecords"][0]
    assert msg["type"] == "TEXT_PLAIN" and msg["messageData"]["msg"]["text"] == "hello there"
    assert msg["sentBy"] == "Consumer" and msg["seq"] == 0 and msg["dialogId"] == conv
    assert rec["consumerParticipants"][0]["participantId"] == msg["participantId"]
    assert rec["agentParticipants"] == [] and rec["transfers"] == []
    assert "unAuthSdes" not in rec
    events = {e["sdeType"]: e for e in rec["sdes"]["events"]}
    customer = events["CUSTOMER_INFO"]["customerInfo"]["customerInfo"]
    assert customer == {"customerType": "vip", "customerStatus": "active", "customerId": "C-1",
                        "balance": "-400.5"}  # fmt: skip
    contact = events["PERSONAL_INFO"]["personalInfo"]["personalInfo"]["contacts"][0]
    assert contact["personalContact"]["email"] == "john@example.com"
    stamps = [e["serverTimeStamp"] for e in rec["sdes"]["events"]]
    assert all(isinstance(s, str) for s in stamps)


async def test_v2_adds_unauthenticated_sdes_with_typed_values(h: Harness) -> None:
    agent = await h.agent()
    conv = await start(h, "c-1", CTMR)
    await unauth(h, conv, Transaction(total=78.0, orderId="ORD-9"))
    body = {"start": window(h), "contentToRetrieve": ["sdes", "unAuthSdes"]}
    v1 = (await search(h, body, agent, v=1))["conversationHistoryRecords"][0]
    assert set(v1) == {"info", "sdes"}
    v2 = (await search(h, body, agent, v=2))["conversationHistoryRecords"][0]
    (purchase,) = v2["unAuthSdes"]["events"]
    assert purchase["purchase"]["total"] == 78.0 and purchase["isAuthenticated"] is False
    customer = v2["sdes"]["events"][0]["customerInfo"]["customerInfo"]
    assert customer["balance"] == -400.5


async def test_search_gives_the_latest_per_type_and_by_id_gives_all(h: Harness) -> None:
    agent = await h.agent()
    conv = await start(h, "c-1")
    for i in range(3):
        h.clock.advance(10)
        await unauth(h, conv, Transaction(total=float(i), orderId=f"O-{i}"))
    h.clock.advance(10)
    await unauth(h, conv, CustomerInfo(info=CustomerInfoData(ctype="a")))
    body = {"start": window(h), "contentToRetrieve": ["unAuthSdes"]}
    latest = (await search(h, body, agent, v=2))["conversationHistoryRecords"][0]
    assert [
        e["purchase"]["orderId"] for e in latest["unAuthSdes"]["events"] if "purchase" in e
    ] == ["O-2"]
    r = await h.client.post(
        f"{BASE}/conversation/search", params={"v": 2}, headers=agent,
        json={"conversationId": conv, "contentToRetrieve": ["unAuthSdes"]},
    )  # fmt: skip
    events = r.json()["conversationHistoryRecords"][0]["unAuthSdes"]["events"]
    assert [e["sdeType"] for e in events] == ["PURCHASE"] * 3 + ["CUSTOMER_INFO"]
    capped = await h.client.post(
        f"{BASE}/conversation/search", params={"v": 2}, headers=agent,
        json={"conversationIds": [conv], "contentToRetrieve": ["unAuthSdes"],
              "cappingConfiguration": "CustomerInfoEvent:1:desc,PurchaseEvent:2:desc"},
    )  # fmt: skip
    events = capped.json()["conversationHistoryRecords"][0]["unAuthSdes"]["events"]
    assert [e.get("purchase", {}).get("orderId") for e in events] == ["O-2", "O-1", None]
    oldest = await h.client.post(
        f"{BASE}/conversation/search", params={"v": 2}, headers=agent,
        json={"conversationIds": [conv], "contentToRetrieve": ["unAuthSdes"],
              "cappingConfiguration": "PurchaseEvent:1:asc"},
    )  # fmt: skip
    events = oldest.json()["conversationHistoryRecords"][0]["unAuthSdes"]["events"]
    assert [e.get("purchase", {}).get("orderId") for e in events] == ["O-0", None]


async def test_filters(h: Harness) -> None:
    agent = await h.agent()
    a = await start(h, "c-a", CTMR, PERSONAL)
    b = await start(h, "c-b", {"type": "ctmrinfo", "info": {"customerId": "C-2"}})
    await h.post_send(await h.connector(ext_id="c-a"), text(a, "My router is broken"))
    h.clock.advance(120_000)
    await h.post_send(await h.connector(ext_id="c-b"), close(b))
    h.clock.advance(200_000)  # a, still open, lasts longer than b
    base = {"start": window(h)}

    async def found(**body: Any) -> list[str]:
        return sorted(ids(await search(h, {**base, **body}, agent)))

    assert await found() == sorted([a, b])
    assert await found(status=["CLOSE"]) == [b]
    assert await found(status=["OPEN"]) == [a]
    assert await found(keyword="router") == [a]
    assert await found(keyword='"router is broken"') == [a]
    assert await found(keyword='"broken router"') == []
    assert await found(duration={"from": 100, "to": 200}) == [b]
    assert await found(agentIds=["999"]) == []
    assert await found(sdeSearch={"customerInfo": "C-2"}) == [b]
    assert await found(sdeSearch={"customerInfo": "c-1 VIP"}) == [a]
    assert await found(sdeSearch={"personalInfo": "smith john"}) == [a]
    assert await found(sdeSearch={"personalInfo": '"acme widgets"'}) == [a]
    assert await found(sdeSearch={"personalInfo": '"widgets acme"'}) == []
    # A phrase lies within one field.
    assert await found(sdeSearch={"personalInfo": '"john smith"'}) == []
    assert await found(sdeSearch={"personalInfo": "john@example.com"}) == [a]
    # Keys are OR-ed.
    assert await found(sdeSearch={"personalInfo": "nobody", "customerInfo": "C-2"}) == [b]
    assert await found(sdeSearch={"purchase": "C-2"}) == []
    assert await found(agentSurveySearch={"pendingAgentSurvey": [True]}) == []
    assert await found(agentSurveySearch={"pendingAgentSurvey": [False]}) == sorted([a, b])
    assert await found(agentSurveySearch={"questionKeywords": ["x"]}) == []


async def test_skill_filter(h: Harness) -> None:
    agent = await h.agent()
    conv = await start(h, "c-s")
    await h.svc.db.write(
        lambda c: conversations.update_conversation(c, ACCOUNT, conv, skill_id="42")
    )
    base = {"start": window(h)}
    assert ids(await search(h, {**base, "skillIds": [42]}, agent)) == [conv]
    assert ids(await search(h, {**base, "skillIds": ["7"]}, agent)) == []


async def test_user_update_searches_the_consumer_profile(h: Harness) -> None:
    agent = await h.agent()
    headers = await h.connector(ext_id="c-u")
    r = await h.post_conversation(headers, [profile(firstName="Zelda"), request_conversation()])
    conv = r.json()[1]["body"]["conversationId"]
    page = await search(h, {"start": window(h), "sdeSearch": {"userUpdate": "zelda"}}, agent)
    assert ids(page) == [conv]


async def test_a_new_sde_is_searchable_at_once(h: Harness) -> None:
    agent = await h.agent()
    conv = await start(h, "c-n")
    body = {"start": window(h), "sdeSearch": {"purchase": "ORD-77"}}
    assert ids(await search(h, body, agent)) == []
    await unauth(h, conv, Transaction(total=1.0, orderId="ORD-77"))
    assert ids(await search(h, body, agent)) == [conv]


async def test_a_visits_earlier_sdes_become_searchable_with_its_conversation(h: Harness) -> None:
    agent = await h.agent()
    base = f"/api/account/{ACCOUNT}/app/web-1"
    r = await h.client.post(f"{base}/engagement", params={"v": "1.1"}, json={})
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    order = {"type": "purchase", "total": 9.5, "orderId": "ORD-VISIT-1"}
    r = await h.client.put(
        f"{base}/report", params={"v": "1.1", "vid": vid, "sid": sid},
        json={"engagementAttributes": [order]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    body = {"start": window(h), "sdeSearch": {"purchase": "ORD-VISIT-1"}}
    assert ids(await search(h, body, agent)) == []  # no conversation yet
    h.clock.advance(60_000)
    conv = await start(h, "c-visit", conversationContext={"visitorId": vid, "sessionId": sid})
    assert ids(await search(h, body, agent)) == [conv]


async def test_paging_and_metadata_links(h: Harness) -> None:
    agent = await h.agent()
    made = []
    for i in range(5):
        made.append(await start(h, f"c-p{i}"))
        h.clock.advance(1000)
    body = {"start": window(h)}
    first = await search(h, body, agent, limit=2, offset=0, v=2, source="test")
    meta = first["_metadata"]
    assert meta["count"] == 5 and "prev" not in meta
    assert meta["self"]["rel"] == "self" and "offset=0" in meta["self"]["href"]
    assert "offset=2" in meta["next"]["href"] and "limit=2" in meta["next"]["href"]
    assert "v=2" in meta["next"]["href"]
    assert ids(first) == made[::-1][:2]  # start:desc by default
    last = await search(h, body, agent, limit=2, offset=4)
    assert "next" not in last["_metadata"] and "offset=2" in last["_metadata"]["prev"]["href"]
    assert ids(await search(h, body, agent, sort="start:asc", limit=2)) == made[:2]


async def test_consumer_search(h: Harness) -> None:
    agent = await h.agent()
    conv = await start(h, "c-c")
    consumer = await h.svc.db.read(lambda c: conversations.get_conversation(c, ACCOUNT, conv))
    assert consumer is not None
    r = await h.client.post(
        f"{BASE}/consumer/search", headers=agent,
        json={"consumer": consumer.consumer_id, "status": ["OPEN"]},
    )  # fmt: skip
    assert r.status_code == 200 and ids(r.json()) == [conv]
    r = await h.client.post(
        f"{BASE}/consumer/search", headers=agent,
        json={"consumer": consumer.consumer_id, "status": ["CLOSE"]},
    )  # fmt: skip
    assert r.json() == {
        "_metadata": {"count": 0, "self": r.json()["_metadata"]["self"],
                      "shardsStatusResult": {"partialResult": False}},
        "conversationHistoryRecords": [],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "params", "where"),
    [
        ("search", {}, {}, "$"),
        ("search", {"start": {"from": 0}}, {}, "$.start"),
        ("search", {"start": {"from": 0, "to": 93 * 24 * HOUR_MS}}, {}, "$.start"),
        ("search", {"start": {"from": 0, "to": 1}, "status": ["DONE"]}, {}, "$.status[0]"),
        ("search", {"start": {"from": 0, "to": 1}, "sdeSearch": {"x": "y"}}, {}, "$.sdeSearch.x"),
        ("search", {"start": {"from": 0, "to": 1}}, {"limit": "101"}, "$query.limit"),
        ("search", {"start": {"from": 0, "to": 1}}, {"sort": "nope"}, "$query.sort"),
        ("search", {"start": {"from": 0, "to": 1}, "contentToRetrieve": ["x"]}, {},
         "$.contentToRetrieve"),
        ("conversation/search", {}, {}, "$"),
        ("conversation/search", {"conversationIds": ["x"] * 101}, {}, "$.conversationIds"),
        ("conversation/search", {"conversationId": "x", "cappingConfiguration": "Nope:1:desc"},
         {}, "$.cappingConfiguration[0]"),
        ("consumer/search", {"consumer": "x"}, {}, "$"),
    ],
)  # fmt: skip
async def test_errors_have_the_history_shape(
    h: Harness, path: str, body: Any, params: dict[str, str], where: str
) -> None:
    agent = await h.agent()
    r = await h.client.post(f"{BASE}/{path}", params=params, json=body, headers=agent)
    assert r.status_code == 400, r.text
    error = r.json()
    assert error["status"] == 400 and error["message"]
    assert error["errors"][0]["path"] == where


async def test_without_credentials_is_401(h: Harness) -> None:
    r = await h.client.post(f"{BASE}/search", json={"start": window(h)})
    assert r.status_code == 401 and r.json()["status"] == 401


async def test_the_range_is_widened_to_ten_minutes(h: Harness) -> None:
    agent = await h.agent()
    boundary = h.clock.now_ms() - h.clock.now_ms() % 600_000
    h.clock.advance(boundary + 60_000 - h.clock.now_ms())
    conv = await start(h, "c-r")
    # "to" one ms after the boundary is rounded up to the next one, which includes the start.
    assert ids(await search(h, {"start": {"from": boundary - 1, "to": boundary + 1}}, agent)) == [
        conv
    ]
    assert (
        ids(await search(h, {"start": {"from": boundary - 600_000, "to": boundary}}, agent)) == []
    )


async def test_accounts_do_not_see_each_other(h: Harness) -> None:
    conv = await start(h, "c-i", CTMR)
    other = await h.agent(account="1002")
    body = {"start": window(h)}
    r = await h.client.post(
        "/messaging_history/api/account/1002/conversations/search", json=body, headers=other
    )
    assert r.json()["_metadata"]["count"] == 0
    r = await h.client.post(
        "/messaging_history/api/account/1002/conversations/conversation/search",
        json={"conversationId": conv}, headers=other,
    )  # fmt: skip
    assert r.json()["conversationHistoryRecords"] == []
    # An agent of account 1001 cannot use its bearer on account 1002.
    r = await h.client.post(
        "/messaging_history/api/account/1002/conversations/search", json=body,
        headers=await h.agent(),
    )  # fmt: skip
    assert r.status_code == 401
