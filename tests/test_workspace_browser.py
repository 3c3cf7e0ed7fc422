"""The agent workspace page in a real browser: headless Chromium against a real server (uvicorn
with websockets), real JWTs, conversations made through the Connector API.

An agent logs in, accepts a conversation from its queue, receives the consumer's line live over
the websocket, answers it (the consumer's side reads it back through the Messaging Interactions
API), watches SDEs from other APIs arrive in Consumer Info with their provenance, fills in the
agent survey and the conversation outcomes (also after the close), transfers and closes
conversations; and the page fits laptop and large screens.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from sdehub.app import create_app
from sdehub.settings import Settings
from tests.browser import serve

pytestmark = pytest.mark.browser

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
SKILLS = [{"id": 11, "name": "Sales"}, {"id": 12, "name": "Support"}]
SURVEY = {
    "name": "Sales wrap-up", "defaultTimeoutInMinutes": 30, "skillIds": ["11"],
    "questions": [
        {"id": 1, "orderId": 1, "text": "Outcome", "category": "dropdown",
         "questionDefinition": "conversation_outcome", "required": True,
         "replies": [{"id": 101, "text": "Sold", "next": 3}, {"id": 102, "text": "Not sold"}]},
        {"id": 2, "orderId": 2, "text": "Why not?", "category": "free_text", "maxCharacters": 200},
        {"id": 3, "orderId": 3, "text": "Order", "category": "free_text",
         "questionDefinition": "engagement_attributes",
         "engagementAttribute": {"type": "purchase", "attributes": ["order_total", "order_id"]}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("workspace") / "w.db"
    with serve(create_app(Settings(db=str(db), emulator=True)), ws="websockets-sansio") as base:
        yield base


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], errors  # no script error, whatever the test looked at


@pytest.fixture
def account(server: str) -> Iterator[Any]:
    """Makes accounts on the server; their HTTP clients close with the test."""
    made: list[Account] = []

    def make(account_id: str) -> Account:
        made.append(Account(server, account_id))
        return made[-1]

    yield make
    for acct in made:
        acct.http.close()


class Account:
    """An account set up through the APIs: the catalog's skills, agents, consumers."""

    def __init__(self, base: str, account: str) -> None:
        self.base, self.id = base, account
        self.http = httpx.Client(base_url=base, timeout=10)
        admin = self.login("admin")
        self.admin = admin["headers"]
        self.put("admin/catalog", {"skills": SKILLS})

    def login(self, user: str) -> dict[str, Any]:
        r = self.http.post(
            f"/api/account/{self.id}/login", params={"v": "1.3"},
            json={"username": user, "password": "pw"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        body = r.json()
        return {"headers": {"Authorization": f"Bearer {body['bearer']}"},
                "id": body["config"]["userId"]}  # fmt: skip

    def put(self, path: str, body: Any) -> Any:
        r = self.http.put(f"/api/account/{self.id}/{path}", headers=self.admin, json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def survey(self, survey: dict[str, Any]) -> None:
        r = self.http.post(
            f"/api/account/{self.id}/configuration/ac-common/agent_surveys",
            params={"v": "2.0"}, headers=self.admin, json=survey,
        )  # fmt: skip
        assert r.status_code == 201, r.text

    def agent(self, user: str, *skills: int) -> dict[str, Any]:
        agent = self.login(user)
        self.put(f"admin/agents/{agent['id']}", {"skillIds": list(skills)})
        return agent

    def consumer(self, ext_id: str) -> dict[str, str]:
        r = self.http.post(
            f"/sentinel/api/account/{self.id}/app/token",
            params={"v": "1.0", "grant_type": "client_credentials"},
            data={"client_id": "ws-connector", "client_secret": "ws-secret"},
        )
        assert r.status_code == 200, r.text
        app = r.json()["access_token"]
        r = self.http.post(
            f"/api/account/{self.id}/consumer", headers={"Authorization": app},
            json={"ext_consumer_id": ext_id},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        return {"Authorization": app, "X-LP-ON-BEHALF": r.json()["token"]}

    def conversation(self, consumer: dict[str, str], skill: int, **body: Any) -> str:
        r = self.http.post(
            f"/api/account/{self.id}/messaging/consumer/conversation", params={"v": "3"},
            headers=consumer, json=[
                {"kind": "req", "id": "1", "type": "userprofile.SetUserProfile", "body": {}},
                {"kind": "req", "id": "2", "type": "cm.ConsumerRequestConversation",
                 "body": {"brandId": self.id, "skillId": str(skill), **body}},
            ],
        )  # fmt: skip
        assert r.status_code == 200, r.text
        conversation_id: str = r.json()[1]["body"]["conversationId"]
        return conversation_id

    def send(self, consumer: dict[str, str], request: dict[str, Any]) -> None:
        r = self.http.post(
            f"/api/account/{self.id}/messaging/consumer/conversation/send", params={"v": "3"},
            headers=consumer, json={"kind": "req", "id": "9", **request},
        )  # fmt: skip
        assert r.status_code == 200 and r.json()["code"] == "OK", r.text

    def profile(self, consumer: dict[str, str], *sdes: dict[str, Any]) -> None:
        """The consumer's authenticated SDEs, through SetUserProfile."""
        body = {"authenticatedData": {"lp_sdes": list(sdes)}}
        self.send(consumer, {"type": "userprofile.SetUserProfile", "body": body})

    def say(self, consumer: dict[str, str], conversation_id: str, text: str) -> None:
        self.send(consumer, {"type": "ms.PublishEvent", "body": {
            "dialogId": conversation_id,
            "event": {"type": "ContentEvent", "contentType": "text/plain", "message": text},
        }})  # fmt: skip

    def visit(self, *entry_points: str) -> tuple[str, str]:
        r = self.http.post(
            f"/api/account/{self.id}/app/ws-site/engagement", params={"v": "1.1"},
            json={"entryPoints": list(entry_points)},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        return r.json()["visitorId"], r.json()["sessionId"]

    def desk(self, agent: dict[str, Any]) -> dict[str, Any]:
        r = self.http.get(
            f"/api/account/{self.id}/agent-workspace/conversations", headers=agent["headers"]
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def log_in(page: Page, base: str, account: str, user: str) -> None:
    """Through the form, with the keyboard: Enter in the password field submits."""
    page.goto(f"{base}/workspace/")
    expect(page).to_have_title("sdehub agent workspace")
    expect(page.get_by_label("Account id")).to_be_focused()
    page.keyboard.type(account)
    page.keyboard.press("Tab")
    page.keyboard.type(user)
    page.keyboard.press("Tab")
    page.keyboard.type("pw")
    page.keyboard.press("Enter")
    expect(page.locator("#who")).to_contain_text(user)


def row(page: Page, where: str, conversation_id: str) -> Any:
    return page.locator(f'{where} .conv-item[data-conversation="{conversation_id}"]')


def test_an_agent_accepts_and_works_a_conversation_live(
    page: Page, server: str, account: Any
) -> None:
    acct = account("73000001")
    ann = acct.agent("ann", 11)
    acct.survey(SURVEY)
    vid, sid = acct.visit("sec://Sport", "https://shop.example/running-shoes")
    consumer = acct.consumer("web-consumer")
    conv = acct.conversation(consumer, 11, conversationContext={"visitorId": vid, "sessionId": sid})

    log_in(page, server, acct.id, "ann")
    waiting = row(page, "#waiting-groups", conv)
    expect(waiting).to_be_visible()
    expect(page.locator('#waiting-groups [data-skill="11"] h3')).to_have_text("Sales (11)")
    expect(page.locator("#mine-empty")).to_be_visible()
    waiting.get_by_role("button", name="Accept").click()
    expect(row(page, "#mine-list", conv)).to_be_visible()
    expect(waiting).to_have_count(0)
    assert [c["conversationId"] for c in acct.desk(ann)["mine"]] == [conv]
    composer = page.locator("#composer")
    expect(composer).to_be_enabled()
    expect(composer).to_be_focused()

    # The visit the consumer came from: its page and section.
    journey = page.locator("#journey-body")
    expect(journey.locator(".chip")).to_have_text(["Sport"])
    expect(journey).to_contain_text("https://shop.example/running-shoes")

    # A consumer line arrives live over the websocket.
    acct.say(consumer, conv, "Do you have these in size 44?")
    line = page.locator('#transcript li[data-source="visitor"]')
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Do you have these in size 44?")

    # Enter sends; the consumer's side of the conversation has the line.
    composer.fill("Yes, we do!")
    composer.press("Enter")
    expect(page.locator('#transcript li[data-source="agent"]')).to_contain_text("Yes, we do!")
    expect(composer).to_have_value("")
    r = acct.http.post(
        f"/messaging_history/api/account/{acct.id}/conversations/conversation/search",
        params={"v": "2"}, headers=ann["headers"],
        json={"conversationId": conv, "contentToRetrieve": ["messageRecords"]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    records = r.json()["conversationHistoryRecords"][0]["messageRecords"]
    assert [(m["sentBy"], m["messageData"]["msg"]["text"]) for m in records] == [
        ("Consumer", "Do you have these in size 44?"),
        ("Agent", "Yes, we do!"),
    ]

    # SDEs reported through two other APIs appear live, each with its provenance.
    every_type = page.locator("#ci-body section[data-sde]")
    expect(every_type).to_have_count(12)  # the ten SDE arrays and authenticatedData's two
    acct.profile(consumer, {"type": "ctmrinfo", "info": {"cstatus": "gold", "customerId": "C-77"}})
    customer = page.locator('[data-sde="SDE.customerDetails"] .sde-entry')
    expect(customer).to_have_attribute("data-provenance", "authenticated")
    expect(customer).to_contain_text("gold")
    expect(customer).to_contain_text("via Connector API")
    r = acct.http.put(
        f"/api/account/{acct.id}/monitoring/visitors/{vid}/visits/current/events",
        params={"v": "1", "sid": sid}, headers={"Authorization": consumer["Authorization"]},
        json=[{"type": "service", "service": {"topic": "shoe size", "status": 1}}],
    )  # fmt: skip
    assert r.status_code == 200, r.text
    service = page.locator('[data-sde="SDE.serviceActivity"] .sde-entry')
    expect(service).to_have_attribute("data-provenance", "unauthenticated")
    expect(service).to_contain_text("shoe size")
    expect(service).to_contain_text("via Engagement Attributes API")
    expect(service.locator("time")).to_have_attribute("datetime", ISO_TIME)

    # The Conversation Summary: the agent survey of skill 11 (no outcomes are configured).
    summary = page.locator("#summary")
    expect(summary).to_be_visible()
    expect(page.locator("#outcomes-section")).to_be_hidden()
    expect(page.locator("#survey-status")).to_have_attribute("data-status", "open")
    why = page.locator('fieldset[data-question="2"]')
    expect(why).to_be_visible()
    page.get_by_label("Outcome", exact=True).select_option(label="Sold")
    expect(why).to_be_hidden()  # "Sold" jumps to the order
    # A mistyped number is not dropped: it goes as typed, and the server's error is shown.
    page.get_by_label("Order total").fill("120,5x")
    page.get_by_label("Order ID").fill("A-1")
    page.get_by_role("button", name="Submit survey").click()
    expect(page.locator("#survey-errors")).to_contain_text("120,5x")
    expect(page.locator("#survey-status")).to_have_attribute("data-status", "open")
    page.get_by_label("Order total").fill("120.5")
    page.get_by_role("button", name="Submit survey").click()
    expect(page.locator("#survey-status")).to_have_attribute("data-status", "submitted")
    expect(page.locator("#toasts")).to_contain_text("Agent survey submitted.")
    r = acct.http.get(
        f"/api/account/{acct.id}/forms/agent_survey/state",
        params={"conv": conv, "v": "2.0"}, headers=ann["headers"],
    )  # fmt: skip
    assert r.json()["agentSurveyContext"]["agentSurveyStatus"] == "submitted"
    answers = {q["id"]: q.get("questionState") for q in r.json()["questions"]}
    assert answers[1]["replyIds"] == [101] and answers[2] is None
    # ... and the purchase it reported is an agent-reported SDE of the conversation, live.
    purchase = page.locator('[data-sde="SDE.transaction"] .sde-entry')
    expect(purchase).to_have_attribute("data-provenance", "agent-reported")
    expect(purchase).to_contain_text("A-1")


def test_transfer_close_and_a_conversation_without_a_visit(
    page: Page, server: str, account: Any
) -> None:
    acct = account("73000002")
    bob = acct.agent("bob", 11)
    sue = acct.agent("sue", 12)
    first = acct.conversation(acct.consumer("c-1"), 11)
    second = acct.conversation(acct.consumer("c-2"), 11)

    page.goto(f"{server}/workspace/")
    page.get_by_label("Account id").fill(acct.id)
    page.get_by_label("User name").fill("bob")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("wrong user name or password")
    log_in(page, server, acct.id, "bob")
    expect(page.locator("#waiting-groups .conv-item")).to_have_count(2)
    # Keyboard only: the Accept button of the first (oldest) conversation, then Enter.
    row(page, "#waiting-groups", first).get_by_role("button", name="Accept").focus()
    page.keyboard.press("Enter")
    expect(row(page, "#mine-list", first)).to_be_visible()
    expect(page.locator("#journey-body")).to_contain_text("did not come from a web visit")
    expect(page.locator("#summary")).to_be_hidden()  # no survey, no outcomes
    page.get_by_label("Transfer to").select_option("12")
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(row(page, "#mine-list", first)).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Transferred to Support.")
    assert [c["conversationId"] for c in acct.desk(sue)["waiting"]] == [first]
    assert acct.desk(bob)["mine"] == []

    row(page, "#waiting-groups", second).get_by_role("button", name="Accept").click()
    expect(row(page, "#mine-list", second)).to_be_visible()
    page.get_by_role("button", name="Close conversation").click()
    expect(row(page, "#mine-list", second)).to_have_count(0)
    expect(page.locator("#composer")).to_be_disabled()
    r = acct.http.get(
        f"/api/account/{acct.id}/agent-workspace/conversations/{second}/public-model",
        params={"path": "visitorInfo.chattingVisitorState"}, headers=bob["headers"],
    )  # fmt: skip
    assert r.json() == "ENDED"

    # The queue refreshes by itself: a new conversation shows up without a reload.
    third = acct.conversation(acct.consumer("c-3"), 11)
    expect(row(page, "#waiting-groups", third)).to_be_visible()

    # The session is the tab's: a reload keeps it, Log out ends it on the server too.
    kept = page.evaluate(
        "['sdehub.bearer', 'sdehub.account', 'sdehub.agentId'].map(k => sessionStorage.getItem(k))"
    )
    assert kept[1:] == [acct.id, bob["id"]]
    page.reload()
    expect(row(page, "#waiting-groups", first)).to_have_count(0)
    expect(page.locator("#who")).to_contain_text("bob")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("User name")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('sdehub.bearer')") is None
    auth = {"Authorization": f"Bearer {kept[0]}"}
    desk = f"/api/account/{acct.id}/agent-workspace/conversations"
    assert _eventually(lambda: acct.http.get(desk, headers=auth).status_code == 401)


def _eventually(check: Any, seconds: float = 5) -> bool:
    """For what the page does without waiting (a logout it does not wait for)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("width", [1280, 1920])
def test_nothing_overflows_horizontally(page: Page, server: str, account: Any, width: int) -> None:
    acct = account(f"7301{width}")
    acct.agent("wide", 11)
    acct.survey(SURVEY)
    consumer = acct.consumer("wide-consumer")
    conv = acct.conversation(consumer, 11)
    long_email = "ana.with.a.very.long.address." + "x" * 60 + "@example.com"
    acct.profile(
        consumer,
        {"type": "ctmrinfo", "info": {"customerId": "C-" + "9" * 120}},
        {"type": "personal", "personal": {"firstname": "Ana", "contacts": [{"email": long_email}]}},
    )
    acct.say(consumer, conv, "x" * 400)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, server, acct.id, "wide")
    row(page, "#waiting-groups", conv).get_by_role("button", name="Accept").click()
    expect(page.locator("#transcript li")).to_have_count(1)
    expect(page.locator('[data-sde="SDE.customerDetails"] .sde-entry')).to_have_count(1)
    expect(page.locator("#survey-form fieldset")).to_have_count(3)
    overflow = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll("body *")]
            .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > width + 1)
            .map((e) => e.tagName + "#" + e.id + "." + e.className);
          return {scroll: document.documentElement.scrollWidth, width, wide};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], overflow
    assert overflow["wide"] == [], overflow
    # Three columns side by side at both widths.
    boxes = [page.locator(s).bounding_box() for s in (".queues", ".conversation", ".side")]
    assert all(b is not None for b in boxes)
    lefts = [b["x"] for b in boxes if b]
    assert lefts == sorted(lefts) and len(set(lefts)) == 3


OUTCOMES = {"outcomes": [
    {"sde": "purchase", "skillIds": [11], "fields": [
        {"field": "total", "displayName": "Basket value"},
        {"field": "orderId", "displayName": "Order reference"}]},
    {"sde": "service", "skillIds": [11], "fields": [
        {"field": "topic", "displayName": "What it was about"},
        {"field": "status", "displayName": "Where it stands"}]},
    {"sde": "lead", "skillIds": [12], "fields": [{"field": "value", "displayName": "Lead worth"}]},
]}  # fmt: skip


def test_an_agent_reports_outcomes_in_the_conversation_summary(
    page: Page, server: str, account: Any
) -> None:
    acct = account("73000003")
    ann = acct.agent("ann", 11)
    acct.put("admin/outcomes", OUTCOMES)
    consumer = acct.consumer("outcome-consumer")
    conv = acct.conversation(consumer, 11)
    url = f"/api/account/{acct.id}/agent-workspace/conversations/{conv}"

    log_in(page, server, acct.id, "ann")
    row(page, "#waiting-groups", conv).get_by_role("button", name="Accept").click()
    expect(row(page, "#mine-list", conv)).to_be_visible()

    # Skill 11's form: the Transaction and the Service activity, with the configured names only.
    summary = page.locator("#summary")
    expect(summary).to_be_visible()
    expect(page.locator("#survey-section")).to_be_hidden()  # no survey for this account
    section = page.locator("#outcomes-section")
    expect(section).to_be_visible()
    expect(section.get_by_role("heading")).to_have_text("Conversation outcomes")
    expect(page.locator("#outcomes-status")).to_have_text("Report what this conversation achieved.")
    forms = section.locator("form.outcome-form")
    expect(forms).to_have_count(2)
    expect(forms.locator("legend")).to_have_text(["Transaction", "Service activity"])
    purchase = section.locator('form[data-outcome="purchase"]')
    service = section.locator('form[data-outcome="service"]')
    expect(purchase.locator("label")).to_have_text(["Basket value", "Order reference"])
    expect(service.locator("label")).to_have_text(["What it was about", "Where it stands"])
    expect(section.locator("input, select")).to_have_count(4)
    expect(section).not_to_contain_text("Lead worth")  # skill 12's
    status = service.get_by_label("Where it stands")
    expect(status.locator("option")).to_have_count(15)  # "Choose…" and the 14 status names

    # A total that is not a number: the server's error, shown for that field, nothing recorded.
    total = purchase.get_by_label("Basket value")
    total.fill("ninety")
    purchase.get_by_label("Order reference").fill("B-7")
    purchase.get_by_role("button", name="Report transaction").click()
    error = purchase.locator("#outcome-purchase-total-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("expected a number")
    expect(total).to_have_attribute("aria-invalid", "true")
    expect(total).to_have_attribute("aria-describedby", "outcome-purchase-total-error")
    expect(total).to_be_focused()
    expect(purchase.locator("#outcome-purchase-orderId-error")).to_be_hidden()
    expect(purchase.get_by_role("list", name="Transaction reported")).to_have_count(0)
    r = acct.http.get(f"{url}/outcomes", headers=ann["headers"])
    assert r.status_code == 200 and r.json()["submissions"] == [], r.text

    # Corrected: recorded, listed as the agent's, and live in Consumer Info as agent-reported.
    # Corrected: while the report is on its way the button is disabled and Enter does not
    # report it a second time (a Transaction appends: twice would be two orders).
    held: list[Route] = []

    def hold(route: Route) -> None:  # until released; then (a second report too) it goes on
        if released:
            route.continue_()
        else:
            held.append(route)

    released = False
    page.route(f"**/conversations/{conv}/outcomes", hold)
    report = purchase.get_by_role("button", name="Report transaction")
    total.fill("99.9")
    report.click()
    expect(report).to_be_disabled()
    total.press("Enter")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)  # for the request to reach the handler, on Playwright's side
    released = True
    for route in held:
        route.continue_()
    expect(page.locator("#toasts")).to_contain_text("Transaction reported.")
    reported = purchase.get_by_role("list", name="Transaction reported").locator("li")
    expect(reported).to_have_count(1)
    expect(reported).to_contain_text("by you: Basket value 99.9, Order reference B-7")
    expect(purchase.locator(".field-error:visible")).to_have_count(0)
    expect(purchase.get_by_label("Basket value")).not_to_have_attribute("aria-invalid", "true")
    entry = page.locator('[data-sde="SDE.transaction"] .sde-entry')
    expect(entry).to_have_count(1)
    expect(entry).to_have_attribute("data-provenance", "agent-reported")
    expect(entry).to_contain_text("99.9")
    expect(entry).to_contain_text("B-7")
    r = acct.http.get(f"{url}/outcomes", headers=ann["headers"])
    assert [(s["sde"], s["values"], s["agentId"]) for s in r.json()["submissions"]] == [
        ("purchase", {"total": 99.9, "orderId": "B-7"}, ann["id"])
    ], r.text
    r = acct.http.get(
        f"{url}/public-model", params={"path": "SDE.transaction"}, headers=ann["headers"]
    )
    assert [(t["total"], t["orderId"], t["_meta"]["source"]) for t in r.json()] == [
        ("99.9", "B-7", "agent")
    ], r.text

    # After the close the form stays usable until the deadline (30 minutes; the clock is real).
    page.get_by_role("button", name="Close conversation").click()
    expect(page.locator("#composer")).to_be_disabled()
    expect(page.locator("#outcomes-status")).to_contain_text("Can be reported until")
    expect(service.get_by_role("button", name="Report service activity")).to_be_enabled()
    expect(service.get_by_label("What it was about")).to_be_enabled()
    service.get_by_role("button", name="Report service activity").click()
    expect(service.locator(".error-list")).to_contain_text("$.values: no value given")
    service.get_by_label("What it was about").fill("returns")
    status.select_option(label="Resolved")
    service.get_by_role("button", name="Report service activity").click()
    done = service.get_by_role("list", name="Service activity reported").locator("li")
    expect(done).to_contain_text("by you: What it was about returns, Where it stands Resolved")
    expect(service.locator(".error-list li")).to_have_count(0)
    expect(page.locator('[data-sde="SDE.serviceActivity"] .sde-entry')).to_contain_text("returns")
    r = acct.http.get(f"{url}/outcomes", headers=ann["headers"])
    form = r.json()
    assert form["open"] is True and ISO_TIME.match(form["deadline"]), form
    assert [s["sde"] for s in form["submissions"]] == ["purchase", "service"], form
