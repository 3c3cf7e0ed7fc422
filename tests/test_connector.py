"""Connector API: CONVERSATION and SEND, every documented example sent verbatim, every error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.harness import ACCOUNT, Harness, close, profile, request_conversation, text

pytestmark = pytest.mark.anyio
FIXTURES = Path(__file__).parent / "fixtures" / "seed004"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def example(name: str, account: str = ACCOUNT) -> Any:
    return json.loads((FIXTURES / name).read_text().replace("{accountid}", account))


@pytest.mark.parametrize("name", ["minimal.json", "with_sdes.json", "with_campaign.json"])
async def test_documented_examples_get_the_documented_reply(h: Harness, name: str) -> None:
    headers = await h.connector()
    r = await h.post_conversation(headers, example(name))
    assert r.status_code == 200
    documented = example("response.json")
    got = r.json()
    assert [list(item) for item in got] == [list(item) for item in documented]  # key order too
    assert got[0] == documented[0]
    assert got[1]["code"] == "OK" and got[1]["reqId"] == "2,"
    assert UUID.match(got[1]["body"]["conversationId"])


async def test_sdes_of_the_example_reach_the_public_model(h: Harness) -> None:
    headers = await h.connector()
    r = await h.post_conversation(headers, example("with_campaign.json"))
    conversation_id = r.json()[1]["body"]["conversationId"]
    model = await h.public_model(conversation_id, await h.agent())
    details = model["SDE"]["customerDetails"]
    assert [(d["socialId"], d["type"]) for d in details] == [("1234567890", "vip")]
    assert details[0]["_meta"]["source"] == "connector"
    assert details[0]["_meta"]["authenticated"] is True
    assert details[0]["_meta"]["actor"] == "app-1"
    person = model["SDE"]["personalInfo"][0]
    assert (person["firstname"], person["lastname"], person["gender"]) == ("John", "Doe", "MALE")
    assert model["visitorInfo"]["visitorName"] == "John Doe"
    assert model["campaignInfo"]["campaignId"] == "99999"
    assert model["engagementInfo"]["engagementId"] == "888888"
    assert model["authenticatedData"]["customerDetails"][0]["socialId"] == "1234567890"
    claims = model["claimsAndAuthType"]
    assert claims["acr"] == "0"
    assert [s["type"] for s in claims["claims"]["lp_sdes"]] == ["ctmrinfo", "personal"]


@pytest.mark.parametrize("req_id", ["1,", "12345678", 7, 0, "x" * 64])
async def test_request_ids_are_echoed_exactly(h: Harness, req_id: Any) -> None:
    headers = await h.connector(ext_id=f"c-{req_id!r}")
    r = await h.post_conversation(
        headers, [profile(req_id=req_id), request_conversation(req_id=req_id)]
    )
    assert r.status_code == 200, r.text
    assert [item["reqId"] for item in r.json()] == [req_id, req_id]
    conversation_id = r.json()[1]["body"]["conversationId"]
    sent = await h.post_send(headers, text(conversation_id, "hi", req_id=req_id))
    assert sent.json()["reqId"] == req_id
    assert list(sent.json()) == ["reqId", "code", "body"]


async def test_full_flow_messages_get_sequences_and_close(h: Harness) -> None:
    headers = await h.connector()
    conversation_id = await h.open_conversation(headers)
    sequences = []
    for i, message in enumerate(["one", "two", "three"]):
        r = await h.post_send(headers, text(conversation_id, message, req_id=str(i)))
        assert r.status_code == 200, r.text
        sequences.append(r.json()["body"]["sequence"])
    assert sequences == [0, 1, 2]
    receipt = {
        "kind": "req", "id": "r", "type": "ms.PublishEvent",
        "body": {"dialogId": conversation_id,
                 "event": {"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0, 1]}},
    }  # fmt: skip
    r = await h.post_send(headers, receipt)
    assert r.json()["body"]["sequence"] == 3
    typing = {
        "kind": "req", "id": "t", "type": "ms.PublishEvent",
        "body": {"dialogId": conversation_id,
                 "event": {"type": "ChatStateEvent", "chatState": "COMPOSING"}},
    }  # fmt: skip
    r = await h.post_send(headers, typing)
    assert r.json() == {"reqId": "t", "code": "OK", "body": {"sequence": 0}}
    model = await h.public_model(conversation_id, await h.agent())
    assert [line["text"] for line in model["chatTranscript"]["lines"]] == ["one", "two", "three"]
    assert model["visitorInfo"]["visitorTyping"] is True
    assert model["visitorInfo"]["chattingVisitorState"] == "CHATTING"
    r = await h.post_send(headers, close(conversation_id))
    assert r.status_code == 200 and r.json()["code"] == "OK"
    model = await h.public_model(conversation_id, await h.agent())
    assert model["visitorInfo"]["chattingVisitorState"] == "ENDED"
    r = await h.post_send(headers, text(conversation_id, "too late"))
    assert r.status_code == 400
    assert "closed" in r.json()["body"]["details"]


async def test_close_accepts_a_one_element_array(h: Harness) -> None:
    headers = await h.connector()
    conversation_id = await h.open_conversation(headers)
    request = close(conversation_id)
    request["body"]["conversationField"] = [request["body"]["conversationField"]]
    r = await h.post_send(headers, request)
    assert r.status_code == 200, r.text
    again = await h.open_conversation(headers)  # closed, so a new one may open
    assert again != conversation_id


async def test_batch_may_carry_a_first_message(h: Harness) -> None:
    headers = await h.connector()
    first = text("ignored-for-a-new-conversation", "hello from the batch", req_id="3,")
    r = await h.post_conversation(headers, [profile(), request_conversation(), first])
    assert r.status_code == 200, r.text
    assert r.json()[2] == {"code": "OK", "body": {"sequence": 0}, "reqId": "3,"}
    conversation_id = r.json()[1]["body"]["conversationId"]
    model = await h.public_model(conversation_id, await h.agent())
    assert model["chatTranscript"]["lines"][0]["text"] == "hello from the batch"


async def test_profile_mid_conversation_replaces_customer_info(h: Harness) -> None:
    headers = await h.connector()
    conversation_id = await h.open_conversation(
        headers, {"type": "ctmrinfo", "info": {"ctype": "gold", "customerId": "C-1"}}
    )
    update = profile({"type": "ctmrinfo", "info": {"ctype": "vip"}}, req_id="p2")
    r = await h.post_send(headers, update)
    assert r.json() == {"reqId": "p2", "code": "OK",
                        "body": {"msg": "OK User Profile set successfully"}}  # fmt: skip
    details = await h.public_model(conversation_id, await h.agent(), path="SDE.customerDetails")
    # Messaging replaces: the earlier customerId does not survive the update.
    assert details == [
        {"type": "vip", "_meta": details[0]["_meta"]},
    ]


async def test_second_open_conversation_is_refused(h: Harness) -> None:
    headers = await h.connector()
    first = await h.open_conversation(headers)
    r = await h.post_conversation(headers, [profile(), request_conversation()])
    assert r.status_code == 400
    assert first in r.json()["body"]["details"]


def _error(r: Any) -> dict[str, Any]:
    body: dict[str, Any] = r.json()
    assert body["kind"] == "resp" and body["type"] == ".ReqBody$ErrorResp"
    assert body["code"] == r.status_code
    return body["body"]


@pytest.mark.parametrize(
    ("batch", "path", "fragment"),
    [
        ({"not": "a list"}, "$", "expected an array"),
        ([profile()], "$", "cm.ConsumerRequestConversation"),
        ([request_conversation()], "$", "userprofile.SetUserProfile"),
        ([request_conversation(), profile()], "$[1].type", "before"),
        ([profile(), request_conversation(brandId=None)], "$[1].body.brandId", "required"),
        ([profile(), request_conversation(brandId="other")], "$[1].body.brandId", "account id"),
        ([profile(), request_conversation(ttrDefName="SOON")], "$[1].body.ttrDefName", "one of"),
        ([profile(), {"id": "2", "type": "cm.Nope", "body": {}}], "$[1].type", "one of"),
        ([profile(), {"type": "cm.ConsumerRequestConversation"}], "$[1].id", "required"),
        ([profile({"type": "cart", "total": 1, "numItems": 1}), request_conversation()],
         "$[0].body.authenticatedData.lp_sdes[0].type", "not supported in the authenticated flow"),
        ([profile({"type": "ctmrinfo", "info": {"storeNumber": "7"}}), request_conversation()],
         "$[0].body.authenticatedData.lp_sdes[0].info.storeNumber", "authenticated flow"),
        ([profile({"type": "ctmrinfo", "info": {"balance": "lots"}}), request_conversation()],
         "$[0].body.authenticatedData.lp_sdes[0].info.balance", "expected a number"),
    ],
)  # fmt: skip
async def test_bad_batches_name_the_field(h: Harness, batch: Any, path: str, fragment: str) -> None:
    headers = await h.connector()
    r = await h.post_conversation(headers, batch)
    assert r.status_code == 400, r.text
    body = _error(r)
    assert body["errorCode"] == 40000
    matching = [e for e in body["errors"] if e["path"] == path]
    assert matching, body
    assert fragment in matching[0]["message"]


async def test_every_error_is_reported_not_just_the_first(h: Harness) -> None:
    headers = await h.connector()
    bad = profile({"type": "ctmrinfo", "info": {"balance": "x", "companySize": "many",
                                                "lastPaymentDate": {"day": 40}}})  # fmt: skip
    r = await h.post_conversation(headers, [bad, request_conversation(brandId=7.5)])
    paths = {e["path"] for e in _error(r)["errors"]}
    base = "$[0].body.authenticatedData.lp_sdes[0].info"
    assert paths >= {
        f"{base}.balance", f"{base}.companySize", f"{base}.lastPaymentDate.day",
        f"{base}.lastPaymentDate.month", f"{base}.lastPaymentDate.year",
    }  # fmt: skip


async def test_rejected_payloads_are_quarantined_verbatim(h: Harness) -> None:
    headers = await h.connector()
    raw = b'[{"id":"1","type":"userprofile.SetUserProfile","body":{"authenticatedData":' \
          b'{"lp_sdes":[{"type":"personal","personal":{"gender":"ROBOT"}}]}}}]'  # fmt: skip
    r = await h.client.post(
        f"/api/account/{ACCOUNT}/messaging/consumer/conversation?v=3",
        headers={**headers, "Content-Type": "application/json"}, content=raw,
    )  # fmt: skip
    assert r.status_code == 400
    q = await h.client.get(f"/api/account/{ACCOUNT}/quarantine", headers=await h.agent())
    items = q.json()["items"]
    assert len(items) == 1
    assert items[0]["body"] == raw.decode()
    assert items[0]["api"] == "connector.conversation"
    assert items[0]["actor"] == "app-1"
    assert {e["path"] for e in items[0]["errors"]} >= {
        "$[0].body.authenticatedData.lp_sdes[0].personal.gender"
    }


async def test_invalid_json_is_a_400_and_quarantined(h: Harness) -> None:
    headers = await h.connector()
    r = await h.client.post(
        f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3",
        headers=headers, content=b'{"kind": "req", ',
    )  # fmt: skip
    assert r.status_code == 400
    assert _error(r)["errors"][0]["path"] == "$"
    q = await h.client.get(f"/api/account/{ACCOUNT}/quarantine", headers=await h.agent())
    assert q.json()["items"][0]["body"] == '{"kind": "req", '


async def test_send_errors_name_the_field(h: Harness) -> None:
    headers = await h.connector()
    conversation_id = await h.open_conversation(headers)
    cases = [
        ([text(conversation_id, "x")], "$", "not a batch"),
        (text("no-such-conversation", "x"), "$.body.dialogId", "no conversation"),
        ({**text(conversation_id, ""), "id": "e"}, "$.body.event.message", "non-empty string"),
        ({"id": "f", "type": "ms.PublishEvent", "body": {"dialogId": conversation_id, "event": {
            "type": "ContentEvent", "contentType": "hosted/file", "message": {"caption": "c"}}}},
         "$.body.event.message.relativePath", "required"),
        ({"id": "g", "type": "ms.PublishEvent", "body": {"dialogId": conversation_id, "event": {
            "type": "AcceptStatusEvent", "status": "READ", "sequenceList": [5]}}},
         "$.body.event.sequenceList[0]", "no message"),
        ({"id": "h", "type": "cm.ConsumerRequestConversation", "body": {"brandId": ACCOUNT}},
         "$.type", "CONVERSATION"),
    ]  # fmt: skip
    for request, path, fragment in cases:
        r = await h.post_send(headers, request)
        assert r.status_code == 400, (request, r.text)
        errors = _error(r)["errors"]
        assert errors[0]["path"] == path, errors
        assert fragment in errors[0]["message"], errors


async def test_other_consumers_cannot_touch_a_conversation(h: Harness) -> None:
    owner = await h.connector(ext_id="owner")
    conversation_id = await h.open_conversation(owner)
    intruder = await h.connector(ext_id="intruder")
    r = await h.post_send(intruder, text(conversation_id, "let me in"))
    assert r.status_code == 400
    r = await h.post_send(intruder, close(conversation_id))
    assert r.status_code == 400
    model = await h.public_model(conversation_id, await h.agent())
    assert model["chatTranscript"]["lines"] == []
