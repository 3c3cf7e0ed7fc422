"""The real socket path: ``sdehub serve --emulator`` in a subprocess, driven with plain HTTP the
way a LivePerson connector drives LivePerson, discovering every host through the Domain API."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import LiveServer, start_server, stop_server

ACCOUNT = "70000001"


def discover(base: str, account: str) -> dict[str, str]:
    r = httpx.get(f"{base}/api/account/{account}/service/baseURI.json", params={"version": "1.0"})
    assert r.status_code == 200, r.text
    return {u["service"]: u["baseURI"] for u in r.json()["baseURIs"]}


def connector_flow(server: LiveServer, account: str) -> tuple[str, dict[str, str]]:
    hosts = discover(server.base, account)
    sentinel, idp, ums = hosts["sentinel"], hosts["idp"], hosts["asyncMessagingEnt"]
    with httpx.Client(timeout=10) as http:
        r = http.post(
            f"http://{sentinel}/sentinel/api/account/{account}/app/token",
            params={"v": "1.0", "grant_type": "client_credentials"},
            data={"client_id": "real-app", "client_secret": "real-secret"},
        )
        assert r.status_code == 200, r.text
        app_jwt = r.json()["access_token"]
        assert r.json()["expires_in"] == "3600"
        r = http.post(
            f"http://{idp}/api/account/{account}/consumer",
            headers={"Authorization": app_jwt},
            json={"ext_consumer_id": "real-consumer"},
        )
        assert r.status_code == 201, r.text
        headers = {"Authorization": app_jwt, "X-LP-ON-BEHALF": r.json()["token"]}
        batch = [
            {"kind": "req", "id": "1,", "type": "userprofile.SetUserProfile", "body": {
                "authenticatedData": {"lp_sdes": [
                    {"type": "ctmrinfo", "info": {"customerId": "R-1", "ctype": "vip",
                                                  "balance": -400.99}},
                    {"type": "personal", "personal": {"firstname": "Rea", "lastname": "Lee"}},
                ]}}},
            {"kind": "req", "id": "2,", "type": "cm.ConsumerRequestConversation",
             "body": {"brandId": account, "channelType": "MESSAGING"}},
        ]  # fmt: skip
        base = f"http://{ums}/api/account/{account}/messaging/consumer/conversation"
        r = http.post(base, params={"v": "3"}, headers=headers, json=batch)
        assert r.status_code == 200, r.text
        conversation_id = r.json()[1]["body"]["conversationId"]
        for i, message in enumerate(("hello", "over real sockets")):
            r = http.post(f"{base}/send", params={"v": "3"}, headers=headers, json={
                "kind": "req", "id": str(i), "type": "ms.PublishEvent",
                "body": {"dialogId": conversation_id, "event": {
                    "type": "ContentEvent", "contentType": "text/plain", "message": message}},
            })  # fmt: skip
            assert r.json()["body"]["sequence"] == i
        r = http.post(f"{base}/send", params={"v": "3"}, headers=headers, json={
            "kind": "req", "id": 9, "type": "cm.UpdateConversationField",
            "body": {"conversationId": conversation_id, "conversationField": {
                "field": "ConversationStateField", "conversationState": "CLOSE"}},
        })  # fmt: skip
        assert r.status_code == 200, r.text
    return conversation_id, hosts


def public_model(server: LiveServer, account: str, conversation_id: str) -> dict[str, object]:
    hosts = discover(server.base, account)
    vep = hosts["agentVep"]
    r = httpx.post(
        f"http://{vep}/api/account/{account}/login",
        params={"v": "1.3"},
        json={"username": "real-agent", "password": "pw"},
    )
    assert r.status_code == 200, r.text
    r = httpx.get(
        f"http://{vep}/api/account/{account}/agent-workspace/conversations/{conversation_id}"
        "/public-model",
        headers={"Authorization": f"Bearer {r.json()['bearer']}"},
    )
    assert r.status_code == 200, r.text
    model: dict[str, object] = r.json()
    return model


def test_connector_flow_over_http(live_server: LiveServer) -> None:
    conversation_id, hosts = connector_flow(live_server, ACCOUNT)
    assert hosts["asyncMessagingEnt"] == live_server.host
    model = public_model(live_server, ACCOUNT, conversation_id)
    sde = model["SDE"]
    assert isinstance(sde, dict)
    assert sde["customerDetails"][0]["balance"] == "-400.99"
    assert sde["personalInfo"][0]["name"] == "Rea Lee"
    transcript = model["chatTranscript"]
    assert isinstance(transcript, dict)
    assert [line["text"] for line in transcript["lines"]] == ["hello", "over real sockets"]


def test_acknowledged_writes_survive_a_restart_and_logs_hold_no_secrets(tmp_path: Path) -> None:
    db = tmp_path / "restart.db"
    server = start_server(db, "--emulator")
    try:
        conversation_id, _ = connector_flow(server, "70000002")
    finally:
        stop_server(server)
    server = start_server(db, "--emulator")
    try:
        model = public_model(server, "70000002", conversation_id)
        visitor = model["visitorInfo"]
        assert isinstance(visitor, dict) and visitor["chattingVisitorState"] == "ENDED"
    finally:
        stop_server(server)


def test_request_logs_name_routes_not_secrets(tmp_path: Path) -> None:
    server = start_server(tmp_path / "logs.db", "--emulator")
    try:
        r = httpx.post(
            f"{server.base}/sentinel/api/account/70000003/app/token",
            params={"v": "1.0", "grant_type": "client_credentials",
                    "client_id": "log-app", "client_secret": "very-secret-value"},
        )  # fmt: skip
        token = r.json()["access_token"]
        httpx.post(f"{server.base}/api/account/70000003/consumer",
                   headers={"Authorization": token, "X-Request-ID": "trace-42"},
                   json={"ext_consumer_id": "log-consumer"})  # fmt: skip
    finally:
        stop_server(server)
    logs = server.log.read_text()
    assert "very-secret-value" not in logs
    assert token not in logs and token.split(".")[1] not in logs
    assert '"route":"/sentinel/api/account/{accountId}/app/token"' in logs
    assert '"request_id":"trace-42"' in logs
    assert '"account":"70000003"' in logs
