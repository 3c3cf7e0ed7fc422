"""The custom widgets' configuration: the admin API (validation with paths, revisions, If-Match),
the agent's view per skill, the route order next to the catalog admin API, and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sdehub import cli
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio

ADMIN = f"/api/account/{ACCOUNT}/admin/widgets"
AGENT = f"/api/account/{ACCOUNT}/agent-workspace/widgets"
SKILLS = [{"id": 11, "name": "Sales"}, {"id": 12, "name": "Support"}]
ORDERS = {"id": "orders", "name": "Orders", "url": "https://w.example/orders", "skillIds": [11]}
NOTES = {"id": "notes", "name": "Notes", "url": "http://localhost:8080/notes.html?x=1"}


async def configured(h: Harness) -> dict[str, str]:
    agent = await h.agent()
    r = await h.client.put(
        f"/api/account/{ACCOUNT}/admin/catalog", headers=agent, json={"skills": SKILLS}
    )
    assert r.status_code == 200, r.text
    return agent


async def test_put_then_get_and_the_agent_view_per_skill(h: Harness) -> None:
    agent = await configured(h)
    r = await h.client.get(ADMIN, headers=agent)
    assert r.status_code == 200 and r.json() == {
        "revision": 0, "widgets": [], "createdTime": None, "author": None,
    }  # fmt: skip
    r = await h.client.put(ADMIN, headers=agent, json={"widgets": [ORDERS, NOTES]})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    body = r.json()
    assert body["revision"] == 1 and body["author"] == "agent-1"
    assert body["widgets"] == [{**ORDERS, "skillIds": ["11"]}, {**NOTES, "skillIds": []}]
    assert (await h.client.get(ADMIN, headers=agent)).json() == body

    async def shown(query: dict[str, Any]) -> list[str]:
        r = await h.client.get(AGENT, headers=agent, params=query)
        assert r.status_code == 200, r.text
        return [w["id"] for w in r.json()["widgets"]]

    assert await shown({"skillId": "11"}) == ["orders", "notes"]
    assert await shown({"skillId": "12"}) == ["notes"]
    assert await shown({}) == ["notes"]


async def test_invalid_configurations_name_their_path(h: Harness) -> None:
    agent = await configured(h)

    async def errors(body: Any) -> list[str]:
        r = await h.client.put(ADMIN, headers=agent, json=body)
        assert r.status_code == 400, r.text
        return [e["path"] for e in r.json()["error"]["errors"]]

    assert await errors({"widgets": [{**ORDERS, "url": "ftp://x.example/"}]}) == [
        "$.widgets[0].url"
    ]
    assert await errors({"widgets": [{**ORDERS, "url": "/relative"}]}) == ["$.widgets[0].url"]
    assert await errors({"widgets": [ORDERS, {**NOTES, "id": "orders"}]}) == ["$.widgets[1].id"]
    assert await errors({"widgets": [{**ORDERS, "skillIds": [11, 99]}]}) == [
        "$.widgets[0].skillIds[1]"
    ]
    assert await errors({"widgets": [{**ORDERS, "id": "no spaces"}]}) == ["$.widgets[0].id"]
    assert await errors({"widgets": [{"id": "x", "url": "https://x.example"}]}) == [
        "$.widgets[0].name"
    ]
    assert await errors({"widget": []}) == ["$.widgets"]
    # Nothing was stored.
    assert (await h.client.get(ADMIN, headers=agent)).json()["revision"] == 0


async def test_revisions_and_if_match(h: Harness) -> None:
    agent = await configured(h)
    r = await h.client.put(ADMIN, headers=agent, json={"widgets": [ORDERS]})
    assert r.json()["revision"] == 1
    r = await h.client.put(
        ADMIN, headers={**agent, "If-Match": '"1"'}, json={"widgets": [ORDERS, NOTES]}
    )
    assert r.status_code == 200 and r.json()["revision"] == 2
    r = await h.client.put(ADMIN, headers={**agent, "If-Match": "1"}, json={"widgets": []})
    assert r.status_code == 409
    assert r.json()["error"]["errors"][0]["path"] == "$header.If-Match"
    r = await h.client.put(ADMIN, headers={**agent, "If-Match": "one"}, json={"widgets": []})
    assert r.status_code == 400
    r = await h.client.get(f"{ADMIN}/revisions", headers=agent)
    assert [(x["revision"], x["author"]) for x in r.json()] == [(2, "agent-1"), (1, "agent-1")]
    r = await h.client.get(f"{ADMIN}/revisions", headers=agent, params={"before": 2})
    assert [x["revision"] for x in r.json()] == [1]
    r = await h.client.get(f"{ADMIN}/revisions/1", headers=agent)
    assert r.status_code == 200 and [w["id"] for w in r.json()["widgets"]] == ["orders"]
    assert r.json()["revision"] == 1 and r.headers["etag"] == '"1"'
    assert (await h.client.get(f"{ADMIN}/revisions/3", headers=agent)).status_code == 404
    assert (await h.client.get(f"{ADMIN}/revisions/x", headers=agent)).status_code == 404


async def test_needs_an_agent_of_the_account(h: Harness) -> None:
    other = await h.agent(account="other-account")
    assert (await h.client.get(ADMIN)).status_code == 401
    assert (await h.client.get(ADMIN, headers=other)).status_code == 401
    assert (await h.client.get(AGENT, headers=other)).status_code == 401


async def test_the_catalog_admin_api_does_not_shadow_widgets(h: Harness) -> None:
    """/admin/{collection} of the catalog API would answer 404 'unknown collection'."""
    agent = await configured(h)
    r = await h.client.put(ADMIN, headers=agent, json={"widgets": [NOTES]})
    assert r.status_code == 200, r.text
    r = await h.client.get(f"/api/account/{ACCOUNT}/admin/skills", headers=agent)
    assert r.status_code == 200, r.text


def test_cli_widgets_add(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli.main, [*args, "--db", db], catch_exceptions=False)

    assert run("accounts", "add", "4001").exit_code == 0
    result = run("widgets", "add", "4001", "--name", "Orders", "--url", "https://w.example/o")
    assert result.exit_code == 0, result.output
    assert result.output == "widget orders on account 4001: widgets revision 1\n"
    result = run("widgets", "add", "4001", "--name", "Orders", "--url", "ftp://w.example/o")
    assert result.exit_code == 1 and "$.widgets[0].url" in result.output
    result = run("widgets", "add", "4001", "--name", "Cart", "--url", "https://w/c", "--skill", "9")
    assert result.exit_code == 1 and "no skill '9'" in result.output
    # The same id again replaces it.
    result = run(
        "widgets", "add", "4001", "--id", "orders", "--name", "Orders 2", "--url", "https://w/2"
    )
    assert result.output.endswith("widgets revision 2\n")
    result = run("widgets", "add", "4002", "--name", "X", "--url", "https://w/x")
    assert result.exit_code == 1
