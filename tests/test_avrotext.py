"""WebSession and Engagement lines written as text (``avrotext``): every line is what the generic
encoder writes (fastavro reads it against the shipped schema and ``files.encode_line`` gives it
back to the byte), whatever the stored values, and carries the documented choices."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from sdehub.dataaccess import avrotext
from tests.dataaccess_util import check_line, records

T0 = 1_767_225_600_000
NS = "com.liveperson.dataaccess"
WIRES = ["ctmrinfo", "personal", "mrktInfo", "lead", "purchase", "cart", "prodView", "service",
         "error", "searchInfo"]  # fmt: skip
FIELDS = ["cstatus", "ctype", "balance", "customerId", "socialId", "imei", "userName",
          "companySize", "accountName", "role", "storeNumber", "storeZipCode", "channel",
          "affiliate", "campaignId", "campaignID", "topic", "leadId", "value", "status",
          "category", "serviceId", "contextId", "message", "code", "level", "resolved",
          "firstname", "lastname", "gender", "company", "total", "numItems", "orderId"]  # fmt: skip

# What a payload may hold once stored: any JSON scalar, strings that need escaping included.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
    | st.sampled_from(["42", " -7 ", 'x"\\\n\x01', "é😀\u2028"])
)
products = st.lists(
    st.fixed_dictionaries(
        {"quantity": scalars},
        optional={"product": st.dictionaries(st.sampled_from(["name", "category", "sku",
                                                              "price"]), scalars)},
    ),
    max_size=2,
)  # fmt: skip
inner = st.dictionaries(st.sampled_from(FIELDS), scalars) | st.builds(
    lambda d, date, age, contacts: {**d, "lastPaymentDate": date, "age": age, "contacts": contacts},
    st.dictionaries(st.sampled_from(FIELDS), scalars),
    st.fixed_dictionaries({"year": scalars, "month": scalars, "day": scalars}) | scalars,
    st.fixed_dictionaries({"age": scalars, "year": scalars}) | scalars,
    st.lists(st.fixed_dictionaries({"email": scalars, "phone": scalars}), max_size=2) | scalars,
)


@st.composite
def sde_rows(draw: Any) -> list[dict[str, Any]]:
    rows = []
    for n in range(draw(st.integers(1, 12))):
        wire = draw(st.sampled_from(WIRES))
        body = draw(inner)
        payload = {"type": wire, "info": body, "personal": body, "lead": body, "service": body,
                   "error": body, **body, "products": draw(products | scalars),
                   "cart": draw(st.fixed_dictionaries({"products": products}) | scalars),
                   }  # fmt: skip
        rows.append(
            {"seq": n, "wire_type": wire, "payload": msgspec.json.encode(payload).decode(),
             "authenticated": draw(st.booleans()), "visitor_id": f"v{n % 2}",
             "session_id": draw(st.sampled_from(["s", "é\"s"])), "server_ms": T0 + n}
        )  # fmt: skip
    return rows


page_rows = st.lists(
    st.builds(
        lambda page, points, n: {"visitor_id": "v0", "session_id": "s", "page_id": page,
                                 "first_ms": T0 + n, "last_ms": T0 + n, "entry_points": points},
        st.text(max_size=4) | st.none(),
        st.none() | st.lists(st.sampled_from(["https://a/é", "SEC://Sport", "sec://", "sec://x\"",
                                              "http://b"]), max_size=3),
        st.integers(0, 10**6),
    ),
    max_size=4,
)  # fmt: skip


goal_rows = st.lists(
    st.builds(
        lambda n, kind, details, value: {
            "account_id": "acc-1", "id": n, "visitor_id": "v0", "session_id": "s",
            "goal_id": "21", "goal_type": kind, "reached_ms": T0 + n, "details": details,
            "value": value, "campaign_id": "61", "engagement_id": None,
        },
        st.integers(0, 10**6),
        st.sampled_from(["purchase", "lead", "serviceActivity", "pageViews", "interact"]),
        st.none() | st.dictionaries(st.sampled_from(["orderId", "topic", "leadId", "status",
                                                     "category", "serviceId", "pages",
                                                     "numberOfPages", "revision"]), scalars),
        st.none() | st.floats(allow_nan=False, allow_infinity=False),
    ),
    max_size=3,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(sde_rows(), page_rows, goal_rows)
def test_web_session_lines_read_back_to_the_byte(sdes: Any, pages: Any, goals: Any) -> None:
    for line in avrotext.web_session_lines("acc-1", sdes, pages, goals):
        check_line(line)


def conversation(messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "account_id": "acc-1", "conversation_id": "c-é\"1", "consumer_id": "cons",
        "state": "CLOSE", "created_ms": T0, "closed_ms": T0 + 90, "close_reason": "AGENT",
        "skill_id": "11", "campaign_id": "61", "engagement_id": None, "visitor_id": None,
        "session_id": None, "channel_type": "MESSAGING",
        "participants": [
            {"participant_id": "cons", "role": "CONSUMER", "joined_ms": T0},
            {"participant_id": "agent-1", "role": "ASSIGNED_AGENT", "joined_ms": T0 + 5},
        ],
        "messages": messages, **extra,
    }  # fmt: skip


def message(seq: int, role: str, event: dict[str, Any], kind: str = "ContentEvent") -> Any:
    return {
        "conversation_id": "c-é\"1", "sequence": seq, "dialog_id": "c-é\"1", "event_type": kind,
        "server_ms": T0 + seq, "role": role, "participant_id": "cons" if role == "CONSUMER"
        else "agent-1", "event": event,
    }  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.builds(
            message,
            st.integers(0, 100),
            st.sampled_from(["CONSUMER", "ASSIGNED_AGENT", "MANAGER"]),
            st.fixed_dictionaries(
                {
                    "message": scalars,
                    "contentType": st.sampled_from(["text/plain", "hosted/file", "x/y"]),
                }
            ),  # fmt: skip
            st.sampled_from(["ContentEvent", "RichContentEvent", "AcceptStatusEvent"]),
        ),
        max_size=5,
    ),
    st.sampled_from(["11", None, "x", 7]),
    st.sampled_from([None, 'v"é']),
)
def test_engagement_lines_read_back_to_the_byte(messages: Any, skill: Any, visitor: Any) -> None:
    (line,) = avrotext.engagement_lines("acc-1", [conversation(messages, skill_id=skill,
                                                               visitor_id=visitor)])  # fmt: skip
    check_line(line)


def test_the_documented_choices() -> None:
    lead = '{"type":"lead","lead":{"topic":"loan","value":5,"leadId":"L-1"}}'
    sdes = [
        {"seq": 1, "wire_type": "lead", "payload": lead, "authenticated": False,
         "visitor_id": "v", "session_id": "s", "server_ms": T0 + 1},
        {"seq": 2, "wire_type": "searchInfo", "payload": '{"type":"searchInfo","keywords":[]}',
         "authenticated": False, "visitor_id": "v", "session_id": "s", "server_ms": T0 + 2},
        {"seq": 3, "wire_type": "ctmrinfo", "authenticated": True, "visitor_id": "v",
         "payload": '{"type":"ctmrinfo","info":{"balance":"12","companySize":"30"}}',
         "session_id": "s", "server_ms": T0 + 3},
    ]  # fmt: skip
    points = ["sec://Sport", "https://a/", "https://b/"]
    pages = [{"visitor_id": "v", "session_id": "s", "page_id": "p", "first_ms": T0,
              "last_ms": T0, "entry_points": points}]  # fmt: skip
    (line,) = avrotext.web_session_lines("acc-1", sdes, pages, [])
    check_line(line)
    doc = json.loads(line)
    meta = doc["metaData"][f"{NS}.MetaData"]
    assert (meta["startTime"], meta["endTime"]) == ({"long": T0}, {"long": T0 + 3})
    (_, attrs), (_, nav) = records([doc])
    lead_data, customer = (a["data"] for a in attrs["engagementAttributes"]["array"])  # no search
    assert lead_data == {f"{NS}.Lead": {"topic": {"string": "loan"}, "leadId": {"string": "L-1"},
                                        "value": {"double": 5.0}}}  # fmt: skip
    info = customer[f"{NS}.CustomerInfo"]
    assert info["isAuthenticated"] == {"boolean": True} and info["balance"] is None
    assert info["companySize"] == {"int": 30}
    (page,) = nav["pageViews"]["array"]
    assert page["url"] == {"string": "https://a/"} and page["sections"] == {"array": ["Sport"]}

    only_agent = conversation([message(0, "ASSIGNED_AGENT", {"message": "hi"})])
    (line,) = avrotext.engagement_lines("acc-1", [only_agent])
    check_line(line)
    ((_, body),) = records([json.loads(line)])
    (conv,) = body["engagements"]["array"]
    record = conv[f"{NS}.Conversation"]
    assert record["isInteractive"] == {"boolean": False}
    assert record["endReasonId"] == {"int": 201} and record["skills"] == {"array": [11]}
    (text,) = record["transcripts"]["array"]
    assert text["messageId"] == {"string": 'c-é"1:0'} and text["type"] == {"string": "1"}
    assert text["agentId"] == {"string": "agent-1"}
    assert text["contentFormat"] == {"string": "TEXT_PLAIN"}
