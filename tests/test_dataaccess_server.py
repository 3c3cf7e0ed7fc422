"""A warehouse loader's path over a real socket: ``sdehub serve --emulator`` in a subprocess, the
clock moved past the hour, files listed, downloaded, decompressed and checked line by line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, start_server, stop_server
from tests.dataaccess_util import read_file, records

pytestmark = pytest.mark.server
ACCOUNT = "7001"
HOUR = 3_600_000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    running = start_server(tmp_path / "da.db", "--emulator")
    try:
        yield running
    finally:
        stop_server(running)


def test_a_loader_downloads_the_closed_hour(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base, timeout=10) as http:
        app = http.post(
            f"/sentinel/api/account/{ACCOUNT}/app/token",
            params={"v": "1.0", "grant_type": "client_credentials"},
            data={"client_id": "loader-app", "client_secret": "s"},
        ).json()["access_token"]
        jws = http.post(
            f"/api/account/{ACCOUNT}/consumer", headers={"Authorization": app},
            json={"ext_consumer_id": "c-1"},
        ).json()["token"]  # fmt: skip
        sde = {"type": "ctmrinfo", "info": {"customerId": "C-77"}}
        r = http.post(
            f"/api/account/{ACCOUNT}/messaging/consumer/conversation", params={"v": "3"},
            headers={"Authorization": app, "X-LP-ON-BEHALF": jws},
            json=[
                {"kind": "req", "id": "1", "type": "userprofile.SetUserProfile",
                 "body": {"authenticatedData": {"lp_sdes": [sde]}}},
                {"kind": "req", "id": "2", "type": "cm.ConsumerRequestConversation",
                 "body": {"brandId": ACCOUNT}},
            ],
        )  # fmt: skip
        conv = r.json()[1]["body"]["conversationId"]
        r = http.post(
            f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send", params={"v": "3"},
            headers={"Authorization": app, "X-LP-ON-BEHALF": jws},
            json={"kind": "req", "id": "3", "type": "ms.PublishEvent",
                  "body": {"dialogId": conv, "event": {
                      "type": "ContentEvent", "contentType": "text/plain", "message": "hi é"}}},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        r = http.post(
            f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send", params={"v": "3"},
            headers={"Authorization": app, "X-LP-ON-BEHALF": jws},
            json={"kind": "req", "id": "3", "type": "cm.UpdateConversationField",
                  "body": {"conversationId": conv, "conversationField": {
                      "field": "ConversationStateField", "conversationState": "CLOSE"}}},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        bearer = http.post(
            f"/api/account/{ACCOUNT}/login", params={"v": "1.3"},
            json={"username": "loader", "password": "pw"},
        ).json()["bearer"]  # fmt: skip
        auth = {"Authorization": f"Bearer {bearer}"}

        now = int(time.time() * 1000)
        to_next_hour = HOUR - now % HOUR + 1
        r = http.post(f"/api/account/{ACCOUNT}/emulator/clock/advance", params={"ms": to_next_hour})
        assert r.status_code == 200 and r.json()["exportedHours"], r.text
        window = {"startTime": now - now % HOUR - HOUR, "endTime": now + 2 * HOUR}
        le = f"/data_access_le/account/{ACCOUNT}/le"
        found = {}
        for resource in ("engagement", "agentActivity", "webSession", "survey"):
            r = http.get(f"{le}/{resource}", params=window, headers=auth)
            assert r.status_code == 200, r.text
            for f in r.json()["dataAccessFiles"]["file"]:
                assert f["@href"].startswith(server.base)
                got = httpx.get(f["@href"], headers=auth, timeout=10)
                assert got.status_code == 200
                found[resource] = records(read_file(got.content))
        ((name, body),) = found["engagement"]
        conversation = body["engagements"]["array"][0]["com.liveperson.dataaccess.Conversation"]
        assert conversation["conversationId"] == {"string": conv}
        # Its line was kept as it closed, the consumer's message in it.
        (line,) = conversation["transcripts"]["array"]
        assert line["text"] == {"string": "hi é"} and line["type"] == {"string": "0"}
        assert conversation["isInteractive"] == {"boolean": True}
        ((name, body),) = found["agentActivity"]
        assert body["agentSessionsData"]["array"][0]["agentLoginname"] == {"string": "loader"}
        assert found["survey"] == found["webSession"] == []
