"""The web tag and the demo shop in a real browser: headless Chromium against a real socket.

What a visitor does in the shop must land in the visit, in order, read back through the Visit
Information API; the tag's public API (queueing before load, push batching, get, VAR_ADDED,
identities, sections, send and its callback, retries) is driven from a page of another origin
(:class:`tests.browser.Site`, on another port), so every call is a real cross-origin one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Response, Route, expect

from sdehub.app import create_app
from sdehub.settings import Settings
from tests.browser import Site, always_offer, serve, visit_state

OFFERED = "71000010"  # accounts whose catalog offers an engagement to every visitor
CLOSED = "71000011"
OFFER = {"campaign_id": 1001, "engagement_id": 2002, "revision": 3}
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(Settings(db=str(tmp_path_factory.mktemp("browser") / "b.db"), emulator=True))
    with serve(app) as base:
        for account in (OFFERED, CLOSED):
            always_offer(base, account, **OFFER)
        yield base


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    site = Site()
    with serve(site.app) as base:
        site.base = base
        yield site


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[str]:
    """Not an emulator: only the configured account, app and origin (the site's)."""
    seed = tmp_path_factory.mktemp("strict") / "seed.json"
    seed.write_text(json.dumps({"accounts": [{
        "id": "72000001", "allowed_origins": [site.base],
        "apps": [{"client_id": "site-app", "client_secret": "site-secret"}],
    }]}))  # fmt: skip
    settings = Settings(db=str(seed.with_name("s.db")), seed_file=str(seed))
    with serve(create_app(settings)) as base:
        yield base


class Recorder:
    """The tag's calls (kind and status, in order) and the page's console."""

    def __init__(self, page: Page) -> None:
        self.calls: list[tuple[str, int]] = []
        self.console: list[str] = []
        page.on("response", self._response)
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))

    def _response(self, response: Response) -> None:
        kind = urlsplit(response.url).path.rsplit("/", 1)[-1]
        if kind in ("engagement", "report") and response.request.method != "OPTIONS":
            self.calls.append((kind, response.status))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def call(kind: str) -> Any:
    return lambda r: urlsplit(r.url).path.endswith(f"/{kind}") and r.request.method != "OPTIONS"


STORED = """([account, vid, sid]) => localStorage.getItem("sdehub." + account + ".vid") === vid
  && document.cookie.split("; ").indexOf("sdehub_sid_" + account + "=" + sid) >= 0"""


@contextmanager
def loads(page: Page, account: str) -> Iterator[None]:
    """Wait for the engagement call of the page the block opens, and for the tag to have kept
    the ids it answered: leaving the page sooner would lose them (a visitor is slower)."""
    with page.expect_response(call("engagement")) as answer:
        yield
    visit = answer.value.json()
    page.wait_for_function(STORED, arg=[account, visit["visitorId"], visit["sessionId"]])


def ids(page: Page, account: str) -> tuple[str, str]:
    vid, sid = page.evaluate(
        """account => [localStorage.getItem("sdehub." + account + ".vid"),
                       (document.cookie.match(new RegExp("sdehub_sid_" + account + "=([^;]*)"))
                        || [])[1]]""",
        account,
    )
    assert vid and sid
    return vid, sid


