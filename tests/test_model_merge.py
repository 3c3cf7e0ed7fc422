"""What happens when the same SDE type is reported twice (spec/ingest.md §1.5): merge, append
and replace in chat sessions, append and replace in messaging, per authentication kind."""

from __future__ import annotations

from typing import Any

import pytest

from sdehub.model import types as t
from sdehub.model.merge import Scope, apply, fold, merge_records, rule
from sdehub.model.naming import BY_WIRE
from sdehub.model.provenance import Entry
from sdehub.model.types import BY_WIRE_TYPE, SDE_TYPES
from tests.test_model_validation import documented_sdes, entry

# spec/ingest.md §1.5, best practices for chat and for messaging.
CHAT_MERGE = {"personal", "ctmrinfo", "mrktInfo"}
CHAT_APPEND = {"prodView", "error", "purchase", "lead", "searchInfo", "service"}
CHAT_REPLACE = {"cart"}
MESSAGING_APPEND = {"prodView", "error", "purchase", "lead", "searchInfo"}
MESSAGING_REPLACE = {"cart", "personal", "ctmrinfo", "mrktInfo", "service"}
SDE_WIRES = [str(cls.__struct_config__.tag) for cls in SDE_TYPES]


def records(state: dict[str, list[Entry]], wire: str) -> list[Any]:
    return [e.record for e in state.get(wire, [])]


def seqs(state: dict[str, list[Entry]], wire: str) -> list[int]:
    return [e.meta.seq for e in state.get(wire, [])]


def test_the_rules_are_the_documented_ones() -> None:
    assert CHAT_MERGE | CHAT_APPEND | CHAT_REPLACE == set(SDE_WIRES)
    assert MESSAGING_APPEND | MESSAGING_REPLACE == set(SDE_WIRES)
    for wire in SDE_WIRES:
        chat = "merge" if wire in CHAT_MERGE else "append" if wire in CHAT_APPEND else "replace"
        messaging = "append" if wire in MESSAGING_APPEND else "replace"
        assert (rule(wire, "chat"), rule(wire, "messaging")) == (chat, messaging), wire
        assert (BY_WIRE[wire].chat_rule, BY_WIRE[wire].messaging_rule) == (chat, messaging)
    for wire in set(BY_WIRE_TYPE) - set(SDE_WIRES):  # impressions are events: they accumulate
        assert rule(wire, "chat") == rule(wire, "messaging") == "append"


# --- chat: merge --------------------------------------------------------------------------

