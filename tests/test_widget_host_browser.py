"""The widget host (sdehub/web/workspace/widget-host.js) in a real browser, against a real server
and websocket, with a test widget (tests/data/widget) that speaks the widget side of the Agent
Workspace Widget SDK wire, served from another origin so the origin rules are real.

The host page is a small harness (tests/data/harness) on the server's own origin, mounting the
host with a textarea composer; the conversation comes through the Connector API and the pushes
from SDEs a connector reports.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Frame, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sdehub.app import create_app
from sdehub.settings import Settings
from tests.browser import serve

pytestmark = pytest.mark.browser
DATA = Path(__file__).parent / "data"
WS = "websockets-sansio"  # the host's Get/Bind go over the agent workspace websocket
SKILLS = [{"id": 11, "name": "Sales"}, {"id": 12, "name": "Support"}]
CUSTOMER = {"type": "ctmrinfo", "info": {"cstatus": "gold", "customerId": "c-1"}}
PERSON = {"type": "personal", "personal": {"firstname": "John", "lastname": "Doe"}}


def with_harness(app: Starlette) -> Starlette:
    """The harness page on the server's origin: the host calls the API same-origin, and loads
    from the workspace's static files like the workspace page does."""

    async def harness(request: Request) -> Response:
        return FileResponse(DATA / "harness" / "harness.html")

    app.router.routes.insert(0, Route("/test-harness/harness.html", harness))
    return app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("widgets") / "w.db"
    with serve(with_harness(create_app(Settings(db=str(db), emulator=True))), ws=WS) as base:
        yield base


