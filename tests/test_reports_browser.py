"""The reports page in a real browser: headless Chromium against a real socket.

The facts are those of :func:`tests.test_reports.facts`, built through the real APIs of a server
on a manual clock (so their days are known). The page must log in, draw a chart with the data,
show a table that is the JSON API's rows, download the same rows as CSV, and reuse the agent
workspace's login from sessionStorage (docs/reports.md).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from sdehub.app import create_app
from sdehub.clock import ManualClock
from sdehub.settings import Settings
from tests.browser import serve
from tests.harness import ACCOUNT, Harness
from tests.test_reports import facts

pytestmark = pytest.mark.browser
PAGE = "/reports/?from=2026-01-01&to=2026-01-03"
NUMERIC = {"goalsReached", "assistedConversions", "transactions", "transactionValue", "leads",
           "leadValue", "serviceActivities", "events"}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    clock = ManualClock()
    settings = Settings(db=str(tmp_path_factory.mktemp("reports") / "r.db"), emulator=True)
    app = create_app(settings, clock=clock)
    with serve(app) as base:

        async def build() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                await facts(Harness(app=app, client=client, clock=clock, settings=settings))

        asyncio.run(build())
        yield base


def api(base: str, bearer: str, path: str, **params: str) -> dict[str, Any]:
    r = httpx.get(
        f"{base}/api/account/{ACCOUNT}/reports/{path}",
        params=params,
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def table(page: Page) -> tuple[list[str], list[list[str]]]:
    head = page.locator("#report-table thead th").all_inner_texts()
    rows = page.eval_on_selector_all(
        "#report-table tbody tr",
        "trs => trs.map(tr => [...tr.cells].map(td => td.textContent))",
    )
    return head, rows


def assert_table_is(page: Page, report: dict[str, Any]) -> None:
    head, rows = table(page)
    assert report["rows"]
    assert len(rows) == len(report["rows"])
    for cells, row in zip(rows, report["rows"], strict=True):
        assert head == list(row)  # the API's columns, in its order
        for column, text in zip(head, cells, strict=True):
            value = row[column]
            if column in NUMERIC:
                assert float(text) == value, (column, text, row)
            elif isinstance(value, bool):
                assert text == str(value).lower()
            else:
                assert text == ("" if value is None else str(value)), (column, text, row)


def drawn(page: Page) -> dict[str, Any]:
    """What the chart was given, and whether its canvas has pixels drawn."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const chart = window.sdehubChart, canvas = document.querySelector('#chart');
            const pixels = canvas.getContext('2d')
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
            return {labels: chart.data.labels,
                    datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data})),
                    painted, width: canvas.width, height: canvas.height};
        }"""
    )
    return result


def test_login_chart_table_and_csv(server: str, browser: Browser, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + PAGE)
    login = page.locator("#login")
    expect(login).to_be_visible()
    expect(page.locator("#report")).to_be_hidden()
    login.locator("input[name=account]").fill(ACCOUNT)
    login.locator("input[name=username]").fill("agent-1")
    login.locator("input[name=password]").fill("pw")
    login.locator("button[type=submit]").click()
    expect(page.locator("#report-table tbody tr").first).to_be_visible()
    bearer = page.evaluate("sessionStorage.getItem('sdehub.bearer')")
    assert page.evaluate("sessionStorage.getItem('sdehub.account')") == ACCOUNT

    # The goal tracker by day (the default): the chart, the table, the CSV.
    report = api(server, bearer, "goal-tracker", groupBy="day", **{"from": "2026-01-01",
                                                                  "to": "2026-01-03"})  # fmt: skip
    assert_table_is(page, report)
    chart = drawn(page)
    assert chart["labels"] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    by_label = {d["label"]: d["data"] for d in chart["datasets"]}
    assert by_label == {
        "Goals reached, consumer-reported": [1, 2, 1],
        "Goals reached, agent-reported": [1, 0, 0],
        "Assisted conversions": [2, 0, 1],
    }
    assert chart["painted"] > 1000 and chart["width"] > 100 and chart["height"] > 100
    link = page.locator("#csv-link")
    assert link.get_attribute("download") == f"goal-tracker-{ACCOUNT}-2026-01-01-2026-01-03.csv"
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    parsed = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [line["day"] for line in parsed] == [row["day"] for row in report["rows"]]
    assert [float(line["goalsReached"]) for line in parsed] == [
        row["goalsReached"] for row in report["rows"]
    ]

    # Grouped by campaign and agent instead.
    page.locator("#group-by input[value=day]").uncheck()
    page.locator("#group-by input[value=campaign]").check()
    page.locator("#group-by input[value=agent]").check()
    page.locator("#filters button[type=submit]").click()
    expect(page.locator("#report-table thead th").first).to_have_text("campaignId")
    report = api(server, bearer, "goal-tracker", groupBy="campaign,agent",
                 **{"from": "2026-01-01", "to": "2026-01-03"})  # fmt: skip
    assert_table_is(page, report)

    # The SDE activity report.
    page.locator("select[name=report]").select_option("sde-activity")
    expect(page.locator("#report-table thead th").last).to_have_text("events")
    report = api(server, bearer, "sde-activity", **{"from": "2026-01-01", "to": "2026-01-03"})
    assert_table_is(page, report)
    assert sum(sum(d["data"]) for d in drawn(page)["datasets"]) == 9
    assert errors == []
    if shot := os.environ.get("SDEHUB_REPORTS_SCREENSHOT"):
        page.screenshot(path=shot, full_page=True)
    context.close()


def test_reuses_the_workspace_login(server: str, browser: Browser) -> None:
    r = httpx.post(
        f"{server}/api/account/{ACCOUNT}/login", params={"v": "1.3"},
        json={"username": "agent-1", "password": "pw"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    context = browser.new_context()
    context.add_init_script(
        f"sessionStorage.setItem('sdehub.bearer', {r.json()['bearer']!r});"
        f"sessionStorage.setItem('sdehub.account', {ACCOUNT!r});"
        f"sessionStorage.setItem('sdehub.agentId', {r.json()['config']['userId']!r});"
    )
    page = context.new_page()
    page.goto(server + PAGE)
    expect(page.locator("#report-table tbody tr").first).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()
    assert page.locator("#report-table tbody tr").count() == 5  # per day, reporter and currency
    # Logging out forgets the login and shows the form.
    page.locator("#logout").click()
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('sdehub.bearer')") is None
    context.close()
