"""The Data Access API in process: listings, downloads, file contents, schema, auth, clock."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
import httpx
import pytest
from oauthlib.oauth1 import Client

from sdehub.dataaccess import files
from tests.conftest import HarnessFactory
from tests.dataaccess_util import read_file, records
from tests.harness import ACCOUNT, Harness, close, text
from tests.test_monitoring import CART, CUSTOMER, SERVICE, put_events, visit

pytestmark = pytest.mark.anyio
HOUR = files.HOUR_MS
LE = f"/data_access_le/account/{ACCOUNT}/le"
GOLDEN = Path(__file__).parent / "data" / "dataaccess_engagement_line.json"
# Field names and order of a conversation and a transcript line in LivePerson's example file.
CONVERSATION_FIELDS = [
    "type", "conversationId", "conversationStartTime", "interactionStartTime",
    "conversationEndTime", "consumerId", "isInteractive", "sourceOrigin", "sourceDevice",
    "endReasonId", "campaignData", "skills", "startReasonId", "startPage", "startUrl",
    "transcripts", "transfers", "secureForms", "mcs", "queueStartTime", "queueEndTime",
]  # fmt: skip
MESSAGE_FIELDS = [
    "text", "timestamp", "by", "type", "controlType", "agentId", "contentFormat", "messageId",
    "dialogId", "fileData", "linkData", "mcs",
]  # fmt: skip


async def advance(h: Harness, ms: int) -> Any:
    r = await h.client.post(f"/api/account/{ACCOUNT}/emulator/clock/advance", params={"ms": ms})
    assert r.status_code == 200, r.text
    return r.json()


async def listing(
    h: Harness, resource: str, start: int, end: int, headers: dict[str, str]
) -> httpx.Response:
    return await h.client.get(
        f"{LE}/{resource}", params={"startTime": start, "endTime": end}, headers=headers
    )


async def download(h: Harness, resource: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    start = h.clock.now_ms() - 48 * HOUR
    r = await listing(h, resource, start, h.clock.now_ms(), headers)
    assert r.status_code == 200, r.text
    docs = []
    for f in r.json()["dataAccessFiles"]["file"]:
        got = await h.client.get(f["@href"].removeprefix("http://sdehub.test"), headers=headers)
        assert got.status_code == 200 and got.content[:2] == b"\x1f\x8b"
        docs += read_file(got.content)
    return docs


async def messaging_conversation(h: Harness) -> str:
    connector = await h.connector()
    conv = await h.open_conversation(connector, CUSTOMER)
    r = await h.post_send(connector, text(conv, "where is my order?"))
    assert r.status_code == 200, r.text
    h.clock.advance(1_000)
    r = await h.post_send(connector, close(conv))
    assert r.status_code == 200, r.text
    return conv


def test_the_seed_example_line_parses_against_the_shipped_schema() -> None:
    line = json.dumps(json.loads(GOLDEN.read_text()))
    (datum,) = list(fastavro.json_reader(io.StringIO(line), files.schema()))
    conversation = datum["recordCollection"][0]["body"]["engagements"][0]
    assert conversation["skills"] == [7] and conversation["transfers"] == []


async def test_engagement_file_follows_the_documented_shape(h: Harness) -> None:
    agent = await h.agent()
    t0 = h.clock.now_ms()
    conv = await messaging_conversation(h)
    moved = await advance(h, HOUR)
    assert moved["nowMs"] == h.clock.now_ms() == t0 + HOUR + 1_000
    # The hour is written by this call, or by the background pass if it got there first.
    assert moved["exportedHours"] in ([t0], [])
    docs = await download(h, "engagement", agent)
    golden = json.loads(GOLDEN.read_text())
    (doc,) = docs
    assert list(doc) == list(golden) == ["dataType", "metaData", "recordCollection"]
    assert doc["dataType"] == {"com.liveperson.dataaccess.DataTypeEnum": "Engagement"}
    meta = doc["metaData"]["com.liveperson.dataaccess.MetaData"]
    assert list(meta) == ["accountId", "schemaVersion", "startTime", "endTime"]
    assert meta["accountId"] == {"string": ACCOUNT} and meta["schemaVersion"] == "1.0.0.22"
    (item,) = doc["recordCollection"]["array"]
    data = item["body"]["com.liveperson.dataaccess.EngagementData"]
    golden_data = golden["recordCollection"]["array"][0]["body"][
        "com.liveperson.dataaccess.EngagementData"
    ]
    assert data["header"] == golden_data["header"]  # no web visit: empty strings, as documented
    (wrapped,) = data["engagements"]["array"]
    c = wrapped["com.liveperson.dataaccess.Conversation"]
    assert list(c)[: len(CONVERSATION_FIELDS)] == CONVERSATION_FIELDS
    assert c["type"] == {"com.liveperson.dataaccess.ConversationType": "MESSAGING"}
    assert c["conversationId"] == {"string": conv}
    assert c["transfers"] == {"array": []} and c["secureForms"] == {"array": []}
    assert c["isInteractive"] == {"boolean": True} and c["endReasonId"] == {"int": 210}
    (line,) = c["transcripts"]["array"]
    assert list(line) == MESSAGE_FIELDS
    assert line["text"] == {"string": "where is my order?"} and line["type"] == {"string": "0"}


async def test_web_session_file_carries_sdes_pages_and_no_impressions(h: Harness) -> None:
    vid, sid = await visit(h)
    jwt = await h.app_jwt()
    r = await put_events(h, vid, sid, [SERVICE, CUSTOMER, CART], {"Authorization": jwt})
    assert r.status_code == 200, r.text
    await advance(h, HOUR)
    agent = await h.agent()
    found = dict(records(await download(h, "webSession", agent)))
    header = {"visitId": {"string": sid}, "visitorId": {"string": vid}, "contextId": None}
    attrs = found["WebSessionEngAttrsData"]
    assert attrs["header"]["com.liveperson.dataaccess.VisitorHeader"] == header
    data = [next(iter(a["data"].items())) for a in attrs["engagementAttributes"]["array"]]
    names = [name.rsplit(".", 1)[1] for name, _ in data]
    assert names == ["ServiceActivity", "CustomerInfo", "CartStatus"]
    customer = data[1][1]
    assert customer["customerType"] == {"string": "gold"}
    assert customer["balance"] == {"double": 120.5}
    pages = found["WebSessionNavigationData"]["pageViews"]["array"]
    assert pages[0]["sections"] == {"array": ["Sport"]}


async def test_agent_activity_reports_logins(h: Harness) -> None:
    agent = await h.agent()
    await advance(h, HOUR)
    (session,) = [body for _, body in records(await download(h, "agentActivity", agent))]
    (login,) = session["agentSessionsData"]["array"]
    assert login["type"] == {"int": 3} and login["state"] == {"int": 2}
    assert login["maxConcurrentEng"] == {"int": -9}
    assert login["agentLoginname"] == {"string": "agent-1"}


async def test_an_hour_without_events_gives_empty_files(h: Harness) -> None:
    agent = await h.agent()
    h.clock.advance(HOUR)  # the login falls in the first hour; the second has nothing
    await advance(h, HOUR)
    r = await listing(h, "survey", h.clock.now_ms() - HOUR, h.clock.now_ms(), agent)
    (f,) = r.json()["dataAccessFiles"]["file"]
    got = await h.client.get(f["@href"].removeprefix("http://sdehub.test"), headers=agent)
    assert read_file(got.content) == []


async def test_listing_semantics(h: Harness) -> None:
    agent = await h.agent()
    t0 = h.clock.now_ms()
    r = await listing(h, "engagement", t0 - 10 * HOUR, t0 + 10 * HOUR, agent)
    assert r.status_code == 404 and "No Available Files" in r.text
    await advance(h, 3 * HOUR)
    r = await listing(h, "engagement", t0, t0 + 3 * HOUR, agent)
    body = r.json()["dataAccessFiles"]
    assert body["@id"] == ACCOUNT
    assert body["link"] == {"@href": f"http://sdehub.test{LE}/engagement", "@rel": "self"}
    assert [f["@name"] for f in body["file"]] == [
        f"Engagement.{t0 + i * HOUR}.{t0 + (i + 1) * HOUR}.part-00000-0.gz" for i in range(3)
    ]
    first = body["file"][0]
    assert first["@scopeStartDate"] == "2026-01-01T00:00:00+00:00"
    assert first["@scopeEndDate"] == "2026-01-01T01:00:00+00:00"
    assert first["@href"] == f"http://sdehub.test{LE}/engagement/{first['@name']}"
    # A file is listed when its hour starts in [startTime, endTime): windows chain exactly.
    r = await listing(h, "engagement", t0 + 1, t0 + HOUR + 1, agent)
    assert [f["@name"].split(".")[1] for f in r.json()["dataAccessFiles"]["file"]] == [
        str(t0 + HOUR)
    ]
    r = await listing(h, "engagement", t0 + 3 * HOUR, t0 + 9 * HOUR, agent)
    assert r.status_code == 404 and "No Available Files" in r.json()["message"]
    for params in ({"startTime": t0}, {"endTime": t0}, {"startTime": "x", "endTime": t0}):
        r = await h.client.get(f"{LE}/survey", params=params, headers=agent)
        assert r.status_code == 400, params
    r = await listing(h, "survey", t0 + HOUR, t0, agent)
    assert r.status_code == 400


async def test_links_follow_the_proxy_headers(h: Harness) -> None:
    agent = await h.agent()
    proxy = {**agent, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "va-a.da.example.net"}
    r = await h.client.get(LE, headers=proxy)
    assert r.status_code == 200, r.text
    le = r.json()["le"]
    assert le["@accountId"] == ACCOUNT
    base = f"https://va-a.da.example.net{LE}"
    assert le["link"] == [
        {"@href": base, "@rel": "self"},
        {"@href": f"{base}/agentActivity", "@rel": "agentActivity"},
        {"@href": f"{base}/webSession", "@rel": "webSession"},
        {"@href": f"{base}/engagement", "@rel": "engagement"},
        {"@href": f"{base}/survey", "@rel": "survey"},
        {"@href": f"{base}/schema", "@rel": "schema"},
    ]
    t0 = h.clock.now_ms()
    await advance(h, HOUR)
    r = await listing(h, "webSession", t0, t0 + HOUR, proxy)
    (f,) = r.json()["dataAccessFiles"]["file"]
    assert f["@href"].startswith(f"{base}/webSession/WebSession.{t0}.")


async def test_downloads_of_unknown_files_are_404(h: Harness) -> None:
    agent = await h.agent()
    await advance(h, HOUR)
    t0 = h.clock.now_ms() - HOUR
    for path in (
        f"{LE}/survey/Survey.{t0 - HOUR}.{t0}.part-00000-0.gz",
        f"{LE}/survey/..%2F..%2Fapp0.db",
        f"{LE}/nothing/Survey.{t0}.{t0 + HOUR}.part-00000-0.gz",
        f"{LE}/engagement/Survey.{t0}.{t0 + HOUR}.part-00000-0.gz",
    ):
        r = await h.client.get(path, headers=agent)
        assert r.status_code == 404, path


async def test_schema_endpoint(h: Harness) -> None:
    agent = await h.agent()
    r = await h.client.get(f"{LE}/schema", params={"schemaId": "latest"}, headers=agent)
    assert r.status_code == 200
    parsed = fastavro.parse_schema(r.json())
    assert parsed["name"] == "com.liveperson.dataaccess.DataAccessFile"
    assert (await h.client.get(f"{LE}/schema", headers=agent)).json() == r.json()
    r = await h.client.get(f"{LE}/schema", params={"schemaId": "0.9"}, headers=agent)
    assert r.status_code == 404


async def test_every_resource_needs_a_caller(h: Harness) -> None:
    t0 = h.clock.now_ms()
    for path in (LE, f"{LE}/schema", f"{LE}/engagement?startTime={t0}&endTime={t0}"):
        r = await h.client.get(path)
        assert r.status_code == 401, path
        r = await h.client.get(path, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401, path


async def test_the_clock_moves_in_emulator_mode_only(make_harness: HarnessFactory) -> None:
    async with make_harness(emulator=False) as h:
        r = await h.client.post(
            f"/api/account/{ACCOUNT}/emulator/clock/advance", params={"ms": HOUR}
        )
        assert r.status_code == 404
    async with make_harness() as h:
        r = await h.client.post(f"/api/account/{ACCOUNT}/emulator/clock/advance")
        assert r.status_code == 400


async def test_an_oauth1_api_key_lists_and_downloads(h: Harness) -> None:
    await h.svc.apikeys.add(
        ACCOUNT, consumer_key="ck", consumer_secret="cs", token="tk", token_secret="ts"
    )
    t0 = h.clock.now_ms()
    await advance(h, HOUR)

    def signed(url: str, secret: str = "cs") -> dict[str, str]:
        client = Client(
            "ck", client_secret=secret, resource_owner_key="tk", resource_owner_secret="ts",
            timestamp=str(h.clock.now_ms() // 1000), nonce=f"n-{url}-{secret}",
        )  # fmt: skip
        _, headers, _ = client.sign(url, http_method="GET")
        return dict(headers)

    url = f"http://sdehub.test{LE}/engagement?startTime={t0}&endTime={t0 + HOUR}"
    r = await h.client.get(url, headers=signed(url))
    assert r.status_code == 200, r.text
    href = r.json()["dataAccessFiles"]["file"][0]["@href"]
    got = await h.client.get(href, headers=signed(href))
    assert got.status_code == 200 and read_file(got.content) == []
    r = await h.client.get(url, headers=signed(url, secret="wrong"))
    assert r.status_code == 401 and "signature does not match" in r.json()["message"]


async def test_a_malformed_account_id_is_404(h: Harness) -> None:
    agent = await h.agent()
    for account in ("..", "a.b", "x" * 65):
        r = await h.client.get(f"/data_access_le/account/{account}/le/survey/x", headers=agent)
        assert r.status_code == 404, account


async def test_any_window_answers_with_a_list_or_a_documented_error(h: Harness) -> None:
    agent = await h.agent()
    await advance(h, 2 * HOUR)
    t0 = h.clock.now_ms() - 2 * HOUR
    values = ["", "-1", "0", "abc", "1e3", str(t0), str(t0 + HOUR), str(t0 + 2 * HOUR), "9" * 30]
    for start in values:
        for end in values:
            r = await h.client.get(
                f"{LE}/agentActivity", params={"startTime": start, "endTime": end}, headers=agent
            )
            assert r.status_code in (200, 400, 404), (start, end, r.text)
            if r.status_code == 200:
                names = [f["@name"] for f in r.json()["dataAccessFiles"]["file"]]
                assert all(int(start) <= int(n.split(".")[1]) < int(end) for n in names)