@pytest.fixture(scope="module")
def widget_port() -> Iterator[int]:
    """The test widget's files on a port of their own: ``localhost:port`` is the widget's origin,
    ``127.0.0.1:port`` a third origin (the server is ``127.0.0.1`` on another port)."""
    app = Starlette(routes=[Mount("/", StaticFiles(directory=DATA / "widget"))])
    with serve(app) as base:
        yield int(base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A TCP server that accepts and never answers: a backend that does not reply."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    sock.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@dataclass
class Setup:
    """An account with a catalog, a widget, an agent holding a conversation of skill 11."""

    base: str
    account: str
    bearer: str
    agent_id: str
    conversation_id: str
    connector: dict[str, str]

    def report(self, sde: dict[str, Any]) -> None:
        """A connector reports an SDE for the consumer mid-conversation."""
        r = httpx.post(
            f"{self.base}/api/account/{self.account}/messaging/consumer/conversation/send",
            params={"v": "3"},
            headers=self.connector,
            json={
                "kind": "req", "id": "9", "type": "userprofile.SetUserProfile",
                "body": {"authenticatedData": {"lp_sdes": [sde]}},
            },
        )  # fmt: skip
        assert r.status_code == 200, r.text


def set_up(base: str, widget_url: str, *, accept: bool = True) -> Setup:
    account = f"74{uuid.uuid4().int % 10**6:06d}"
    with httpx.Client(base_url=f"{base}/api/account/{account}", timeout=10) as http:
        r = http.post("/login", params={"v": "1.3"}, json={"username": "ann", "password": "pw"})
        assert r.status_code == 200, r.text
        bearer, agent_id = r.json()["bearer"], r.json()["config"]["userId"]
        auth = {"Authorization": f"Bearer {bearer}"}
        assert http.put("/admin/catalog", headers=auth, json={"skills": SKILLS}).is_success
        widget = {"id": "test", "name": "Test widget", "url": widget_url, "skillIds": [11]}
        r = http.put("/admin/widgets", headers=auth, json={"widgets": [widget]})
        assert r.status_code == 200, r.text
        r = httpx.post(
            f"{base}/sentinel/api/account/{account}/app/token",
            params={"v": "1.0", "grant_type": "client_credentials"},
            data={"client_id": "widget-tests", "client_secret": "widget-secret"},
        )
        app_jwt = r.json()["access_token"]
        r = http.post("/consumer", headers={"Authorization": app_jwt},
                      json={"ext_consumer_id": "widget-consumer"})  # fmt: skip
        connector = {"Authorization": app_jwt, "X-LP-ON-BEHALF": r.json()["token"]}
        r = http.post(
            "/messaging/consumer/conversation", params={"v": "3"}, headers=connector,
            json=[
                {"kind": "req", "id": "1", "type": "userprofile.SetUserProfile",
                 "body": {"authenticatedData": {"lp_sdes": [PERSON]}}},
                {"kind": "req", "id": "2", "type": "cm.ConsumerRequestConversation",
                 "body": {"brandId": account, "skillId": "11"}},
            ],
        )  # fmt: skip
        assert r.status_code == 200, r.text
        conversation_id = r.json()[1]["body"]["conversationId"]
        if accept:
            r = http.post(f"/agent-workspace/conversations/{conversation_id}/accept", headers=auth)
            assert r.status_code == 200, r.text
        else:  # the agent accepts it in the workspace page, from the queue of its skill
            r = http.put(f"/admin/agents/{agent_id}", headers=auth, json={"skillIds": [11]})
            assert r.status_code == 200, r.text
    return Setup(base, account, bearer, agent_id, conversation_id, connector)


def mount(page: Page, s: Setup, **options: Any) -> None:
    page.goto(f"{s.base}/test-harness/harness.html")
    page.evaluate(
        "o => startHost(o)",
        {"accountId": s.account, "bearer": s.bearer, "agentId": s.agent_id, **options},
    )
    page.evaluate("([c, k]) => host.setConversation(c, k)", [s.conversation_id, "11"])


def widget_frame(page: Page) -> Frame:
    """The test widget's frame, once the host's handshake completed."""
    expect(page.locator('section[data-widget-id="test"]')).to_have_attribute("data-state", "ready")
    handle = page.locator('section[data-widget-id="test"] iframe').element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    expect(frame.locator("#status")).to_have_text("connected")
    return frame


def records(frame: Frame, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = frame.evaluate(
        "kind => records.filter(r => r.kind === kind)", kind
    )
    return found


def wait_records(frame: Frame, kind: str, count: int) -> list[dict[str, Any]]:
    # Polling, not animation frames: an iframe out of view gets none.
    frame.wait_for_function(
        "([kind, n]) => records.filter(r => r.kind === kind).length >= n",
        arg=[kind, count],
        polling=50,
    )
    return records(frame, kind)


@pytest.fixture
def widget_url(widget_port: int) -> str:
    return f"http://localhost:{widget_port}/widget.html?sdk=test"


def test_get_bind_push_unbind_and_commands(page: Page, server: str, widget_url: str) -> None:
    s = set_up(server, widget_url)
    mount(page, s)
    frame = widget_frame(page)
    # The iframe src carries the widget's own query and lpHost (nothing else: MessageChannel
    # and structured clone are the defaults).
    src = page.locator("section iframe").get_attribute("src")
    assert src == widget_url + "&lpHost=" + quote(server, safe="")
    assert records(frame, "ready") == [{"kind": "ready", "mode": "channel", "json": False}]

    got = frame.evaluate("sdk.get('visitorInfo.visitorName')")
    assert got["args"] == [None, "John Doe"]
    got = frame.evaluate("sdk.get('SDE.customerDetails')")
    assert got["args"] == [None, []]

    done = frame.evaluate("sdk.bind('SDE.customerDetails')")
    assert done["args"] == [None]
    first = wait_records(frame, "trigger", 1)
    assert first == [{
        "kind": "trigger", "appName": "iFrame manager", "eventName": "SDE.customerDetails",
        "data": {"key": "SDE.customerDetails", "newValue": []}, "delivered": True,
    }]  # fmt: skip
    s.report(CUSTOMER)
    pushed = wait_records(frame, "trigger", 2)[1]
    assert pushed["eventName"] == "SDE.customerDetails"
    assert [(e["status"], e["customerId"]) for e in pushed["data"]["newValue"]] == [("gold", "c-1")]

    # chatTranscript.lines: every line at once, then only the new ones.
    assert frame.evaluate("sdk.bind('chatTranscript.lines')")["args"] == [None]
    lines = wait_records(frame, "trigger", 3)[2]
    assert lines["eventName"] == "chatTranscript.lines" and lines["data"]["newValue"] == []

    done = frame.evaluate("sdk.command('Write ChatLine', {text: 'hello from widget'})")
    assert done["args"] == [None]
    expect(page.locator("#composer")).to_have_value("hello from widget")
    done = frame.evaluate(
        "sdk.command('Write StructuredContent', {json: {type: 'vertical', elements: []}})"
    )
    assert done["args"] == [None]
    expect(page.locator("#structured")).to_have_text('{"type":"vertical","elements":[]}')
    assert frame.evaluate("sdk.command('Send Notification', {})")["args"] == [None]
    expect(page.locator("#toasts")).to_contain_text("Test widget: notification")
    assert frame.evaluate("sdk.command('Initialize', {})")["args"] == [None]
    sent = frame.evaluate("sdk.sendFile('hello', 'a.txt')")
    assert sent["err"] == {
        "error": "Send File is not supported by this agent workspace",
        "isError": True,
    }

    # Unbind stops the pushes of that key, and only that key.
    assert frame.evaluate("sdk.unbind('SDE.customerDetails')")["args"] == [None]
    s.report({"type": "ctmrinfo", "info": {"cstatus": "silver"}})
    r = httpx.post(
        f"{s.base}/api/account/{s.account}/agent-workspace/conversations/"
        f"{s.conversation_id}/messages",
        headers={"Authorization": f"Bearer {s.bearer}"},
        json={"text": "a line after the unbind"},
    )
    assert r.status_code == 201, r.text
    after = wait_records(frame, "trigger", 4)
    page.wait_for_timeout(500)
    after = records(frame, "trigger")
    assert [t["eventName"] for t in after[3:]] == ["chatTranscript.lines"]
    assert [line["text"] for line in after[3]["data"]["newValue"]] == ["a line after the unbind"]


@pytest.mark.parametrize(
    ("transport", "json_mode"), [("channel", True), ("polyfill", False), ("polyfill", True)]
)
def test_polyfill_and_json_modes(
    page: Page, server: str, widget_url: str, transport: str, json_mode: bool
) -> None:
    s = set_up(server, widget_url)
    mount(page, s, transport=transport, json=json_mode)
    frame = widget_frame(page)
    src = page.locator("section iframe").get_attribute("src") or ""
    assert ("lpPMCPolyfill=true" in src) == (transport == "polyfill")
    assert ("lpPMDeSerialize=true" in src) == json_mode
    assert records(frame, "ready") == [{"kind": "ready", "mode": transport, "json": json_mode}]
    assert frame.evaluate("sdk.get('visitorInfo.visitorName')")["args"] == [None, "John Doe"]
    assert frame.evaluate("sdk.bind('SDE.customerDetails')")["args"] == [None]
    s.report(CUSTOMER)
    pushed = wait_records(frame, "trigger", 2)[1]
    assert pushed["data"]["newValue"][0]["status"] == "gold"
    frame.evaluate(f"sdk.command('Write ChatLine', {{text: 'via {transport}'}})")
    expect(page.locator("#composer")).to_have_value(f"via {transport}")
    assert records(frame, "dropped") == []


def test_error_returns(page: Page, server: str, widget_url: str) -> None:
    s = set_up(server, widget_url)
    mount(page, s)
    frame = widget_frame(page)
    got = frame.evaluate("sdk.get('SDE.nope')")
    assert got["err"] == {"error": "the public model has no path 'SDE.nope'", "isError": True}
    got = frame.evaluate("sdk.bind('nothing.here')")
    assert got["err"]["isError"] and "nothing.here" in got["err"]["error"]
    got = frame.evaluate("sdk.command('Make Coffee', {})")
    assert got["args"] == ["Unsupported command: Make Coffee"]
    got = frame.evaluate("sdk.request('Set Consumer Profile', {firstName: 'J'})")
    assert got["args"] == ["Unsupported request: Set Consumer Profile"]
    got = frame.evaluate("sdk.command('Write ChatLine', {})")
    assert got["err"]["error"] == "Write ChatLine needs data.text (a string)"
    # A wrong token is dropped silently; the next good envelope still works.
    frame.evaluate(
        """sdk.sendRaw({token: 'LPTKN_wrong', method: {id: 'LPMSG_command_x', name: 'command',
            args: [{appName: 'iFrame manager', cmdName: 'Write ChatLine',
                    data: {text: 'bad'}}]}})"""
    )
    frame.evaluate("sdk.command('Write ChatLine', {text: 'good'})")
    expect(page.locator("#composer")).to_have_value("good")
    assert page.evaluate("written") == ["good"]
    assert records(frame, "timeout") == []


def test_a_backend_that_does_not_answer_gets_an_error_reply(
    page: Page, server: str, widget_url: str, silent_port: int
) -> None:
    """The widget's callbacks time out after 30 s; the host answers before, with an error."""
    s = set_up(server, widget_url)
    mount(page, s, liveUrl=f"ws://127.0.0.1:{silent_port}/ws", replyTimeoutMs=1500)
    frame = widget_frame(page)
    started = time.monotonic()
    got = frame.evaluate("sdk.get('visitorInfo.visitorName')")
    elapsed = time.monotonic() - started
    assert got["err"] == {
        "error": "Get visitorInfo.visitorName: sdehub did not answer within 1500 ms",
        "isError": True,
    }
    assert 1.4 < elapsed < 5, elapsed
    # Commands the host does itself are not held up by the silent backend.
    assert frame.evaluate("sdk.command('Write ChatLine', {text: 'still here'})")["args"] == [None]
    # The default is the SDK's 30 s.
    assert "DEFAULT_REPLY_TIMEOUT_MS = 30000" in (
        files("sdehub").joinpath("web", "workspace", "widget-host.js").read_text()
    )


def test_a_widget_redirected_to_another_origin_gets_no_handshake(
    page: Page, server: str, widget_port: int
) -> None:
    """The handshake targets the configured URL's origin: a document of another origin in the
    iframe never receives the port (spec §6)."""
    target = f"http://127.0.0.1:{widget_port}/widget.html"
    s = set_up(server, f"http://localhost:{widget_port}/redirect.html?to={target}")
    mount(page, s, handshakeRetryMs=300)
    section = page.locator('section[data-widget-id="test"]')
    frame = _wait_frames(page, "127.0.0.1")[0]
    expect(frame.locator("#status")).to_have_text("waiting for the host")
    page.wait_for_timeout(1500)  # several offers later
    expect(frame.locator("#status")).to_have_text("waiting for the host")
    expect(section).to_have_attribute("data-state", "loading")


def _wait_frames(page: Page, host: str) -> list[Frame]:
    for _ in range(250):
        found = [f for f in page.frames if f"//{host}:" in f.url and "widget.html" in f.url]
        if found:
            found[0].wait_for_load_state()
            return found
        page.wait_for_timeout(20)
    raise AssertionError("the redirected widget never loaded")


def test_polyfill_mode_drops_messages_of_other_origins_and_windows(
    page: Page, server: str, widget_url: str, widget_port: int
) -> None:
    s = set_up(server, widget_url)
    mount(page, s, transport="polyfill")
    frame = widget_frame(page)
    # A page of a third origin inside the widget knows the token and posts to the host window.
    frame.evaluate(f"sdk.spawn('http://127.0.0.1:{widget_port}/evil.html')")
    evil = _wait_frames_named(page, "evil.html")[0]
    evil.wait_for_function("typeof forge === 'function'")
    assert evil.evaluate("forge('forged')") == frame.evaluate("sdk.token()")
    expect(evil.locator("#status")).to_have_text("sent")
    frame.evaluate("sdk.command('Write ChatLine', {text: 'genuine'})")
    expect(page.locator("#composer")).to_have_value("genuine")
    page.wait_for_timeout(300)
    assert page.evaluate("written") == ["genuine"]


def _wait_frames_named(page: Page, name: str) -> list[Frame]:
    for _ in range(250):
        found = [f for f in page.frames if name in f.url]
        if found:
            found[0].wait_for_load_state()
            return found
        page.wait_for_timeout(20)
    raise AssertionError(f"{name} never loaded")


def test_visitor_events_notify_and_a_reloaded_widget(
    page: Page, server: str, widget_url: str
) -> None:
    s = set_up(server, widget_url)
    mount(page, s, handshakeRetryMs=500)
    frame = widget_frame(page)
    page.evaluate("host.visitorBlur()")
    page.evaluate("host.visitorFocus()")
    page.evaluate("host.notifyWidgets({text: 'hi widget'})")
    triggers = wait_records(frame, "trigger", 3)
    assert [(t["appName"], t["eventName"], t["data"]) for t in triggers] == [
        ("iFrame events", "Visitor Blurred", {}),
        ("iFrame events", "Visitor Focused", {}),
        ("iFrame events", "Notify", {"text": "hi widget"}),
    ]
    commands = wait_records(frame, "command", 1)
    assert commands == [{
        "kind": "command", "appName": "iFrame manager", "cmdName": "Notify",
        "data": {"text": "hi widget"},
    }]  # fmt: skip
    # A reload is a new document and a new courier: the host hands it a new handshake, and
    # forgets the old document's bindings.
    assert frame.evaluate("sdk.bind('SDE.customerDetails')")["args"] == [None]
    page.evaluate("host.visitorBlur()")
    frame.evaluate("location.reload()")
    frame = widget_frame(page)
    # A widget opened while the visitor is away learns it at once.
    triggers = wait_records(frame, "trigger", 1)
    assert [t["eventName"] for t in triggers] == ["Visitor Blurred"]
    assert frame.evaluate("sdk.get('visitorInfo.visitorName')")["args"] == [None, "John Doe"]
    s.report(CUSTOMER)
    assert frame.evaluate("sdk.get('SDE.customerDetails')")["value"][0]["status"] == "gold"
    page.wait_for_timeout(500)
    assert [t["eventName"] for t in records(frame, "trigger")] == ["Visitor Blurred"]


def test_widgets_follow_the_conversations_skill(page: Page, server: str, widget_url: str) -> None:
    s = set_up(server, widget_url)
    mount(page, s)
    widget_frame(page)
    page.evaluate("([c]) => host.setConversation(c, '12')", [s.conversation_id])
    expect(page.locator("section.sdehub-widget")).to_have_count(0)
    page.evaluate("([c]) => host.setConversation(c, '11')", [s.conversation_id])
    widget_frame(page)
    page.evaluate("host.setConversation(null, null)")
    expect(page.locator("section.sdehub-widget")).to_have_count(0)


def test_through_the_workspace_page(page: Page, server: str, widget_url: str) -> None:
    """The agent logs in to /workspace/, accepts the conversation; the configured widget loads in
    its iframe, gets and binds, is pushed an SDE another API reports, writes to #composer."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    s = set_up(server, widget_url, accept=False)
    page.goto(f"{server}/workspace/")
    page.get_by_label("Account id").fill(s.account)
    page.get_by_label("User name").fill("ann")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    waiting = page.locator(f'#waiting-groups .conv-item[data-conversation="{s.conversation_id}"]')
    waiting.get_by_role("button", name="Accept").click()
    expect(page.locator("#composer")).to_be_enabled()

    frame = widget_frame(page)
    assert page.locator("#custom-widgets section.sdehub-widget").count() == 1
    assert frame.evaluate("sdk.get('visitorInfo.visitorName')")["args"] == [None, "John Doe"]
    assert frame.evaluate("sdk.bind('SDE.customerDetails')")["args"] == [None]
    assert wait_records(frame, "trigger", 1)[0]["data"]["newValue"] == []
    s.report(CUSTOMER)
    pushed = wait_records(frame, "trigger", 2)[1]
    assert pushed["data"]["newValue"][0]["status"] == "gold"
    frame.evaluate("sdk.command('Write ChatLine', {text: 'Your order ships today'})")
    expect(page.locator("#composer")).to_have_value("Your order ships today")
    frame.evaluate("sdk.command('Send Notification', {})")
    expect(page.locator("#toasts")).to_contain_text("Test widget: notification")
    assert errors == []


def test_a_widget_that_calls_init_again_is_handed_a_new_channel(
    page: Page, server: str, widget_url: str
) -> None:
    """LivePerson's host hands out one handshake per document, so a widget's second init()
    hangs; this host keeps offering, and answers on whichever port a request came from."""
    s = set_up(server, widget_url)
    mount(page, s, handshakeRetryMs=300)
    frame = widget_frame(page)
    first = frame.evaluate("sdk.token()")
    frame.evaluate("sdk.reinit()")
    expect(frame.locator("#status")).to_have_text("connected")
    assert len(records(frame, "ready")) == 2 and frame.evaluate("sdk.token()") == first
    assert frame.evaluate("sdk.get('visitorInfo.visitorName')")["args"] == [None, "John Doe"]
    assert frame.evaluate("sdk.bind('SDE.customerDetails')")["args"] == [None]
    s.report(CUSTOMER)
    assert wait_records(frame, "trigger", 2)[1]["data"]["newValue"][0]["status"] == "gold"
