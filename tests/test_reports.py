"""The reports over HTTP: facts built through the real APIs (Monitoring engagement and report,
the Engagement Attributes API, a Connector conversation with SDEs, an agent accepting it and
reporting a sale in the agent survey), goals from the demo catalog (plus a lead goal), and every
column of the goal tracker and the SDE activity report checked; CSV; parameters; isolation."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from sdehub.demo import populate
from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness
from tests.test_agent_survey import survey
from tests.test_campaigns import APP, BIG_CART, GOLD, catalog

pytestmark = pytest.mark.anyio

DAY = 86_400_000
REPORTS = f"/api/account/{ACCOUNT}/reports"
OTHER = "2002"
LEAD_GOAL = {"id": 24, "name": "Leads", "type": "lead"}
# Unpublished: it offers nothing, but its goal is evaluated (sdehub.goals).
LEAD_CAMPAIGN = {
    "id": 63, "name": "Newsletter", "goalId": 24, "status": "Unpublished",
    "engagements": [{"id": 73, "name": "Sign up", "skillId": 12, "revision": 1}],
}  # fmt: skip
SOLD_BY_AGENT = [
    {"id": 1, "questionStatus": "answer", "replyIds": [101]},
    {"id": 5, "questionStatus": "answer",
     "engAttribute": {"type": "purchase",
                      "purchase": {"total": 80.5, "currency": "USD", "orderId": "o-agent"}}},
]  # fmt: skip


async def login(
    h: Harness, account: str = ACCOUNT, user: str = "agent-1"
) -> tuple[dict[str, str], str]:
    r = await h.client.post(
        f"/api/account/{account}/login", params={"v": "1.3"},
        json={"username": user, "password": "pw"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['bearer']}"}, r.json()["config"]["userId"]


async def facts(h: Harness, account: str = ACCOUNT) -> dict[str, str]:
    """Three days of facts on ``account``; returns the ids the reports name."""
    app = APP.replace(ACCOUNT, account)
    agent, agent_id = await login(h, account)
    document = catalog()
    document["goals"].append(LEAD_GOAL)
    document["campaigns"].append(LEAD_CAMPAIGN)
    r = await h.client.put(f"/api/account/{account}/admin/catalog", headers=agent, json=document)
    assert r.status_code == 200, r.text
    r = await h.client.post(
        f"/api/account/{account}/configuration/ac-common/agent_surveys",
        params={"v": "2.0"}, headers=agent, json=survey(),
    )  # fmt: skip
    assert r.status_code == 201, r.text

    # Day 0: visit A is offered the checkout engagement (2 monitoring SDEs), a conversation
    # starts from it (1 authenticated connector SDE), agent-1 takes it; the visitor buys
    # (a monitoring purchase, then the same order again: a duplicate), and the agent reports a
    # second sale in the survey (an agent purchase).
    h.clock.advance(3_600_000)
    r = await h.client.post(
        f"{app}/engagement", params={"v": "1.1"},
        json={"entryPoints": ["sec://checkout"], "engagementAttributes": [GOLD, BIG_CART]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    connector = await h.connector(account)
    h.clock.advance(60_000)
    conversation_id = await h.open_conversation(
        connector,
        {"type": "ctmrinfo", "info": {"customerId": "c-1"}},
        account=account,
        skillId="-1",
        campaignInfo={"campaignId": "61", "engagementId": "71"},
        conversationContext={"visitorId": vid, "sessionId": sid, "type": "SharkContext"},
    )
    desk = f"/api/account/{account}/agent-workspace/conversations/{conversation_id}"
    r = await h.client.post(f"{desk}/accept", headers=agent)
    assert r.status_code in (200, 204), r.text
    h.clock.advance(60_000)
    order = {"type": "purchase", "total": 120.0, "currency": "EUR", "orderId": "o-web"}
    for _ in range(2):
        r = await h.client.put(
            f"{app}/report", params={"v": "1.1", "vid": vid, "sid": sid},
            json={"engagementAttributes": [order]},
        )  # fmt: skip
        assert r.status_code == 200, r.text
    h.clock.advance(60_000)
    r = await h.client.post(
        f"/api/account/{account}/forms/agent_survey/state",
        params={"conv": conversation_id, "skill": "11", "v": "2.0"},
        json=SOLD_BY_AGENT, headers={**agent, "x-lp-state-rev": "0"},
    )  # fmt: skip
    assert r.status_code == 200, r.text

    # Day 1: visit B, no engagement met: a service activity through the EA API (self-serve),
    # and a lead through a report.
    h.clock.advance(DAY)
    r = await h.client.post(f"{app}/engagement", params={"v": "1.1"}, json={})
    assert r.status_code == 201, r.text
    vid_b, sid_b = r.json()["visitorId"], r.json()["sessionId"]
    service = {"type": "service",
               "service": {"topic": "Order Status", "status": 12, "serviceId": "s-1"}}  # fmt: skip
    r = await h.client.put(
        f"/api/account/{account}/monitoring/visitors/{vid_b}/visits/current/events",
        params={"v": "1", "sid": sid_b},
        headers={"Authorization": await h.app_jwt(account)},
        json=[service],
    )
    assert r.status_code == 200, r.text
    lead = {"type": "lead", "lead": {"topic": "news", "value": 40, "currency": "USD",
                                     "leadId": "l-1"}}  # fmt: skip
    r = await h.client.put(
        f"{app}/report", params={"v": "1.1", "vid": vid_b, "sid": sid_b},
        json={"engagementAttributes": [lead]},
    )  # fmt: skip
    assert r.status_code == 200, r.text

    # Day 2: visitor A comes back (a new visit) and buys again: no engagement in this visit, but
    # the conversation of day 0 is within the 31-day window.
    h.clock.advance(DAY)
    r = await h.client.post(f"{app}/engagement", params={"v": "1.1", "vid": vid}, json={})
    assert r.status_code == 201, r.text
    assert r.json()["visitorId"] == vid and r.json()["sessionId"] != sid
    r = await h.client.put(
        f"{app}/report", params={"v": "1.1", "vid": vid, "sid": r.json()["sessionId"]},
        json={"engagementAttributes": [{**order, "orderId": "o-2", "total": 200.0}]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return {"agent": agent_id, "conversation": conversation_id}


async def get(h: Harness, path: str, agent: dict[str, str], **params: Any) -> httpx.Response:
    return await h.client.get(f"{REPORTS}/{path}", params=params, headers=agent)


RANGE = {"from": "2026-01-01", "to": "2026-01-03"}


def goal_row(**fields: Any) -> dict[str, Any]:
    zero = {"reportedBy": "consumer", "reportingAgentId": None, "currency": None,
            "goalsReached": 1, "assistedConversions": 0, "transactions": 0,
            "transactionValue": 0.0, "leads": 0, "leadValue": 0.0,
            "serviceActivities": 0}  # fmt: skip
    return {**zero, **fields}


def golden_goal_rows(a: str) -> list[dict[str, Any]]:
    """The goal tracker of :func:`facts` by campaign, skill, agent and day (``a``: the agent)."""
    none = {"campaignId": None, "skillId": None, "agentId": None}
    sold = {"campaignId": "61", "skillId": "11", "agentId": a, "day": "2026-01-01"}
    return [
        # The agent's sale (survey) and the visitor's (the duplicate order is not counted).
        goal_row(**sold, reportedBy="agent", reportingAgentId=a, currency="USD",
                 assistedConversions=1, transactions=1, transactionValue=80.5),
        goal_row(**sold, currency="EUR", assistedConversions=1, transactions=1,
                 transactionValue=120.0),
        # Self-serve: no engagement met and no conversation of the visitor.
        goal_row(**none, day="2026-01-02", serviceActivities=1),
        goal_row(**none, day="2026-01-02", currency="USD", leads=1, leadValue=40.0),
        # Visitor A's second visit: assisted across visits by the day-0 conversation.
        goal_row(campaignId=None, skillId="11", agentId=a, day="2026-01-03", currency="EUR",
                 assistedConversions=1, transactions=1, transactionValue=200.0),
    ]  # fmt: skip


# The SDE activity of :func:`facts`: (day, type, source, authenticated, events).
GOLDEN_SDE_ROWS = [
    ("2026-01-01", "cart", "monitoring", False, 1),
    ("2026-01-01", "ctmrinfo", "connector", True, 1),
    ("2026-01-01", "ctmrinfo", "monitoring", False, 1),
    ("2026-01-01", "purchase", "agent", False, 1),
    ("2026-01-01", "purchase", "monitoring", False, 2),
    ("2026-01-02", "lead", "monitoring", False, 1),
    ("2026-01-02", "service", "eaapi", False, 1),
    ("2026-01-03", "purchase", "monitoring", False, 1),
]


def sde_tuples(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (x["day"], x["type"], x["source"], x["authenticated"], x["events"]) for x in body["rows"]
    ]


async def test_goal_tracker_every_column(h: Harness) -> None:
    ids = await facts(h)
    agent, _ = await login(h)
    r = await get(h, "goal-tracker", agent, groupBy="campaign,skill,agent,day", **RANGE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: v for k, v in body.items() if k != "rows"} == {
        "accountId": ACCOUNT, "from": "2026-01-01", "to": "2026-01-03",
        "groupBy": ["campaign", "skill", "agent", "day"], "attributionDays": 31,
    }  # fmt: skip
    assert body["rows"] == golden_goal_rows(ids["agent"])
    # Rows list the dimensions in a fixed order, whatever the order asked.
    assert list(body["rows"][0])[:4] == ["day", "campaignId", "skillId", "agentId"]


async def test_the_same_reports_on_postgres(
    make_harness: HarnessFactory, postgres_url: str
) -> None:
    account = f"pg{uuid.uuid4().hex[:12]}"
    async with make_harness(db=postgres_url) as h:
        ids = await facts(h, account)
        agent, _ = await login(h, account)
        base = f"/api/account/{account}/reports"
        r = await h.client.get(
            f"{base}/goal-tracker", headers=agent,
            params={"groupBy": "campaign,skill,agent,day", **RANGE},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["rows"] == golden_goal_rows(ids["agent"])
        r = await h.client.get(f"{base}/sde-activity", headers=agent, params=RANGE)
        assert sde_tuples(r.json()) == GOLDEN_SDE_ROWS


async def test_goal_tracker_groupings_and_window(h: Harness) -> None:
    await facts(h)
    agent, agent_id = await login(h)
    r = await get(h, "goal-tracker", agent, groupBy="", **RANGE)
    assert r.json()["rows"] == [
        goal_row(reportedBy="agent", reportingAgentId=agent_id, currency="USD",
                 assistedConversions=1, transactions=1, transactionValue=80.5),
        goal_row(serviceActivities=1),
        goal_row(goalsReached=2, currency="EUR", assistedConversions=2, transactions=2,
                 transactionValue=320.0),
        goal_row(currency="USD", leads=1, leadValue=40.0),
    ]  # fmt: skip
    # Same visit only: the day-2 purchase is no longer assisted.
    r = await get(h, "goal-tracker", agent, groupBy="day", attributionDays="0", **RANGE)
    by_day = {(x["day"], x["currency"], x["reportedBy"]): x for x in r.json()["rows"]}
    assert by_day[("2026-01-03", "EUR", "consumer")]["assistedConversions"] == 0
    assert by_day[("2026-01-01", "EUR", "consumer")]["assistedConversions"] == 1
    # The range: day 1 alone.
    r = await get(h, "goal-tracker", agent, groupBy="skill", **{"from": "2026-01-02",
                                                               "to": "2026-01-02"})  # fmt: skip
    assert [(x["skillId"], x["serviceActivities"], x["leads"]) for x in r.json()["rows"]] == [
        (None, 1, 0), (None, 0, 1)
    ]  # fmt: skip


async def test_sde_activity_every_column(h: Harness) -> None:
    await facts(h)
    agent, _ = await login(h)
    r = await get(h, "sde-activity", agent, **RANGE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["groupBy"] == ["day", "type", "source", "authenticated"]
    assert sde_tuples(body) == GOLDEN_SDE_ROWS
    r = await get(h, "sde-activity", agent, groupBy="source,authenticated", **RANGE)
    assert r.json()["rows"] == [
        {"source": "agent", "authenticated": False, "events": 1},
        {"source": "connector", "authenticated": True, "events": 1},
        {"source": "eaapi", "authenticated": False, "events": 1},
        {"source": "monitoring", "authenticated": False, "events": 6},
    ]
    r = await get(h, "sde-activity", agent, groupBy="", **RANGE)
    assert r.json()["rows"] == [{"events": 9}]
    r = await get(
        h, "sde-activity", agent, groupBy="", **{"from": "2025-12-01", "to": "2025-12-31"}
    )
    assert r.json()["rows"] == []


async def test_csv_is_the_same_rows(h: Harness) -> None:
    await facts(h)
    agent, _ = await login(h)
    for path, group_by in (("goal-tracker", "campaign,agent,day"), ("sde-activity", None)):
        params = {**RANGE, **({"groupBy": group_by} if group_by else {})}
        rows = (await get(h, path, agent, **params)).json()["rows"]
        for ask in ({"format": "csv"}, {}):
            headers = {**agent, **({} if ask else {"Accept": "text/csv"})}
            r = await h.client.get(f"{REPORTS}/{path}", params={**params, **ask}, headers=headers)
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "text/csv; charset=utf-8"
            assert r.headers["content-disposition"] == (
                f'attachment; filename="{path}-{ACCOUNT}-2026-01-01-2026-01-03.csv"'
            )
            parsed = list(csv.DictReader(io.StringIO(r.text)))
            assert len(parsed) == len(rows) > 0
            for line, row in zip(parsed, rows, strict=True):
                assert list(line) == list(row)  # the same columns, in the same order
                for column, value in row.items():
                    assert line[column] == _csv_value(value), (column, line, row)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.mark.parametrize(
    ("path", "params", "where"),
    [
        ("goal-tracker", {"from": "2026-13-01"}, "$query.from"),
        ("goal-tracker", {"to": "yesterday"}, "$query.to"),
        ("goal-tracker", {"from": "2026-01-03", "to": "2026-01-01"}, "$query.to"),
        ("goal-tracker", {"from": "2024-01-01", "to": "2026-01-01"}, "$query.to"),
        ("goal-tracker", {"groupBy": "campaign,visitor"}, "$query.groupBy"),
        ("goal-tracker", {"groupBy": "day,day"}, "$query.groupBy"),
        ("goal-tracker", {"attributionDays": "3"}, "$query.attributionDays"),
        ("sde-activity", {"groupBy": "agent"}, "$query.groupBy"),
        ("sde-activity", {"format": "xml"}, "$query.format"),
    ],
)
async def test_bad_parameters_are_named(
    h: Harness, path: str, params: dict[str, str], where: str
) -> None:
    agent, _ = await login(h)
    r = await get(h, path, agent, **params)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert [e["path"] for e in error["errors"]] == [where]
    assert error["message"].startswith(where)


async def test_default_range_is_the_last_seven_days(h: Harness) -> None:
    h.clock.advance(10 * DAY)
    agent, _ = await login(h)
    body = (await get(h, "sde-activity", agent)).json()
    assert (body["from"], body["to"], body["rows"]) == ("2026-01-05", "2026-01-11", [])
    body = (await get(h, "sde-activity", agent, **{"from": "2026-01-02"})).json()
    assert (body["from"], body["to"]) == ("2026-01-02", "2026-01-08")


async def test_another_accounts_data_is_never_counted(h: Harness) -> None:
    await facts(h)
    agent, _ = await login(h)
    every_day = {"from": "2026-01-01", "to": "2026-01-31"}
    before = {
        path: (await get(h, path, agent, groupBy="day", **every_day)).json()
        for path in ("goal-tracker", "sde-activity")
    }
    await facts(h, OTHER)  # the same facts on the other account, on overlapping days
    agent, _ = await login(h)
    for path, expected in before.items():
        r = await get(h, path, agent, groupBy="day", **every_day)
        assert r.json() == expected
    r = await get(h, "sde-activity", agent, groupBy="", **every_day)
    assert r.json()["rows"] == [{"events": 9}]
    other, _ = await login(h, OTHER)
    r = await h.client.get(
        f"/api/account/{OTHER}/reports/goal-tracker", params={"groupBy": "", **every_day},
        headers=other,
    )  # fmt: skip
    assert sum(x["goalsReached"] for x in r.json()["rows"]) == 5
    # Another account's agent cannot read this account's reports, nor can anyone without one.
    assert (await get(h, "goal-tracker", other)).status_code == 401
    assert (await h.client.get(f"{REPORTS}/sde-activity")).status_code == 401


async def test_page_and_vendored_chart_library(h: Harness) -> None:
    r = await h.client.get("/reports/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert '<script src="/vendor/chart.umd.min.js">' in r.text
    r = await h.client.get("/reports/static/reports.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    r = await h.client.get("/vendor/chart.umd.min.js")
    assert r.status_code == 200
    assert r.text.startswith("/*!\n * Chart.js v4.")
    assert "Released under the MIT License" in r.text[:300]
    again = await h.client.get(
        "/vendor/chart.umd.min.js", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    assert (await h.client.get("/vendor/nothing.js")).status_code == 404
    assert (await h.client.get("/reports/static/..%2Fvendor%2Fchart.umd.min.js")).status_code == 404


async def test_the_demo_data_fills_the_reports(h: Harness) -> None:
    data = await populate(h.svc, h.clock, conversations=2)
    r = await h.client.post(
        f"/api/account/{data.account_id}/login", params={"v": "1.3"},
        json={"username": data.agent_login, "password": data.agent_password},
    )  # fmt: skip
    agent = {"Authorization": f"Bearer {r.json()['bearer']}"}
    base = f"/api/account/{data.account_id}/reports"
    r = await h.client.get(f"{base}/goal-tracker", params={"groupBy": "campaign"}, headers=agent)
    rows = r.json()["rows"]
    assert [(x["campaignId"], x["reportedBy"], x["goalsReached"], x["assistedConversions"],
             x["transactions"]) for x in rows] == [
        ("61", "agent", 1, 1, 1), ("61", "consumer", 3, 3, 3),
    ]  # fmt: skip
    r = await h.client.get(f"{base}/sde-activity", params={"groupBy": "source"}, headers=agent)
    assert {x["source"] for x in r.json()["rows"]} == {"webtag", "connector", "monitoring", "agent"}


async def test_transfers_credit_the_last_agent_and_skill(h: Harness) -> None:
    """LivePerson's "Last" model: a consumer-reported conversion goes to the conversation's last
    agent (and its skill now); what an agent reported stays that agent's."""
    ids = await facts(h)
    agent, first = await login(h)
    desk = f"/api/account/{ACCOUNT}/agent-workspace/conversations/{ids['conversation']}"
    r = await h.client.post(f"{desk}/transfer", headers=agent, json={"skillId": "12"})
    assert r.status_code == 200, r.text
    other, second = await login(h, user="agent-2")
    r = await h.client.post(f"{desk}/accept", headers=other)
    assert r.status_code == 200, r.text
    r = await get(h, "goal-tracker", agent, groupBy="skill,agent", **RANGE)
    rows = [(x["skillId"], x["agentId"], x["reportedBy"], x["reportingAgentId"], x["currency"],
             x["goalsReached"]) for x in r.json()["rows"]]  # fmt: skip
    assert rows == [
        (None, None, "consumer", None, None, 1),
        (None, None, "consumer", None, "USD", 1),
        ("12", first, "agent", first, "USD", 1),
        ("12", second, "consumer", None, "EUR", 2),
    ]
