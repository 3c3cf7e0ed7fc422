"""The Connector API decodes canonical bodies in one msgspec pass and everything else with the
validator; both must give the same answer wherever the one-pass decoding accepts a body."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from sdehub import envelopes as connector
from sdehub.bodies import decode_json
from sdehub.envelopes import decode_batch, decode_item, decode_single
from sdehub.errors import BadRequest
from sdehub.model.validation import FieldError

PROFILE = {
    "kind": "req", "id": "1,", "type": "userprofile.SetUserProfile",
    "body": {"firstName": "Ana", "privateData": {"mail": "a@x.io"}, "authenticatedData": {
        "lp_sdes": [
            {"type": "ctmrinfo", "info": {"ctype": "vip", "balance": -400.99, "companySize": 12,
                                          "lastPaymentDate": {"day": 1, "month": 2, "year": 2024}}},
            {"type": "personal", "personal": {"firstname": "Ana", "gender": "FEMALE",
                                              "age": {"age": 30}, "contacts": [{"email": "e"}]}},
        ]}},
}  # fmt: skip
OPEN = {
    "kind": "req", "id": 2, "type": "cm.ConsumerRequestConversation",
    "body": {"brandId": "1001", "channelType": "MESSAGING", "ttrDefName": "URGENT",
             "campaignInfo": {"campaignId": "99999", "engagementId": "888888"},
             "conversationContext": {"visitorId": "V", "sessionId": "S", "type": "SharkContext"}},
}  # fmt: skip
PUBLISH = {
    "kind": "req", "id": "3", "type": "ms.PublishEvent",
    "body": {"dialogId": "c", "event": {"type": "ContentEvent", "contentType": "text/plain",
                                        "message": "hi"}},
}  # fmt: skip
CLOSE = {
    "kind": "req", "id": "4", "type": "cm.UpdateConversationField",
    "body": {"conversationId": "c", "conversationField": [
        {"field": "ConversationStateField", "conversationState": "CLOSE"}]},
}  # fmt: skip
REQUESTS = [PROFILE, OPEN, PUBLISH, CLOSE]

# Values that probe the edges of the two decoders' rules.
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**65), 2**65), st.floats(allow_nan=False),
    st.sampled_from(["", "x" * 70, "1", "30.0", "male", "CLOSE", "close", "\u0000", "req"]),
    st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.sampled_from(["a", "type"]),
                                                             st.integers(), max_size=2),
)  # fmt: skip


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += paths(item, (*prefix, i))
    return out


@st.composite
def altered(draw: st.DrawFn) -> Any:
    request = copy.deepcopy(draw(st.sampled_from(REQUESTS)))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(paths(request)[1:]))
        parent = request
        for key in where[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            parent[where[-1]] = draw(ODD)
        elif isinstance(parent, dict):
            del parent[where[-1]]
    return request


def slow(body: bytes) -> Any:
    """The validator's way alone: JSON (with its NUL check), then the walker."""
    try:
        raw = decode_json(body)
    except BadRequest as exc:
        return sorted(exc.errors, key=lambda e: e.path)
    errors: list[FieldError] = []
    item = decode_item(raw, (), errors)
    return item if item is not None else sorted(errors, key=lambda e: e.path)


def outcome(body: bytes) -> Any:
    try:
        return decode_single(body)
    except BadRequest as exc:
        return sorted(exc.errors, key=lambda e: e.path)


@settings(max_examples=400, deadline=None)
@given(altered())
def test_one_pass_and_validator_agree(request: Any) -> None:
    body = json.dumps(request).encode()
    fast = connector._fast(connector._typed_one, body)
    event("one pass" if fast is not None else "validator")
    assert outcome(body) == slow(body)


def test_canonical_bodies_take_the_one_pass_way() -> None:
    for request in REQUESTS:
        body = json.dumps(request).encode()
        assert connector._fast(connector._typed_one, body) is not None, request["type"]
        assert decode_single(body) == slow(body)
    batch = json.dumps([PROFILE, OPEN, PUBLISH]).encode()
    assert connector._fast(connector._typed_many, batch) is not None
    items = decode_batch(batch)
    assert [i.req_id for i in items] == ["1,", 2, "3"]
    for i, request in enumerate((PROFILE, OPEN, PUBLISH)):
        alone = slow(json.dumps(request).encode())
        assert (items[i].req_id, items[i].body) == (alone.req_id, alone.body)


def test_tolerated_bodies_take_the_validator_way() -> None:
    tolerant = copy.deepcopy(PROFILE)
    tolerant["body"]["authenticatedData"]["lp_sdes"][1]["personal"]["gender"] = "female"
    tolerant["body"]["authenticatedData"]["lp_sdes"][0]["info"]["balance"] = "-400.99"
    body = json.dumps(tolerant).encode()
    assert connector._fast(connector._typed_one, body) is None
    item = decode_single(body)
    sdes = item.body.authenticatedData.lp_sdes  # type: ignore[union-attr]
    assert sdes[1].personal.gender == "FEMALE" and sdes[0].info.balance == -400.99


def test_nineteen_digits_in_a_row_take_the_validator_way() -> None:
    # msgspec takes integers up to 2**64; the validator (and the database) stop at 2**63.
    for number, fast in ((10**18 - 1, True), (10**18, False), (2**63, False)):
        request = copy.deepcopy(PROFILE)
        request["body"]["authenticatedData"]["lp_sdes"][0]["info"]["balance"] = number
        body = json.dumps(request).encode()
        assert (connector._fast(connector._typed_one, body) is not None) is fast, number
        assert outcome(body) == slow(body)
    # Anywhere in the body, digits apart from each other do not count.
    assert connector._fast(connector._typed_one, json.dumps(PROFILE).encode() + b" ") is not None
    spaced = json.dumps({**PROFILE, "id": "1234567890 123456789"}).encode()
    assert connector._fast(connector._typed_one, spaced) is not None
    assert connector._fast(connector._typed_one, spaced.replace(b"0 1", b"01")) is None
