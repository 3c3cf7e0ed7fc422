"""The agent workspace page and its files over HTTP, and the journey endpoint it reads (in
process; the page itself is driven in a browser by tests/test_workspace_browser.py)."""

from __future__ import annotations

import re

import pytest

from sdehub import cli
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio

APP = f"/api/account/{ACCOUNT}/app/web-1"


async def test_the_page_and_its_files_are_served(h: Harness) -> None:
    r = await h.client.get("/workspace/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>sdehub agent workspace</title>" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    # Every file the page names is served, with a type the browser accepts for it.
    names = re.findall(r'(?:src|href)="/workspace/static/([^"]+)"', r.text)
    assert set(names) >= {"workspace.css", "workspace.js", "widget-frame.js", "widget-host.js"}
    for name in (
        "workspace.css", "workspace.js", "dom.js", "consumer.js", "summary.js", "live.js",
        "queues.js",
    ):  # fmt: skip
        f = await h.client.get(f"/workspace/static/{name}")
        assert f.status_code == 200, name
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert f.headers["content-type"].startswith(kind)
        again = await h.client.get(
            f"/workspace/static/{name}", headers={"If-None-Match": f.headers["etag"]}
        )
        assert again.status_code == 304
    # The modules the script imports are files of the directory too.
    script = (await h.client.get("/workspace/static/workspace.js")).text
    for module in re.findall(r'from "\./([^"]+)"', script):
        assert (await h.client.get(f"/workspace/static/{module}")).status_code == 200, module
    r = await h.client.get("/workspace", follow_redirects=False)
    assert r.status_code in (307, 308) and r.headers["location"].endswith("/workspace/")


def test_the_demo_banner_names_the_page() -> None:
    text = cli.demo_banner("http://h:1", "A", "c", "s", "agent", "pw", "conv-1")
    assert "http://h:1/workspace/  (the agent workspace page: account A, agent / pw)" in text


@pytest.mark.parametrize("name", ["nope.js", ".hidden.js", "index", "..%2Fapp.py", "x.py"])
async def test_nothing_else_is_served(h: Harness, name: str) -> None:
    r = await h.client.get(f"/workspace/static/{name}")
    assert r.status_code == 404
    if "%" not in name:  # an encoded slash does not even match the route
        assert r.json()["error"]["status"] == 404


async def test_the_journey_of_a_conversation_from_a_web_visit(h: Harness) -> None:
    agent = await h.agent()
    r = await h.client.post(
        f"{APP}/engagement", params={"v": "1.1"},
        json={"entryPoints": ["sec://Sport", "https://shop.example/home"]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    vid, sid = r.json()["visitorId"], r.json()["sessionId"]
    h.clock.advance(5000)
    r = await h.client.put(
        f"{APP}/report", params={"v": "1.0", "vid": vid, "sid": sid},
        json={"pageId": "cart-1", "entryPoints": ["sec://Checkout", "lang://English"],
              "engagementAttributes": []},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    web = await h.open_conversation(
        await h.connector(), conversationContext={"visitorId": vid, "sessionId": sid}
    )
    url = f"/api/account/{ACCOUNT}/agent-workspace/conversations/{web}/journey"
    assert (await h.client.get(url)).status_code == 401
    body = (await h.client.get(url, headers=agent)).json()
    assert body["conversationId"] == web
    assert body["visit"] == {
        "visitorId": vid, "sessionId": sid, "startTime": body["visit"]["startTime"],
        "lastTime": body["visit"]["startTime"] + 5000, "returningVisitor": False,
    }  # fmt: skip
    assert [(p["sections"], p["urls"]) for p in body["pages"]] == [
        (["Sport"], ["https://shop.example/home"]),
        (["Checkout"], []),
    ]
    assert body["pages"][1]["entryPoints"] == ["sec://Checkout", "lang://English"]
    assert body["engagements"] == []

    plain = await h.open_conversation(await h.connector(ext_id="no-web"))
    r = await h.client.get(url.replace(web, plain), headers=agent)
    assert r.json() == {"conversationId": plain, "visit": None, "pages": [], "engagements": []}
    r = await h.client.get(url.replace(web, "unknown"), headers=agent)
    assert r.status_code == 404 and "unknown" in r.json()["error"]["message"]
    other = await h.agent(account="1002")
    r = await h.client.get(url.replace(ACCOUNT, "1002", 1), headers=other)
    assert r.status_code == 404
