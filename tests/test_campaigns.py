"""Campaigns at work over HTTP: the admin API (catalog, items, revisions, If-Match), targeting
through the Monitoring engagement method, goals reached and de-duplicated, routing to the
engagement's skill, and the CLI import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

import sdehub
from sdehub.cli import main
from sdehub.store import conversations
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio

FIXTURE = Path(sdehub.__file__).parent / "demo_catalog.yaml"
ADMIN = f"/api/account/{ACCOUNT}/admin"
APP = f"/api/account/{ACCOUNT}/app/shop-web"

GOLD = {"type": "ctmrinfo", "info": {"ctype": "Gold", "customerId": "c-1"}}
SILVER = {"type": "ctmrinfo", "info": {"ctype": "silver", "customerId": "c-2"}}
BIG_CART = {"type": "cart", "total": 150.0, "currency": "USD", "numItems": 3}


def catalog() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(FIXTURE.read_text())
    return document


async def configured(h: Harness) -> dict[str, str]:
    agent = await h.agent()
    r = await h.client.put(f"{ADMIN}/catalog", headers=agent, json=catalog())
    assert r.status_code == 200, r.text
    return agent


async def engagement(h: Harness, body: dict[str, Any], **ids: str) -> httpx.Response:
    return await h.client.post(f"{APP}/engagement", params={"v": "1.1", **ids}, json=body)


async def report(
    h: Harness, sdes: list[Any], vid: str, sid: str, page_id: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"engagementAttributes": sdes}
    if page_id is not None:
        body["pageId"] = page_id
    r = await h.client.put(f"{APP}/report", params={"v": "1.1", "vid": vid, "sid": sid}, json=body)
    assert r.status_code == 200, r.text
    return r


async def goals(h: Harness, agent: dict[str, str]) -> list[dict[str, Any]]:
    r = await h.client.get(f"{ADMIN}/goals/reached", headers=agent)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


# --- the admin API --------------------------------------------------------------------------


async def test_catalog_round_trip_with_revisions(h: Harness) -> None:
    agent = await h.agent()
    r = await h.client.get(f"{ADMIN}/catalog", headers=agent)
    assert r.status_code == 200
    assert r.json()["revision"] == 0 and r.json()["catalog"]["campaigns"] == []
    r = await h.client.put(f"{ADMIN}/catalog", headers=agent, json=catalog())
    assert r.status_code == 200 and r.json() == {"revision": 1}
    assert r.headers["etag"] == '"1"'
    r = await h.client.get(f"{ADMIN}/catalog", headers=agent)
    body = r.json()
    assert body["revision"] == 1 and body["author"] == "agent-1"
    assert [c["id"] for c in body["catalog"]["campaigns"]] == [61, 62]
    assert body["catalog"]["campaigns"][0]["engagements"][0]["connectorId"] == 81


async def test_invalid_catalog_names_every_problem_and_stores_nothing(h: Harness) -> None:
    agent = await h.agent()
    bad = catalog()
    bad["campaigns"][0]["goalId"] = 999
    bad["campaigns"][1]["engagements"][0]["skillId"] = 998
    bad["visitorBehaviors"][0]["conditions"][0]["min"] = "lots"
    r = await h.client.put(f"{ADMIN}/catalog", headers=agent, json=bad)
    assert r.status_code == 400
    paths = {e["path"] for e in r.json()["error"]["errors"]}
    assert paths == {"$.visitorBehaviors[0].conditions[0].min"}  # types first
    bad["visitorBehaviors"][0]["conditions"][0]["min"] = 100
    r = await h.client.put(f"{ADMIN}/catalog", headers=agent, json=bad)
    assert r.status_code == 400
    paths = {e["path"] for e in r.json()["error"]["errors"]}
    assert paths == {"$.campaigns[0].goalId", "$.campaigns[1].engagements[0].skillId"}
    r = await h.client.get(f"{ADMIN}/catalog", headers=agent)
    assert r.json()["revision"] == 0


async def test_if_match_guards_against_lost_updates(h: Harness) -> None:
    agent = await configured(h)
    r = await h.client.put(f"{ADMIN}/catalog", headers={**agent, "If-Match": '"0"'}, json=catalog())
    assert r.status_code == 409
    assert "revision 1" in r.json()["error"]["message"]
    r = await h.client.put(f"{ADMIN}/catalog", headers={**agent, "If-Match": "1"}, json=catalog())
    assert r.status_code == 200 and r.json()["revision"] == 2
    r = await h.client.put(
        f"{ADMIN}/skills/13", headers={**agent, "If-Match": '"1"'}, json={"name": "VIP"}
    )
    assert r.status_code == 409
    r = await h.client.put(f"{ADMIN}/catalog", headers={**agent, "If-Match": "two"}, json={})
    assert r.status_code == 400


async def test_items_put_get_delete(h: Harness) -> None:
    agent = await configured(h)
    r = await h.client.put(f"{ADMIN}/skills/13", headers=agent, json={"name": "VIP desk"})
    assert r.status_code == 200 and r.json()["revision"] == 2
    r = await h.client.get(f"{ADMIN}/skills/13", headers=agent)
    assert r.json() == {"id": 13, "name": "VIP desk"}
    r = await h.client.get(f"{ADMIN}/skills", headers=agent)
    assert [s["id"] for s in r.json()] == [11, 12, 13]
    # Replacing keeps the item's place.
    r = await h.client.put(f"{ADMIN}/skills/11", headers=agent, json={"id": 11, "name": "Shop"})
    assert [s["name"] for s in (await h.client.get(f"{ADMIN}/skills", headers=agent)).json()] == [
        "Shop",
        "Support",
        "VIP desk",
    ]
    # A skill an engagement uses cannot go: the catalog would be invalid.
    r = await h.client.delete(f"{ADMIN}/skills/12", headers=agent)
    assert r.status_code == 400
    assert r.json()["error"]["errors"][0]["path"] == "$.campaigns[1].engagements[0].skillId"
    r = await h.client.delete(f"{ADMIN}/skills/13", headers=agent)
    assert r.status_code == 200 and r.json()["revision"] == 4
    assert (await h.client.delete(f"{ADMIN}/skills/13", headers=agent)).status_code == 404
    assert (await h.client.get(f"{ADMIN}/skills/13", headers=agent)).status_code == 404
    assert (await h.client.get(f"{ADMIN}/gadgets", headers=agent)).status_code == 404
    r = await h.client.put(f"{ADMIN}/skills/14", headers=agent, json={"id": 15})
    assert r.status_code == 400 and r.json()["error"]["errors"][0]["path"] == "$.id"
    r = await h.client.get(f"{ADMIN}/catalog/revisions", headers=agent)
    assert [x["revision"] for x in r.json()] == [4, 3, 2, 1]
    assert r.json()[0]["note"] == "delete skills 13"
    r = await h.client.get(f"{ADMIN}/catalog/revisions/2", headers=agent)
    assert [s["id"] for s in r.json()["catalog"]["skills"]] == [11, 12, 13]


async def test_engagements_of_a_campaign(h: Harness) -> None:
    agent = await configured(h)
    engagement_ = {"name": "Checkout chat", "skillId": 11, "onsiteLocations": [31]}
    r = await h.client.put(f"{ADMIN}/campaigns/61/engagements/73", headers=agent, json=engagement_)
    assert r.status_code == 200, r.text
    r = await h.client.get(f"{ADMIN}/campaigns/61", headers=agent)
    assert [e["id"] for e in r.json()["engagements"]] == [71, 73]
    r = await h.client.delete(f"{ADMIN}/campaigns/61/engagements/73", headers=agent)
    assert r.status_code == 200
    r = await h.client.put(f"{ADMIN}/campaigns/69/engagements/73", headers=agent, json={})
    assert r.status_code == 404 and "69" in r.json()["error"]["message"]


async def test_admin_needs_an_agent(h: Harness) -> None:
    r = await h.client.get(f"{ADMIN}/catalog")
    assert r.status_code == 401
    r = await h.client.get(f"{ADMIN}/catalog", headers={"Authorization": await h.app_jwt()})
    assert r.status_code == 401


# --- targeting through the engagement method -------------------------------------------------


async def test_engagement_offered_when_targeting_says_so(h: Harness) -> None:
    agent = await configured(h)
    r = await engagement(
        h, {"entryPoints": ["sec://checkout"], "engagementAttributes": [GOLD, BIG_CART]}
    )
    assert r.status_code == 201, r.text
    (detail,) = r.json()["engagementDetails"]
    assert detail == {
        "campaignId": 61,
        "engagementId": 71,
        "engagementRevision": 3,
        "contextId": "1",
        "status": "expose",
        "connectorId": 81,
        "windowId": 91,
        "language": "en-US",
        "skillId": 11,
    }
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    # Asking again in the same visit gives the same engagement context.
    r = await engagement(h, {"entryPoints": ["sec://checkout"]}, vid=vid, sid=sid)
    assert r.status_code == 200
    assert r.json()["engagementDetails"][0]["contextId"] == "1"
    page_id = r.json()["pageId"]
    # The offered engagement's impressions are accepted now (on the page it was offered on).
    display = {"type": "impDisplay", "campaign": 61, "engId": 71, "revision": 3,
               "eContext": [{"type": "engagementContext", "id": "1"}]}  # fmt: skip
    await report(h, [display], vid, sid, page_id)
    r = await h.client.get(
        f"{ADMIN}/targeting/explain", params={"vid": vid, "sid": sid}, headers=agent
    )
    assert r.status_code == 200
    print(r.json())
    chosen = [v for v in r.json() if v["chosen"]]
    assert [(v["campaignId"], v["engagementId"]) for v in chosen] == [(61, 71)]


@pytest.mark.parametrize(
    ("sdes", "section"),
    [
        ([SILVER, BIG_CART], "checkout"),  # not in the audience
        ([GOLD, {**BIG_CART, "total": 40.0}], "checkout"),  # behaviour does not hold
        ([GOLD, BIG_CART], "home"),  # wrong place
        ([BIG_CART], "checkout"),  # Customer Info never reported: the audience rule fails
    ],
    ids=["audience", "behaviour", "location", "unreported"],
)
async def test_no_engagement_when_targeting_says_no(
    h: Harness, sdes: list[Any], section: str
) -> None:
    await configured(h)
    r = await engagement(h, {"entryPoints": [f"sec://{section}"], "engagementAttributes": sdes})
    assert r.status_code == 201
    assert "engagementDetails" not in r.json()


async def test_error_behaviour_offers_the_support_engagement(h: Harness) -> None:
    await configured(h)
    error = {"type": "error", "error": {"message": "card declined", "code": "E-PAY"}}
    r = await engagement(h, {"entryPoints": ["sec://home"], "engagementAttributes": [error]})
    assert r.json()["engagementDetails"][0]["engagementId"] == 72


async def test_explain_needs_a_visit(h: Harness) -> None:
    agent = await configured(h)
    r = await h.client.get(
        f"{ADMIN}/targeting/explain", params={"vid": "a", "sid": "b"}, headers=agent
    )
    assert r.status_code == 404
    r = await h.client.get(f"{ADMIN}/targeting/explain", headers=agent)
    assert r.status_code == 400


# --- goals ---------------------------------------------------------------------------------


async def test_purchase_goal_reached_once_per_order(h: Harness) -> None:
    agent = await configured(h)
    r = await engagement(
        h, {"entryPoints": ["sec://checkout"], "engagementAttributes": [GOLD, BIG_CART]}
    )
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    display = {"type": "impDisplay", "campaign": 61, "engId": 71, "revision": 3}
    await report(h, [display], vid, sid)
    order = {"type": "purchase", "total": 120.0, "currency": "EUR", "orderId": "DRV1534XC"}
    await report(h, [order], vid, sid)
    await report(h, [order], vid, sid)  # the same order again: flagged, not counted
    await report(h, [{**order, "orderId": "small", "total": 20.0}], vid, sid)  # under minTotal
    rows = await goals(h, agent)
    assert [(g["goalId"], g["campaignId"], g["engagementId"], g["value"], g["currency"],
             g["duplicate"]) for g in rows] == [
        ("21", "61", "71", 120.0, "EUR", False),
        ("21", "61", "71", 120.0, "EUR", True),
    ]  # fmt: skip
    assert rows[0]["dedupKey"] == rows[1]["dedupKey"]
    assert rows[0]["source"] == "monitoring"


async def test_service_activity_goal_through_the_ea_api(h: Harness) -> None:
    agent = await configured(h)
    r = await engagement(h, {"entryPoints": ["sec://home"]})
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    service = {
        "type": "service",
        "service": {"topic": "Order Status", "status": 12, "serviceId": "s-1"},
    }
    r = await h.client.put(
        f"/api/account/{ACCOUNT}/monitoring/visitors/{vid}/visits/current/events",
        params={"v": "1", "sid": sid},
        headers={"Authorization": await h.app_jwt()},
        json=[service, {**service, "service": {**service["service"], "status": 3}}],
    )
    assert r.status_code == 200, r.text
    rows = await goals(h, agent)
    # Not exposed to any engagement of the campaign: a self-serve conversion, no campaign.
    assert [(g["goalId"], g["campaignId"], g["source"]) for g in rows] == [("22", None, "eaapi")]


# --- conversations from engagements ---------------------------------------------------------


async def test_conversation_from_an_engagement_goes_to_its_skill(h: Harness) -> None:
    await configured(h)
    r = await engagement(
        h, {"entryPoints": ["sec://checkout"], "engagementAttributes": [GOLD, BIG_CART]}
    )
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    connector = await h.connector()
    conversation_id = await h.open_conversation(
        connector,
        skillId="-1",
        campaignInfo={"campaignId": "61", "engagementId": "71"},
        conversationContext={"visitorId": vid, "sessionId": sid, "interactionContextId": "1",
                             "type": "SharkContext"},
    )  # fmt: skip
    stored = await h.svc.db.read(
        lambda c: conversations.get_conversation(c, ACCOUNT, conversation_id)
    )
    assert stored is not None and stored.skill_id == "11"
    r = await engagement(h, {}, vid=vid, sid=sid)
    assert r.json()["engagementDetails"][0]["status"] == "conversation"


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_import_and_show(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["campaigns", "import", "3003", str(FIXTURE), "--db", db, "--setting", "emulator", "true"],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "account 3003: catalog revision 1"
    result = runner.invoke(main, ["campaigns", "show", "3003", "--db", db])
    assert result.exit_code == 0, result.output
    assert '"revision": 1' in result.output and '"Rescue big carts"' in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaigns: [{id: 1, goalId: 5}]\n")
    result = runner.invoke(main, ["campaigns", "import", "3003", str(bad), "--db", db])
    assert result.exit_code == 1
    assert "$.campaigns[0].goalId: no goal has id 5" in result.output


async def test_page_views_goal_counts_pages_of_the_visit(h: Harness) -> None:
    agent = await h.agent()
    small = {
        "goals": [{"id": 1, "type": "pageViews", "pages": 3, "countOncePerVisit": True}],
        "campaigns": [{"id": 2, "goalId": 1, "status": "Published", "engagements": [{"id": 3}]}],
    }
    r = await h.client.put(f"{ADMIN}/catalog", headers=agent, json=small)
    assert r.status_code == 200, r.text
    r = await engagement(h, {"entryPoints": ["sec://home"]})
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    await report(h, [BIG_CART], vid, sid, "page-2")
    await report(h, [BIG_CART], vid, sid, "page-2")  # the same page again: not a new view
    assert await goals(h, agent) == []
    await report(h, [BIG_CART], vid, sid, "page-3")
    await report(h, [BIG_CART], vid, sid, "page-4")  # counted once per visit
    rows = await goals(h, agent)
    assert [(g["goalId"], g["goalType"], g["duplicate"]) for g in rows] == [
        ("1", "pageViews", False)
    ]
