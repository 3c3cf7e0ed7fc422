"""Monitoring API (engagement, report), Engagement Attributes API and Visit Information API:
the visit lifecycle, every documented status / internalCode, quarantine, attribution."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sdehub.model.types import ServiceActivity
from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio

APP = "mobile-app-1"
BASE = f"/api/account/{ACCOUNT}/app/{APP}"
VISIT = f"/api/account/{ACCOUNT}/monitoring/visitors"
HOUR = 3_600_000

CART = {"type": "cart", "total": 30.0, "currency": "USD", "numItems": 2}
CUSTOMER = {"type": "ctmrinfo", "info": {"ctype": "gold", "customerId": "c-9f2", "balance": 120.5}}
SERVICE = {"type": "service", "service": {"topic": "order", "status": 0, "serviceId": "s-1"}}


async def engagement(h: Harness, body: Any = None, **params: str) -> httpx.Response:
    query = {"v": "1.0", **params}
    if body is None:
        return await h.client.post(f"{BASE}/engagement", params=query)
    return await h.client.post(f"{BASE}/engagement", params=query, json=body)


async def report(h: Harness, body: Any, **params: str) -> httpx.Response:
    return await h.client.put(f"{BASE}/report", params={"v": "1.1", **params}, json=body)


async def visit(h: Harness, **body: Any) -> tuple[str, str]:
    r = await engagement(h, body or {"entryPoints": ["sec://Sport"]})
    assert r.status_code == 201, r.text
    return r.json()["visitorId"], r.json()["sessionId"]


def assert_error(r: httpx.Response, status: int, code: int, *words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"time", "message", "internalCode"}
    assert body["internalCode"] == code
    assert isinstance(body["time"], int)
    for word in words:
        assert word in body["message"], body["message"]


# --- the visit lifecycle ---------------------------------------------------------------------


async def test_first_engagement_starts_a_visit_and_the_pair_continues_it(h: Harness) -> None:
    r = await engagement(h, {"entryPoints": ["sec://Sport", "lang://English"]})
    assert r.status_code == 201
    first = r.json()
    assert set(first) == {"sessionId", "visitorId", "pageId"}  # no engagement: no details
    assert first["pageId"].isdigit() and len(first["pageId"]) == 10
    r = await engagement(h, {}, vid=first["visitorId"], sid=first["sessionId"])
    assert r.status_code == 200
    assert r.json()["visitorId"] == first["visitorId"]
    assert r.json()["sessionId"] == first["sessionId"]


async def test_engagement_takes_an_empty_body(h: Harness) -> None:
    r = await engagement(h)
    assert r.status_code == 201, r.text


async def test_known_visitor_with_unknown_session_gets_a_new_session(h: Harness) -> None:
    vid, sid = await visit(h)
    r = await engagement(h, {}, vid=vid, sid="not-a-session-of-ours")
    assert r.status_code == 201
    assert r.json()["visitorId"] == vid
    assert r.json()["sessionId"] != sid
    state = await get_state(h, vid, r.json()["sessionId"])
    assert state["returningVisitor"] is True


async def test_unknown_visitor_gets_new_ids(h: Harness) -> None:
    r = await engagement(h, {}, vid="never-seen", sid="never-seen-either")
    assert r.status_code == 201
    assert r.json()["visitorId"] != "never-seen"


async def test_report_continues_the_visit_and_keeps_the_page_id(h: Harness) -> None:
    vid, sid = await visit(h)
    r = await report(h, {"engagementAttributes": [CART], "pageId": "p-77"}, vid=vid, sid=sid)
    assert r.status_code == 200, r.text
    assert r.json() == {"sessionId": sid, "visitorId": vid, "pageId": "p-77"}
    state = await get_state(h, vid, sid)
    assert [p["pageId"] for p in state["pages"]][-1] == "p-77"
    assert state["current"]["shoppingCart"][0]["cartTotal"] == "30.0"


async def test_report_override_post(h: Harness) -> None:
    vid, sid = await visit(h)
    r = await h.client.post(
        f"{BASE}/report",
        params={"v": "1.0", "vid": vid, "sid": sid},
        headers={"X-HTTP-Method-Override": "PUT"},
        json={"engagementAttributes": [CART]},
    )
    assert r.status_code == 200, r.text
    r = await h.client.post(f"{BASE}/report", params={"v": "1.0", "vid": vid, "sid": sid}, json={})
    assert_error(r, 400, 5, "X-HTTP-Method-Override")


async def test_report_by_consumer_id_alone_starts_a_visit(h: Harness) -> None:
    r = await report(h, {"engagementAttributes": [CART], "consumerId": "u-1"})
    assert r.status_code == 201, r.text
    state = await get_state(h, r.json()["visitorId"], r.json()["sessionId"])
    assert state["consumerId"] == "u-1"


async def test_identities_and_client_properties_are_kept(h: Harness) -> None:
    vid, sid = await visit(
        h,
        identities=[{"iss": "https://brand.example", "acr": "loa1", "sub": "u-77"}],
        clientProperties={"deviceFamily": "MOBILE", "os": "ANDROID", "ipAddress": "10.1.2.3"},
    )
    state = await get_state(h, vid, sid)
    assert state["consumerId"] == "u-77"
    assert state["identities"][0]["acr"] == "loa1"
    assert state["clientProperties"]["os"] == "ANDROID"
    assert state["ipAddress"] == "10.1.2.3"


async def test_session_expires_after_six_hours(h: Harness) -> None:
    vid, sid = await visit(h)
    h.clock.advance(6 * HOUR - 1)
    assert (await get_state(h, vid, sid))["sessionId"] == sid
    h.clock.advance(1)
    r = await h.client.get(
        f"{VISIT}/{vid}/visits/current/state",
        params={"v": "1", "sid": sid},
        headers=await h.agent(),
    )
    assert_error(r, 404, 12, sid)
    r = await engagement(h, {}, vid=vid, sid=sid)
    assert r.status_code == 201
    assert r.json()["visitorId"] == vid and r.json()["sessionId"] != sid


async def test_session_lifetime_is_a_setting(make_harness: HarnessFactory) -> None:
    async with make_harness(monitoring_session_hours=1) as h:
        vid, sid = await visit(h)
        h.clock.advance(HOUR)
        r = await engagement(h, {}, vid=vid, sid=sid)
        assert r.status_code == 201


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "2.0", "abc", "1.2"])
async def test_illegal_version_is_400_33(h: Harness, version: str | None) -> None:
    params = {} if version is None else {"v": version}
    r = await h.client.post(f"{BASE}/engagement", params=params, json={})
    assert_error(r, 400, 33, "version")


@pytest.mark.parametrize(("param", "code"), [("vid", 37), ("sid", 39)], ids=["visitor", "session"])
async def test_malformed_ids_are_404(h: Harness, param: str, code: int) -> None:
    r = await engagement(h, {}, **{param: "bad id with spaces"})
    assert_error(r, 404, code, "bad id with spaces")


async def test_unknown_app_installation_is_404_18(make_harness: HarnessFactory) -> None:
    async with make_harness(emulator=False) as h:
        await h.svc.accounts.add(ACCOUNT)
        r = await engagement(h, {})
        assert_error(r, 404, 18, APP)
        await h.svc.accounts.put_app(ACCOUNT, APP)
        r = await engagement(h, {})
        assert r.status_code == 201, r.text


async def test_invalid_body_is_400_5_and_quarantined(h: Harness) -> None:
    vid, sid = await visit(h)
    bad_cart = {"type": "cart", "total": "lots", "numItems": 1}
    body = {"engagementAttributes": [bad_cart, {"type": "nope"}]}
    r = await report(h, body, vid=vid, sid=sid)
    assert_error(r, 400, 5, "$.engagementAttributes[0].total")
    assert "and 1 more" in r.json()["message"]
    items = await quarantined(h)
    assert items[-1]["api"] == "monitoring.report"
    assert {e["path"] for e in items[-1]["errors"]} == {
        "$.engagementAttributes[0].total",
        "$.engagementAttributes[1].type",
    }


async def test_report_needs_engagement_attributes(h: Harness) -> None:
    vid, sid = await visit(h)
    r = await report(h, {"pageId": "x"}, vid=vid, sid=sid)
    assert_error(r, 400, 5, "engagementAttributes")


async def test_report_needs_an_identification(h: Harness) -> None:
    r = await report(h, {"engagementAttributes": [CART]})
    assert_error(r, 400, 5, "identification")
    assert (await quarantined(h))[-1]["errors"][0]["path"] == "$query.vid"


async def test_bad_json_is_400_5(h: Harness) -> None:
    r = await h.client.put(
        f"{BASE}/report",
        params={"v": "1.0"},
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_error(r, 400, 5, "JSON")


async def test_engagement_refuses_impressions(h: Harness) -> None:
    imp = {"type": "impDisplay", "campaign": 1, "engId": 2}
    r = await engagement(h, {"engagementAttributes": [imp]})
    assert_error(r, 400, 5, "report method")


async def test_impression_needs_an_engagement_context_of_the_visit(h: Harness) -> None:
    vid, sid = await visit(h)
    imp = {"type": "impDisplay", "campaign": 1, "engId": 2, "revision": 1}
    r = await report(h, {"engagementAttributes": [CART, imp]}, vid=vid, sid=sid)
    assert_error(r, 400, 5, "$.engagementAttributes[1].engId", "not offered")
    state = await get_state(h, vid, sid)
    assert state["engagementAttributes"] == []  # nothing of the rejected report was stored
    assert (await quarantined(h))[-1]["api"] == "monitoring.report"


# --- Engagement Attributes API ------------------------------------------------------------


async def put_events(
    h: Harness, vid: str, sid: str, body: Any, headers: dict[str, str], v: str = "1"
) -> httpx.Response:
    return await h.client.put(
        f"{VISIT}/{vid}/visits/current/events",
        params={"v": v, "sid": sid},
        headers=headers,
        json=body,
    )


async def test_ea_api_with_an_app_jwt(h: Harness) -> None:
    vid, sid = await visit(h)
    jwt = await h.app_jwt()
    r = await put_events(h, vid, sid, [SERVICE, CUSTOMER], {"Authorization": jwt})
    assert r.status_code == 200 and r.content == b""
    r = await put_events(h, vid, sid, [CART], {"Authorization": f"Bearer {jwt}"})
    assert r.status_code == 200
    state = await get_state(h, vid, sid)
    events = state["engagementAttributes"]
    assert [e["sdeType"] for e in events] == ["SERVICE_ACTIVITY", "CUSTOMER_INFO", "CART_STATUS"]
    stored = await h.svc.monitoring.view(ACCOUNT, vid, sid)
    assert stored is not None
    assert isinstance(stored.entries[0].record, ServiceActivity)
    assert stored.entries[0].meta.source == "eaapi"
    assert stored.entries[0].meta.actor == "app-1"
    assert stored.entries[0].meta.authenticated is False


async def test_ea_api_with_an_agent_bearer_and_override(h: Harness) -> None:
    vid, sid = await visit(h)
    agent = await h.agent()
    r = await h.client.post(
        f"{VISIT}/{vid}/visits/current/events",
        params={"v": "1", "sid": sid},
        headers={**agent, "x-http-method-override": "PUT"},
        json=[CART],
    )
    assert r.status_code == 200, r.text
    r = await h.client.post(
        f"{VISIT}/{vid}/visits/current/events",
        params={"v": "1", "sid": sid},
        headers=agent,
        json=[CART],
    )
    assert_error(r, 400, 5, "override")


async def test_ea_api_errors(h: Harness) -> None:
    vid, sid = await visit(h)
    jwt = {"Authorization": await h.app_jwt()}
    assert_error(await put_events(h, vid, sid, [CART], {}), 401, 10, "Authorization")
    r = await put_events(h, vid, sid, [CART], {"Authorization": "Bearer nonsense"})
    assert_error(r, 401, 10, "neither")
    assert_error(await put_events(h, "nobody", sid, [CART], jwt), 404, 37, "nobody")
    assert_error(await put_events(h, vid, "nosession", [CART], jwt), 404, 39, "nosession")
    assert_error(await put_events(h, vid, sid, [CART], jwt, v="2"), 400, 33)
    r = await put_events(h, vid, sid, {"type": "cart"}, jwt)
    assert_error(r, 400, 5, "array")
    r = await put_events(h, vid, sid, [{"type": "impDisplay", "campaign": 1, "engId": 2}], jwt)
    assert_error(r, 400, 5, "impression")
    assert (await quarantined(h))[-1]["api"] == "eaapi"


async def test_ea_api_sid_is_required(h: Harness) -> None:
    vid, _ = await visit(h)
    r = await h.client.put(
        f"{VISIT}/{vid}/visits/current/events",
        params={"v": "1"},
        headers={"Authorization": await h.app_jwt()},
        json=[CART],
    )
    assert_error(r, 400, 5, "sid")


async def test_ea_api_unknown_account_is_422(make_harness: HarnessFactory) -> None:
    async with make_harness(emulator=False) as h:
        r = await put_events(h, "v", "s", [CART], {"Authorization": "x"})
        assert_error(r, 422, 6, ACCOUNT)


async def test_ea_api_token_of_another_account_is_refused(h: Harness) -> None:
    vid, sid = await visit(h)
    other = await h.app_jwt(account="2002")
    r = await put_events(h, vid, sid, [CART], {"Authorization": other})
    assert_error(r, 401, 10)


# --- Visit Information API -----------------------------------------------------------------


async def get_state(h: Harness, vid: str, sid: str) -> dict[str, Any]:
    r = await h.client.get(
        f"{VISIT}/{vid}/visits/current/state",
        params={"v": "1", "sid": sid},
        headers={"Authorization": await h.app_jwt()},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def quarantined(h: Harness) -> list[dict[str, Any]]:
    r = await h.client.get(f"/api/account/{ACCOUNT}/quarantine", headers=await h.agent())
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_state_shows_the_visit_with_merged_sdes(h: Harness) -> None:
    vid, sid = await visit(h, engagementAttributes=[CUSTOMER], entryPoints=["sec://Sport"])
    more = {"type": "ctmrinfo", "info": {"cstatus": "active"}}
    h.clock.advance(1000)
    await report(h, {"engagementAttributes": [more, CART]}, vid=vid, sid=sid)
    state = await get_state(h, vid, sid)
    assert state["visitorId"] == vid and state["sessionId"] == sid
    assert state["appInstallationId"] == APP
    assert state["expirationTime"] - state["startTime"] == 6 * HOUR
    assert state["pages"][0]["entryPoints"] == ["sec://Sport"]
    assert [e["sdeType"] for e in state["engagementAttributes"]] == [
        "CUSTOMER_INFO",
        "CUSTOMER_INFO",
        "CART_STATUS",
    ]
    # Web sessions merge Customer Info (chat rules): both fields in the current value.
    current = state["current"]["customerDetails"][0]
    assert current["type"] == "gold" and current["status"] == "active"


async def test_state_errors(h: Harness) -> None:
    vid, sid = await visit(h)
    agent = await h.agent()
    url = f"{VISIT}/{vid}/visits/current/state"
    r = await h.client.get(url, params={"v": "1", "sid": "other"}, headers=agent)
    assert_error(r, 404, 39)
    r = await h.client.get(
        f"{VISIT}/someone/visits/current/state", params={"v": "1", "sid": sid}, headers=agent
    )
    assert_error(r, 404, 37)
    r = await h.client.get(url, params={"v": "1", "sid": sid})
    assert_error(r, 401, 10)


# --- linking visits and conversations -------------------------------------------------------


async def test_visit_sdes_reach_the_conversation_and_engagement_reports_it(h: Harness) -> None:
    vid, sid = await visit(h, engagementAttributes=[CUSTOMER, CART])
    connector = await h.connector()
    context = {"visitorId": vid, "sessionId": sid, "interactionContextId": "1",
               "type": "SharkContext", "lang": "en-US"}  # fmt: skip
    conversation_id = await h.open_conversation(
        connector,
        conversationContext=context,
        campaignInfo={"campaignId": "2695999112", "engagementId": "2696029112"},
    )
    agent = await h.agent()
    model = await h.public_model(conversation_id, agent, path="SDE")
    assert model["shoppingCart"][0]["cartTotal"] == "30.0"
    # SDEs reported into the visit while the conversation is open reach it too.
    await report(h, {"engagementAttributes": [SERVICE]}, vid=vid, sid=sid)
    model = await h.public_model(conversation_id, agent, path="SDE")
    assert model["serviceActivity"][0]["topic"] == "order"
    r = await engagement(h, {}, vid=vid, sid=sid)
    assert r.status_code == 200
    (detail,) = r.json()["engagementDetails"]
    assert detail["status"] == "conversation"
    assert detail["conversationId"] == conversation_id
    assert detail["campaignId"] == 2695999112 and detail["engagementId"] == 2696029112
    assert detail["contextId"] == "1"


async def test_accounts_are_isolated(h: Harness) -> None:
    vid, sid = await visit(h, engagementAttributes=[CART])
    r = await h.client.get(
        f"/api/account/2002/monitoring/visitors/{vid}/visits/current/state",
        params={"v": "1", "sid": sid},
        headers={"Authorization": await h.app_jwt(account="2002")},
    )
    assert_error(r, 404, 37)