def until(page: Page, condition: Any, timeout_ms: int = 5000) -> None:
    """Let the browser run (and Playwright dispatch its events) until ``condition()``."""
    for _ in range(timeout_ms // 20):
        if condition():
            return
        page.wait_for_timeout(20)
    raise AssertionError("condition not met in time")


def open_site(
    page: Page, site: Site, server: str, account: str, script: str = "", **options: Any
) -> str:
    """Open a page of the site that runs ``script``, then loads the tag; returns its URL."""
    site.pages[account] = f"""<!doctype html><html lang="en"><head><title>site</title></head>
<body><script>window.lpTag = window.lpTag || {{}}; lpTag.sdes = lpTag.sdes || [];
lpTag.sdehub = {json.dumps(options)}; {script}</script>
<script async src="{server}/tag.js?account={account}&amp;app=site-app"></script>
</body></html>"""
    url = f"{site.base}/{account}"
    page.goto(url)
    return url


# --- the demo shop ---------------------------------------------------------------------------


def test_shop_journey_lands_in_one_visit_in_order(page: Page, server: str) -> None:
    account = "71000001"
    seen = Recorder(page)
    with loads(page, account):
        page.goto(f"{server}/demo/shop?account={account}")
    with loads(page, account):
        page.get_by_role("link", name="Espresso machine").click()
    with page.expect_response(call("report")):
        page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("1")
    with loads(page, account):
        page.get_by_role("link", name="Go to the cart").click()
    with loads(page, account):  # the purchase is sent, then "thanks" loads
        page.get_by_role("button", name=re.compile("^Buy")).click()
    order = page.locator("#order").inner_text().split()[2]
    with loads(page, account):
        page.goto(f"{server}/demo/shop/products/NO-SUCH?account={account}")
    expect(page.get_by_role("heading")).to_have_text("Page not found")

    # The ids persist across page loads: one visit, continued (200) after it started (201).
    assert seen.calls == [("engagement", 201), ("engagement", 200), ("report", 200),
                          ("engagement", 200), ("report", 200), ("engagement", 200),
                          ("engagement", 200)]  # fmt: skip
    assert not [line for line in seen.console if "sdehub tag" in line], seen.console
    state = visit_state(server, account, *ids(page, account))
    events = state["engagementAttributes"]
    assert [e["sdeType"] for e in events] == [
        "VIEWED_PRODUCT",
        "CART_STATUS",
        "PURCHASE",
        "VISITOR_ERROR",
    ]
    viewed, cart, purchase, error = events
    espresso = {"name": "Espresso machine", "category": "kitchen", "sku": "KIT-100", "price": 249.0}
    assert viewed["viewedProduct"]["products"] == [
        {"product": {**espresso, "statusInStock": "in stock"}}
    ]
    assert cart["cartStatus"]["total"] == 249.0 and cart["cartStatus"]["numItems"] == 1
    assert cart["cartStatus"]["products"] == [{"product": espresso, "quantity": 1}]
    assert purchase["purchase"]["orderId"] == order and purchase["purchase"]["total"] == 249.0
    assert purchase["purchase"]["cart"]["products"] == [{"product": espresso, "quantity": 1}]
    assert error["visitorError"]["visitorError"]["message"] == "Page not found"
    assert error["visitorError"]["visitorError"]["code"] == "404"
    entries = [visited["entryPoints"] for visited in state["pages"]]
    sections = [[e for e in points if e.startswith("sec://")] for points in entries]
    assert sections == [["sec://shop", "sec://home"], ["sec://shop", "sec://kitchen"],
                        ["sec://shop", "sec://cart"], ["sec://shop", "sec://checkout"],
                        ["sec://shop", "sec://error"]]  # fmt: skip
    assert entries[1][-1] == f"{server}/demo/shop/products/KIT-100?account={account}"


def test_declined_card_search_and_login(page: Page, server: str) -> None:
    account = "71000002"
    shop = f"{server}/demo/shop?account={account}"
    with loads(page, account):
        page.goto(shop.replace("/demo/shop?", "/demo/shop/products/SPO-310?"))
    with page.expect_response(call("report")):
        page.get_by_role("button", name="Add to cart").click()
    with loads(page, account):
        page.get_by_role("link", name="Cart (1)").click()
    with page.expect_response(call("report")):
        page.get_by_role("button", name="Pay with a card that is declined").click()
    expect(page.get_by_role("status")).to_contain_text("declined")
    with loads(page, account):
        page.get_by_role("searchbox").fill("yoga")
        page.get_by_role("searchbox").press("Enter")
    expect(page.locator("#results")).to_contain_text("1 result(s)")
    with loads(page, account):
        page.get_by_role("link", name="Log in").click()
    page.get_by_label("First name").fill("Ana")
    page.get_by_label("Last name").fill("Diaz")
    page.get_by_label("Email").fill("ana@example.com")
    with loads(page, account):  # the SDEs are sent, then home loads
        page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-link")).to_have_text("Hi, Ana")

    state = visit_state(server, account, *ids(page, account))
    events = state["engagementAttributes"]
    assert [e["sdeType"] for e in events] == [
        "VIEWED_PRODUCT",
        "CART_STATUS",
        "VISITOR_ERROR",
        "SEARCH_CONTENT",
        "CUSTOMER_INFO",
        "PERSONAL_INFO",
    ]
    assert events[2]["visitorError"]["visitorError"]["code"] == "card_declined"
    assert events[3]["searchContent"]["keywords"] == ["yoga"]
    customer = events[4]["customerInfo"]["customerInfo"]
    assert customer["userName"] == "ana@example.com"
    assert events[5]["personalInfo"]["personalInfo"]["name"] == "Ana"
    # The home page after logging in says who the visitor is: lpTag.identities.
    assert state["identities"] == [
        {"iss": f"{server}/demo/shop", "acr": "0", "sub": customer["customerId"]}
    ]


def test_a_new_browser_session_is_a_new_visit_of_the_same_visitor(page: Page, server: str) -> None:
    account = "71000003"
    seen = Recorder(page)
    with loads(page, account):
        page.goto(f"{server}/demo/shop?account={account}")
    first = ids(page, account)
    with loads(page, account):
        page.reload()
    assert ids(page, account) == first
    page.context.clear_cookies()  # the session cookie goes; the visitor id stays (localStorage)
    with loads(page, account):
        page.reload()
    vid, sid = ids(page, account)
    assert vid == first[0] and sid != first[1]
    assert seen.calls == [("engagement", 201), ("engagement", 200), ("engagement", 201)]
    assert visit_state(server, account, vid, sid)["returningVisitor"] is True


@pytest.mark.parametrize(
    ("account", "button", "second"),
    [(OFFERED, "Chat with us", "impAccept"), (CLOSED, "Close the chat offer", "impClose")],
)
def test_offer_is_shown_and_its_impressions_reported(
    page: Page, server: str, account: str, button: str, second: str
) -> None:
    with page.expect_response(call("report")):  # impDisplay, once the offer is on screen
        page.goto(f"{server}/demo/shop?account={account}")
    offer = page.get_by_role("region", name="Chat offer")
    expect(offer).to_be_visible()
    expect(offer).to_have_attribute("data-campaign-id", "1001")
    expect(offer).to_have_attribute("data-engagement-id", "2002")
    expect(offer).to_have_attribute("data-context-id", "1")
    with page.expect_response(call("report")):
        page.get_by_role("button", name=button).click()
    expect(offer).to_have_count(0)
    if second == "impAccept":
        expect(page.get_by_role("status")).to_contain_text("A conversation would open here")

    state = visit_state(server, account, *ids(page, account))
    assert state["engagements"] == [
        {"campaignId": 1001, "engagementId": 2002, "engagementRevision": 3, "contextId": "1",
         "status": "expose"}
    ]  # fmt: skip
    impressions = [
        {k: v for k, v in i.items() if k != "serverTimeStamp"} for i in state["impressions"]
    ]
    context = [{"type": "engagementContext", "id": "1"}]
    expected = {"campaign": 1001, "engId": 2002, "revision": 3}
    assert impressions == [
        {"type": "impDisplay", **expected, "eContext": context},
        {"type": second, **expected, **({"eContext": context} if second == "impAccept" else {})},
    ]


# --- the tag's API, from a page of another origin --------------------------------------------


def test_queued_before_load_then_get_var_added_and_batching(
    page: Page, server: str, site: Site
) -> None:
    account = "71000020"
    before = """
      lpTag.sdes.push({type: "searchInfo", keywords: ["early"]});
      lpTag.sdes.push([{type: "prodView", products: [{product: {name: "mug", sku: "m1"}}]},
                       {type: "cart", total: 5, numItems: 1}]);
      lpTag.section = ["site", "landing"];
      lpTag.identities = [
        function (cb) { cb({iss: "https://id.example", acr: "loa1", sub: "u-7"}); },
      ];
    """
    with page.expect_response(call("engagement")) as answer:
        url = open_site(page, site, server, account, before)
    engagement = answer.value
    assert engagement.status == 201
    assert engagement.headers["access-control-allow-origin"] == site.base
    body = engagement.request.post_data_json
    assert [s["type"] for s in body["engagementAttributes"]] == ["searchInfo", "prodView", "cart"]
    assert body["entryPoints"] == ["sec://site", "sec://landing", url]
    assert body["identities"] == [{"iss": "https://id.example", "acr": "loa1", "sub": "u-7"}]
    assert re.fullmatch(r"[0-9]{10}", body["pageId"])

    seen = Recorder(page)
    with page.expect_response(call("report")) as answer:
        checks = page.evaluate("""() => {
          const added = [];
          lpTag.events.bind("lp_sdes", "VAR_ADDED", (sde) => added.push(sde));
          const lead = {type: "lead", lead: {topic: "newsletter", leadId: "L-1"}};
          lpTag.sdes.push(lead);
          lpTag.sdes.push({type: "service", service: {topic: "order", serviceId: "S-1"}});
          return {
            live: lpTag.sdes.get("lead")[0] === lead && lpTag.sdes.get().lead[0] === lead,
            added: added.length === 2 && added[0] === lead,
            firedBeforeBind: lpTag.events.hasFired("lp_sdes", "VAR_ADDED").length,
            carts: lpTag.sdes.get("cart").length,
            none: lpTag.sdes.get("purchase") === undefined,
            types: Object.keys(lpTag.sdes.get()),
          };
        }""")
    assert checks == {"live": True, "added": True, "firedBeforeBind": 5, "carts": 1, "none": True,
                      "types": ["searchInfo", "prodView", "cart", "lead", "service"]}  # fmt: skip
    report = answer.value.request.post_data_json
    # Two pushes in the same task: one request; same page id as the engagement.
    assert [s["type"] for s in report["engagementAttributes"]] == ["lead", "service"]
    assert report["pageId"] == body["pageId"]
    page.wait_for_timeout(100)
    assert seen.calls == [("report", 200)]
    state = visit_state(server, account, *ids(page, account))
    assert [e["sdeType"] for e in state["engagementAttributes"]] == [
        "SEARCH_CONTENT",
        "VIEWED_PRODUCT",
        "CART_STATUS",
        "LEAD",
        "SERVICE_ACTIVITY",
    ]
    assert state["identities"] == [{"iss": "https://id.example", "acr": "loa1", "sub": "u-7"}]


def test_failures_are_retried_and_the_send_callback_waits_for_a_success(
    page: Page, server: str, site: Site
) -> None:
    account = "71000021"
    with loads(page, account):
        open_site(page, site, server, account, retryDelays=[600, 50, 50, 50])
    plan = ["503", "network", "pass", "400", "pass"]
    attempts: list[str] = []

    def flaky(route: Route) -> None:
        step = plan.pop(0)
        attempts.append(step)
        if step == "network":
            route.abort("connectionfailed")
        elif step in ("503", "400"):
            route.fulfill(
                status=int(step),
                json={"time": 0, "message": f"test {step}", "internalCode": 18},
                headers={"Access-Control-Allow-Origin": site.base},
            )
        else:
            route.continue_()

    page.route(re.compile(r".*/report\?.*"), flaky)
    page.evaluate("""() => {
      window.calls = [];
      lpTag.sdes.send({type: "lead", lead: {leadId: "R-1"}}, () => window.calls.push("R-1"));
    }""")
    until(page, lambda: attempts == ["503"])  # the first retry waits 600 ms
    assert page.evaluate("window.calls") == []
    page.wait_for_function("window.calls.length === 1")
    assert attempts == ["503", "network", "pass"]

    # A 4xx is not retried, and its callback waits for a later success.
    page.evaluate("""() =>
      lpTag.sdes.send({type: "lead", lead: {leadId: "R-2"}}, () => window.calls.push("R-2"))""")
    until(page, lambda: attempts[3:] == ["400"])
    page.wait_for_timeout(300)  # a retry would have come after 50 ms
    assert attempts[3:] == ["400"] and page.evaluate("window.calls") == ["R-1"]
    page.evaluate("""() =>
      lpTag.sdes.send({type: "lead", lead: {leadId: "R-3"}}, () => window.calls.push("R-3"))""")
    page.wait_for_function("window.calls.length === 3")
    assert page.evaluate("window.calls") == ["R-1", "R-2", "R-3"]
    assert attempts == ["503", "network", "pass", "400", "pass"]

    state = visit_state(server, account, *ids(page, account))
    leads = [e["lead"]["lead"]["leadId"] for e in state["engagementAttributes"]]
    assert leads == ["R-1", "R-3"]  # stored once despite the retries; the refused one dropped


def test_only_configured_origins_may_call(page: Page, strict_server: str, site: Site) -> None:
    seen = Recorder(page)
    with loads(page, "72000001"):
        url = open_site(page, site, strict_server, "72000001", retryDelays=[])
    assert seen.calls == [("engagement", 201)]

    # The same page from another origin (same server, another host name) is refused.
    other = url.replace("127.0.0.1", "localhost")
    with page.expect_console_message(lambda m: "engagement failed" in m.text):
        page.goto(other)
    # The preflight was refused, so the browser never sent the engagement call: no visit.
    assert seen.calls == [("engagement", 201)]
    assert page.evaluate("localStorage.length") == 0