MERGES = [
    (
        {"type": "ctmrinfo", "info": {"ctype": "gold", "customerId": "C-1", "balance": 10,
                                      "lastPaymentDate": {"day": 1, "month": 2, "year": 2024}}},
        {"type": "ctmrinfo", "info": {"ctype": "vip", "balance": -400.99, "cstatus": None}},
        t.CustomerInfo(info=t.CustomerInfoData(
            ctype="vip", customerId="C-1", balance=-400.99,
            lastPaymentDate=t.Date(day=1, month=2, year=2024))),
    ),
    (
        {"type": "personal", "personal": {"firstname": "John", "lastname": "Doe",
                                          "contacts": [{"email": "a@x.io"}, {"phone": "1"}]}},
        {"type": "personal", "personal": {"lastname": "Smith", "contacts": [{"phone": "2"}],
                                          "gender": "male"}},
        # Merging is shallow: the contacts list is replaced whole, not merged item by item.
        t.PersonalInfo(personal=t.PersonalData(
            firstname="John", lastname="Smith", contacts=[t.Contact(phone="2")], gender="MALE")),
    ),
    (
        {"type": "personal", "personal": {"age": {"age": 34, "year": 1980}, "language": "en-US"}},
        {"type": "personal", "personal": {"age": {"month": 4}}},
        t.PersonalInfo(personal=t.PersonalData(age=t.Age(month=4), language="en-US")),
    ),
    (
        {"type": "mrktInfo", "info": {"channel": "1", "affiliate": "Yahoo", "campaignId": "c1"}},
        {"type": "mrktInfo", "info": {"channel": 3, "campaignID": "c2"}},
        t.MarketingSource(info=t.MarketingData(channel=3, affiliate="Yahoo", campaignId="c2")),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("first", "second", "merged"), MERGES)
def test_chat_merges_visitor_info_and_missing_fields_keep_old_values(
    first: dict[str, Any], second: dict[str, Any], merged: t.Base
) -> None:
    older, newer = entry(first, 1), entry(second, 2)
    state = fold([older, newer], "chat")
    assert records(state, first["type"]) == [merged]
    assert state[first["type"]][0].meta == newer.meta  # the merged entry is the newest report
    # Messaging has no merge: the newest report replaces the old one, missing fields are gone.
    assert records(fold([older, newer], "messaging"), first["type"]) == [newer.record]


def test_chat_merge_of_the_documented_examples() -> None:
    documented = entry(documented_sdes("types_ctmrinfo.jsonc")[0], 1)
    update = entry({"type": "ctmrinfo", "info": {"cstatus": "migrated", "balance": 2.6}}, 2)
    (merged,) = records(fold([documented, update], "chat"), "ctmrinfo")
    assert isinstance(documented.record, t.CustomerInfo) and isinstance(merged, t.CustomerInfo)
    assert merged.info.cstatus == "migrated" and merged.info.balance == 2.6
    assert merged.info.customerId == documented.record.info.customerId == "138766AC"
    assert merged.info.registrationDate == t.Date(day=23, month=5, year=2013)


def test_chat_merges_the_auth_sibling_too() -> None:
    first = {"type": "ctmrinfo", "info": {"customerId": "C-1"},
             "auth": {"amr": ["pwd"], "iss": "https://idp"}}  # fmt: skip
    second = {"type": "ctmrinfo", "info": {}, "auth": {"amr": ["otp", "sms"]}}
    (merged,) = records(fold([entry(first, 1), entry(second, 2)], "chat"), "ctmrinfo")
    assert merged.auth == t.AuthInfo(amr=["otp", "sms"], iss="https://idp")
    # No auth in the update keeps the old one; a first auth is taken as is.
    (kept,) = records(fold([entry(first, 1), entry(second | {"auth": None}, 2)], "chat"),
                      "ctmrinfo")  # fmt: skip
    assert kept.auth == t.AuthInfo(amr=["pwd"], iss="https://idp")
    no_auth = {"type": "personal", "personal": {"firstname": "A"}}
    with_auth = {"type": "personal", "personal": {}, "auth": {"iss": "x"}}
    (taken,) = records(fold([entry(no_auth, 1), entry(with_auth, 2)], "chat"), "personal")
    assert taken == t.PersonalInfo(personal=t.PersonalData(firstname="A"),
                                   auth=t.AuthInfo(iss="x"))  # fmt: skip


def test_three_updates_merge_into_one() -> None:
    updates = [{"ctype": "gold"}, {"cstatus": "active"}, {"ctype": "vip", "customerId": "C-9"}]
    entries = [entry({"type": "ctmrinfo", "info": u}, i) for i, u in enumerate(updates, 1)]
    state = fold(entries, "chat")
    assert records(state, "ctmrinfo") == [t.CustomerInfo(info=t.CustomerInfoData(
        ctype="vip", cstatus="active", customerId="C-9"))]  # fmt: skip
    assert seqs(state, "ctmrinfo") == [3]


def test_merge_records_leaves_flat_types_alone() -> None:
    old = entry({"type": "cart", "total": 1, "numItems": 1, "currency": "USD"}).record
    new = entry({"type": "cart", "total": 2, "numItems": 2}).record
    assert merge_records(old, new) is new


# --- chat: append and replace -------------------------------------------------------------

SECOND_REPORT: dict[str, dict[str, Any]] = {
    "prodView": {"type": "prodView", "products": [{"product": {"name": "bag"}}]},
    "error": {"type": "error", "error": {"code": "er2", "resolved": True}},
    "purchase": {"type": "purchase", "total": 5, "orderId": "O-2"},
    "lead": {"type": "lead", "lead": {"leadId": "L-2"}},
    "searchInfo": {"type": "searchInfo", "keywords": ["returns"]},
    "service": {"type": "service", "service": {"status": 13, "serviceId": "service12"}},
    "cart": {"type": "cart", "total": 0, "numItems": 0},
    "ctmrinfo": {"type": "ctmrinfo", "info": {"ctype": "vip"}},
    "personal": {"type": "personal", "personal": {"company": "Acme"}},
    "mrktInfo": {"type": "mrktInfo", "info": {"affiliate": "Bing"}},
}


def _twice(wire: str, scope: Scope) -> tuple[list[Entry], dict[str, list[Entry]]]:
    first = entry(documented_sdes(f"types_{wire}.jsonc")[0], 1)
    second = entry(SECOND_REPORT[wire], 2)
    return [first, second], fold([first, second], scope)


@pytest.mark.parametrize("wire", sorted(CHAT_APPEND))
def test_chat_appends_journey_and_commerce_events(wire: str) -> None:
    entries, state = _twice(wire, "chat")
    assert state[wire] == entries


def test_chat_replaces_the_cart_and_drops_missing_fields() -> None:
    entries, state = _twice("cart", "chat")
    assert state["cart"] == [entries[1]]
    (cart,) = records(state, "cart")
    assert cart == t.CartUpdate(total=0.0, numItems=0)  # no currency, no products any more


# --- messaging ----------------------------------------------------------------------------


@pytest.mark.parametrize("wire", sorted(MESSAGING_APPEND))
def test_messaging_appends(wire: str) -> None:
    entries, state = _twice(wire, "messaging")
    assert state[wire] == entries


@pytest.mark.parametrize("wire", sorted(MESSAGING_REPLACE))
def test_messaging_replaces_with_the_full_new_report(wire: str) -> None:
    entries, state = _twice(wire, "messaging")
    assert state[wire] == [entries[1]]


def test_service_activity_appends_in_chat_but_replaces_in_messaging() -> None:
    first = entry(documented_sdes("types_service.jsonc")[0], 1)
    resolved = entry({"type": "service", "service": {"serviceId": "service12", "status": 13}}, 2)
    other = entry({"type": "service", "service": {"serviceId": "service99", "status": 1}}, 3)
    assert seqs(fold([first, resolved, other], "chat"), "service") == [1, 2, 3]
    assert seqs(fold([first, resolved, other], "messaging"), "service") == [3]


# --- authenticated and unauthenticated ----------------------------------------------------


def test_authenticated_and_unauthenticated_reports_are_kept_apart() -> None:
    unauth = entry({"type": "ctmrinfo", "info": {"customerId": "U", "ctype": "silver"}}, 1)
    auth = entry({"type": "ctmrinfo", "info": {"customerId": "A"}}, 2, authenticated=True)
    unauth2 = entry({"type": "ctmrinfo", "info": {"ctype": "gold"}}, 3)
    messaging = fold([unauth, auth, unauth2], "messaging")
    assert messaging["ctmrinfo"] == [auth, unauth2]  # each kind replaces only its own kind
    chat = fold([unauth, auth, unauth2], "chat")
    assert [(e.meta.authenticated, e.record) for e in chat["ctmrinfo"]] == [
        (True, auth.record),  # the authenticated report is not merged into the other
        (False, t.CustomerInfo(info=t.CustomerInfoData(customerId="U", ctype="gold"))),
    ]


def test_a_replace_of_one_kind_leaves_the_other_kind_alone() -> None:
    auth = entry({"type": "personal", "personal": {"firstname": "Ann"}}, 1, authenticated=True)
    unauth = entry({"type": "personal", "personal": {"firstname": "Bob"}}, 2)
    auth2 = entry({"type": "personal", "personal": {"firstname": "Anna"}}, 3, authenticated=True)
    state = fold([auth, unauth, auth2], "messaging")
    assert state["personal"] == [unauth, auth2]
    assert apply([auth, unauth], auth2, "messaging") == [unauth, auth2]
    assert apply([auth, unauth], auth2, "chat")[0] == unauth


def test_appended_entries_of_both_kinds_interleave_by_seq() -> None:
    entries = [entry({"type": "lead", "lead": {"leadId": str(i)}}, i, authenticated=i % 2 == 0)
               for i in range(1, 6)]  # fmt: skip
    assert fold(entries, "messaging")["lead"] == entries


# --- fold ---------------------------------------------------------------------------------


def test_fold_applies_entries_in_seq_order_not_arrival_order() -> None:
    gold = entry({"type": "ctmrinfo", "info": {"ctype": "gold", "customerId": "C-1"}}, 1)
    vip = entry({"type": "ctmrinfo", "info": {"ctype": "vip"}}, 2)
    assert fold([vip, gold], "chat") == fold([gold, vip], "chat")
    (merged,) = records(fold([vip, gold], "chat"), "ctmrinfo")
    assert merged == t.CustomerInfo(info=t.CustomerInfoData(ctype="vip", customerId="C-1"))
    assert fold([vip, gold], "messaging")["ctmrinfo"] == [vip]
    errors = [entry({"type": "error", "error": {"code": c}}, s) for s, c in ((3, "c"), (1, "a"))]
    assert seqs(fold(errors, "chat"), "error") == [1, 3]


def test_fold_groups_by_type_and_types_do_not_interfere() -> None:
    entries = [
        entry({"type": "cart", "total": 1, "numItems": 1}, 1),
        entry({"type": "searchInfo", "keywords": ["a"]}, 2),
        entry({"type": "cart", "total": 2, "numItems": 2}, 3),
        entry({"type": "searchInfo", "keywords": ["b"]}, 4),
        entry({"type": "personal", "personal": {"firstname": "A"}}, 5),
    ]
    state = fold(iter(entries), "chat")  # any iterable
    assert set(state) == {"cart", "searchInfo", "personal"}
    assert seqs(state, "cart") == [3] and seqs(state, "searchInfo") == [2, 4]
    assert fold([], "chat") == {}


def test_fold_is_apply_one_entry_at_a_time() -> None:
    entries = [entry(sde, seq) for seq, sde in enumerate(SECOND_REPORT.values(), 1)] + [
        entry(documented_sdes(f"types_{wire}.jsonc")[0], 100 + i)
        for i, wire in enumerate(SECOND_REPORT)
    ]  # fmt: skip
    for scope in ("chat", "messaging"):
        state: dict[str, list[Entry]] = {}
        for e in sorted(entries, key=lambda e: e.meta.seq):
            wire = t.wire_type(e.record)
            state[wire] = apply(state.get(wire, []), e, scope)
        assert fold(reversed(entries), scope) == state
