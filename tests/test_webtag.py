"""Serving the web tag and the demo shop (in process); the browser drives them in
``test_webtag_browser.py``. Also: a visit with impressions reads back through the Visit API."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest

from sdehub import cli
from tests.browser import offering
from tests.conftest import HarnessFactory
from tests.harness import Harness

pytestmark = pytest.mark.anyio

# Syntax newer than ES2017, which the tag and the shop must run without (spread and rest are
# not used at all, so "..." is out too).
NEWER_THAN_ES2017 = {
    "optional chaining": r"\?\.[A-Za-z_\[(]",
    "nullish coalescing": r"\?\?",
    "optional catch binding": r"catch\s*\{",
    "spread / rest": r"\.\.\.",
    "Promise.finally": r"\.finally\(",
    "Object.fromEntries": r"fromEntries",
    "Array.flat": r"\.flat(Map)?\(",
    "String.replaceAll / matchAll": r"\.(replaceAll|matchAll)\(",
    "private class members": r"#[A-Za-z_]",
}


@pytest.mark.parametrize("name", ["tag.js", "shop.js"])
def test_scripts_stay_within_es2017(name: str) -> None:
    source = files("sdehub").joinpath("static", name).read_text()
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    code = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', code)  # string literals may say anything
    code = re.sub(r"//.*$", "", code, flags=re.M)
    for feature, pattern in NEWER_THAN_ES2017.items():
        assert not re.search(pattern, code), f"{name} uses {feature}"


async def test_tag_is_served_as_cacheable_javascript(h: Harness) -> None:
    r = await h.client.get("/tag.js", params={"account": "4101", "app": "web-1"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["access-control-allow-origin"] == "*"
    assert "lpTag.sdes" in r.text and r.text.startswith("/*")
    etag = r.headers["etag"]
    # Every account gets the same bytes (the tag reads its ids from its own URL): one ETag.
    other = await h.client.get("/tag.js", params={"account": "4102", "app": "x"})
    assert other.headers["etag"] == etag
    again = await h.client.get(
        "/tag.js", params={"account": "4101", "app": "web-1"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag


async def test_tag_needs_account_and_app(h: Harness) -> None:
    r = await h.client.get("/tag.js")
    assert r.status_code == 400
    paths = [e["path"] for e in r.json()["error"]["errors"]]
    assert paths == ["$query.account", "$query.app"]
    r = await h.client.get("/tag.js", params={"account": "a b", "app": "ok"})
    assert [e["path"] for e in r.json()["error"]["errors"]] == ["$query.account"]


def config_of(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="shop-config">(.*?)</script>', html)
    assert found
    loaded: dict[str, object] = json.loads(found.group(1))
    return loaded


async def test_shop_pages(h: Harness) -> None:
    home = await h.client.get("/demo/shop")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert '<script async src="/tag.js?account=12345678&amp;app=demo-shop">' in home.text
    config = config_of(home.text)
    assert (config["account"], config["app"], config["page"], config["query"]) == (
        "12345678",
        "demo-shop",
        "home",
        "",
    )
    assert len(config["catalog"]) == 6  # type: ignore[arg-type]
    product = await h.client.get("/demo/shop/products/KIT-100", params={"account": "4103"})
    config = config_of(product.text)
    assert (config["page"], config["sku"]) == ("product", "KIT-100")
    assert config["query"] == "account=4103"  # carried by the shop's links
    for path, page in [("/demo/shop/cart", "cart"), ("/demo/shop/search?q=x", "search"),
                       ("/demo/shop/login", "login"), ("/demo/shop/thanks", "thanks")]:  # fmt: skip
        r = await h.client.get(path)
        assert r.status_code == 200 and config_of(r.text)["page"] == page
    # The shop's own not-found page: it reports the visitor's error.
    for path in ("/demo/shop/products/NOPE", "/demo/shop/nope"):
        r = await h.client.get(path)
        assert r.status_code == 404 and config_of(r.text)["page"] == "missing"
    script = await h.client.get("/demo/shop.js")
    assert script.status_code == 200 and "lpTag.sdes.push" in script.text
    assert (await h.client.get("/demo/shop", params={"app": "bad app"})).status_code == 400


async def test_shop_config_cannot_close_its_script_element(h: Harness) -> None:
    r = await h.client.get("/demo/shop/products/x<!--<script>")
    assert r.status_code == 404
    assert "x\\u003c!--\\u003cscript>" in r.text and config_of(r.text)["sku"] == "x<!--<script>"


async def test_shop_is_an_emulator_thing(make_harness: HarnessFactory) -> None:
    async with make_harness(emulator=False) as h:
        for path in ("/demo/shop", "/demo/shop/cart", "/demo/shop/products/A", "/demo/shop.js"):
            r = await h.client.get(path)
            assert r.status_code == 404 and "emulator mode" in r.json()["error"]["message"]
        # The tag itself is for every server.
        assert (await h.client.get("/tag.js?account=1&app=2")).status_code == 200


def test_demo_banner_names_the_shop() -> None:
    text = cli.demo_banner("http://h:1", "A", "c", "s", "agent", "pw", "conv-1")
    assert "http://h:1/demo/shop" in text
    assert '<script async src="http://h:1/tag.js?account=A&app=demo-shop"></script>' in text


async def test_visit_state_lists_impressions_apart(h: Harness) -> None:
    r = await h.client.put(
        "/api/account/4104/admin/catalog",
        headers=await h.agent("4104"),
        json=offering(campaign_id=7, engagement_id=8, revision=2),
    )
    assert r.status_code == 200, r.text
    base = "/api/account/4104/app/web-1"
    r = await h.client.post(f"{base}/engagement", params={"v": "1.1"}, json={})
    ids = r.json()
    detail = ids["engagementDetails"][0]
    context = [{"type": "engagementContext", "id": detail["contextId"]}]
    shown = {"type": "impDisplay", "campaign": 7, "engId": 8, "revision": 2, "eContext": context}
    cart = {"type": "cart", "total": 1.0, "numItems": 1}
    r = await h.client.put(
        f"{base}/report",
        params={"v": "1.1", "vid": ids["visitorId"], "sid": ids["sessionId"]},
        json={"engagementAttributes": [shown, cart, {**shown, "type": "impAccept"}]},
    )
    assert r.status_code == 200, r.text
    r = await h.client.get(
        f"/api/account/4104/monitoring/visitors/{ids['visitorId']}/visits/current/state",
        params={"v": "1", "sid": ids["sessionId"]},
        headers={"Authorization": await h.app_jwt("4104")},
    )
    assert r.status_code == 200, r.text
    state = r.json()
    assert [e["sdeType"] for e in state["engagementAttributes"]] == ["CART_STATUS"]
    assert [{k: v for k, v in i.items() if k != "serverTimeStamp"} for i in state["impressions"]] \
        == [shown, {**shown, "type": "impAccept"}]  # fmt: skip
    assert all(i["serverTimeStamp"].isdigit() for i in state["impressions"])
