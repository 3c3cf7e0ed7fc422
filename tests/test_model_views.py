"""Views of stored SDEs: the Agent Workspace public model, the Messaging Interactions event form
(golden against the documented example) and the cross-API naming table."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from sdehub.model import types as t
from sdehub.model.history import fields, history_event, stringify
from sdehub.model.merge import Scope, fold
from sdehub.model.naming import BY_HISTORY_KEY, BY_PUBLIC_KEY, BY_SDE_TYPE, BY_WIRE, NAMINGS
from sdehub.model.provenance import Entry
from sdehub.model.publicmodel import (
    AuthenticatedData,
    ContactInfo,
    ProductDetails,
    SDESection,
    authenticated_data,
    sde_section,
    visitor_name,
)
from sdehub.model.types import BY_WIRE_TYPE, IMPRESSION_TYPES, SDE_TYPES
from tests.test_model_validation import documented_sdes, entry, example


def doc(name: str, index: int = 0) -> dict[str, Any]:
    return documented_sdes(name)[index]


def section(*entries: Entry, scope: Scope = "messaging") -> dict[str, Any]:
    built: dict[str, Any] = msgspec.to_builtins(sde_section(fold(entries, scope)))
    return built


def plain(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Elements without their ``_meta`` (checked separately)."""
    return [{k: v for k, v in item.items() if k != "_meta"} for item in items]


# --- public model -------------------------------------------------------------------------

# The element fields of the public model as documented (seed 001 + the newer PM's firstname and
# lastname). The deprecated ``*Tooltip`` error fields are not produced.
PUBLIC_FIELDS: dict[str, set[str]] = {
    "customerDetails": {"accountName", "balance", "companySize", "companyBranch", "customerId",
                        "imei", "lastPaymentDate", "registrationDate", "role", "socialId",
                        "status", "type", "userName"},
    "personalInfo": {"age", "birthday", "company", "contactInfo", "gender", "language", "name",
                     "firstname", "lastname"},
    "marketingSource": {"originatingChannel", "affiliate", "campaignId"},
    "leadGeneration": {"leadId", "topic", "value"},
    "transaction": {"total", "orderId", "products", "numItems"},
    "viewedProducts": {"name", "category", "sku", "price"},
    "shoppingCart": {"cartTotal", "numItems", "products"},
    "serviceActivity": {"category", "id", "status", "topic"},
    "error": {"contextId", "message", "code", "level", "resolved"},
    "searchContent": {"keywords"},
}  # fmt: skip
PRODUCT_FIELDS = {"name", "category", "sku", "price", "quantity"}


def _encoded_fields(struct_type: Any) -> set[str]:
    info = msgspec.inspect.type_info(struct_type)
    assert isinstance(info, msgspec.inspect.StructType)
    return {f.encode_name for f in info.fields} - {"_meta"}


def test_public_model_shapes_are_the_documented_ones() -> None:
    sdes = msgspec.inspect.type_info(SDESection)
    assert isinstance(sdes, msgspec.inspect.StructType)
    assert [f.name for f in sdes.fields] == [
        "customerDetails", "personalInfo", "marketingSource", "leadGeneration", "transaction",
        "viewedProducts", "shoppingCart", "serviceActivity", "error", "searchContent",
    ]  # fmt: skip
    for f in sdes.fields:
        element = f.type.item_type if isinstance(f.type, msgspec.inspect.ListType) else f.type
        assert isinstance(element, msgspec.inspect.StructType)
        assert _encoded_fields(element.cls) == PUBLIC_FIELDS[f.name], f.name
    assert _encoded_fields(AuthenticatedData) == {"customerDetails", "personalInfo"}
    assert _encoded_fields(ProductDetails) == PRODUCT_FIELDS
    assert _encoded_fields(ContactInfo) == {"email", "phone"}


def test_an_empty_state_gives_empty_arrays() -> None:
    assert section() == {
        "customerDetails": [], "personalInfo": [], "marketingSource": [], "leadGeneration": [],
        "transaction": [], "viewedProducts": [], "shoppingCart": [], "serviceActivity": [],
        "error": [], "searchContent": {"keywords": []},
    }  # fmt: skip
    assert msgspec.to_builtins(authenticated_data({})) == {
        "customerDetails": [], "personalInfo": []}  # fmt: skip
    assert visitor_name({}) is None


def test_customer_info_renames_and_stringifies() -> None:
    model = section(entry(doc("types_ctmrinfo.jsonc")))
    assert plain(model["customerDetails"]) == [{
        "accountName": "bank corp", "balance": "-400.99", "companySize": 500,
        "companyBranch": "East Village", "customerId": "138766AC", "imei": "3543546543545688",
        "lastPaymentDate": "2014-10-15", "registrationDate": "2013-05-23", "role": "broker",
        "socialId": "11256324780", "status": "cancelled", "type": "vip", "userName": "user000",
    }]  # fmt: skip
    # currency, loginStatus, storeZipCode and storeNumber have no public-model slot.


@pytest.mark.parametrize(
    ("balance", "shown"),
    [(-400.99, "-400.99"), (120, "120.0"), ("2.6", "2.6"), (0.1, "0.1"),
     # Java's Double.toString switches to scientific notation outside [1e-3, 1e7).
     (1e7, "1.0E7"), (0.0001, "1.0E-4"), (12345678.9, "1.23456789E7"), (0.001, "0.001")],
)  # fmt: skip
def test_balance_is_a_decimal_string_with_a_fraction(balance: Any, shown: str) -> None:
    model = section(entry({"type": "ctmrinfo", "info": {"balance": balance}}))
    assert model["customerDetails"][0]["balance"] == shown


def test_dates_are_zero_padded_iso_days() -> None:
    model = section(entry({"type": "ctmrinfo", "info": {
        "lastPaymentDate": {"day": 1, "month": 2, "year": 24},
        "registrationDate": {"day": "9", "month": "11", "year": "2013"}}}))  # fmt: skip
    details = model["customerDetails"][0]
    assert (details["lastPaymentDate"], details["registrationDate"]) == ("0024-02-01", "2013-11-09")


def test_personal_info_with_visitor_name_birthday_and_contacts() -> None:
    state = fold([entry(doc("types_personal.jsonc"))], "messaging")
    assert plain(msgspec.to_builtins(sde_section(state))["personalInfo"]) == [{
        "age": 34, "birthday": "1980-04-15", "company": "company",
        "contactInfo": [{"email": "myname@example.com", "phone": "+1 212-788-8877"}],
        "gender": "MALE", "language": "en-US", "name": "John Doe", "firstname": "John",
        "lastname": "Doe",
    }]  # fmt: skip
    assert visitor_name(state) == "John Doe"
    # phoneType and address have no public-model slot; the Monitoring API's 30.0 is 30.
    model = section(entry(doc("monitoring_engagement_body.json")))
    assert model["personalInfo"][0]["age"] == 30 and type(model["personalInfo"][0]["age"]) is int
    assert model["personalInfo"][0]["contactInfo"] == [
        {"email": "user123@gmail.com", "phone": "12345678"},
        {"email": "aaa@domain.co.il", "phone": "98765430"},
    ]


@pytest.mark.parametrize(
    ("server_ts", "age"), [(1_714_694_340_000, 33), (1_714_694_400_000, 34)]
)  # 2024-05-02 23:59 UTC and 2024-05-03 00:00 UTC; born 1990-05-03
def test_age_is_computed_from_the_birthday_when_not_sent(server_ts: int, age: int) -> None:
    model = section(entry(doc("spec_personal.json"), server_ts=server_ts))
    person = model["personalInfo"][0]
    assert (person["age"], person["birthday"]) == (age, "1990-05-03")
    assert person["name"] == "Ana Diaz"


def test_a_birth_year_alone_gives_an_age_but_no_birthday() -> None:
    model = section(entry({"type": "personal", "personal": {"age": {"year": 1990}}},
                          server_ts=1_714_694_400_000))  # fmt: skip
    assert plain(model["personalInfo"]) == [{"age": 34}]


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [("John", "Doe", "John Doe"), ("John", None, "John"), (None, "Doe", "Doe"), ("", "Doe", "Doe"),
     (None, None, None)],
)  # fmt: skip
def test_visitor_name_joins_first_and_last_with_one_space(
    first: str | None, last: str | None, name: str | None
) -> None:
    state = fold([entry({"type": "personal", "personal": {"firstname": first, "lastname": last}})],
                 "messaging")  # fmt: skip
    assert visitor_name(state) == name
    person = msgspec.to_builtins(sde_section(state))["personalInfo"][0]
    assert person.get("name") == name


def test_visitor_name_prefers_authenticated_then_latest() -> None:
    auth = entry({"type": "personal", "personal": {"firstname": "Auth", "lastname": "User"}}, 1,
                 authenticated=True)  # fmt: skip
    later = entry({"type": "personal", "personal": {"firstname": "Later"}}, 2)
    nameless = entry({"type": "personal", "personal": {"language": "en-US"}}, 3)
    assert visitor_name(fold([auth, later, nameless], "messaging")) == "Auth User"
    assert visitor_name(fold([later, nameless], "messaging")) is None  # replaced by a nameless one
    assert visitor_name(fold([later, nameless], "chat")) == "Later"  # merged: the name stays


def test_marketing_source_channel_is_a_code_string() -> None:
    model = section(entry(doc("types_mrktInfo.jsonc")))
    assert plain(model["marketingSource"]) == [
        {"originatingChannel": "1", "affiliate": "Yahoo", "campaignId": "US coupon campaign"}
    ]
    aliased = section(entry({"type": "mrktInfo", "info": {"channel": 6, "campaignID": "camp12"}}))
    assert plain(aliased["marketingSource"]) == [
        {"originatingChannel": "6", "campaignId": "camp12"}
    ]


def test_lead_value_is_a_string() -> None:
    model = section(entry(doc("types_lead.jsonc")), entry(doc("eaapi_request_body.jsonc"), 2))
    assert plain(model["leadGeneration"]) == [
        {"leadId": "xyz123", "topic": "luxury car test drive 2015", "value": "22.22"},
        {"leadId": "xyz123", "topic": "inquiry about upgrade and iPhone 6s pricing",
         "value": "200.0"},
    ]  # fmt: skip


def test_transaction_flattens_its_cart() -> None:
    model = section(
        entry(doc("types_purchase.jsonc")), entry(doc("monitoring_report_body.json"), 2)
    )
    assert plain(model["transaction"]) == [
        {"total": "11.7", "orderId": "DRV1534XC", "products": [
            {"name": "antivirus pro plan", "category": "software", "sku": "xyz001", "price": "7.8",
             "quantity": 3}]},
        # As in the PM's structure example, "products" is always there, [] for a cart-less one.
        {"total": "11.7", "orderId": "DRV1534XC", "products": []},
    ]  # fmt: skip
    # The PM documents numItems as "always null" (a known LivePerson issue); we show what was sent.
    counted = section(entry({"type": "purchase", "cart": {"numItems": "6", "products": []}}))
    assert plain(counted["transaction"]) == [{"numItems": 6, "products": []}]


def test_shopping_cart_renames_total() -> None:
    model = section(entry(doc("types_cart.jsonc")))
    assert plain(model["shoppingCart"]) == [{
        "cartTotal": "11.7", "numItems": 6,
        "products": [{"name": "prod1", "category": "category", "sku": "sku", "price": "7.8",
                      "quantity": 1}],
    }]  # fmt: skip
    spec = section(entry(doc("spec_cart.json")))
    mug = {"name": "mug", "category": "home", "sku": "m1", "price": "15.0", "quantity": 2}
    assert plain(spec["shoppingCart"]) == [{"cartTotal": "30.0", "numItems": 2, "products": [mug]}]


def test_viewed_products_are_one_element_per_product_without_quantity() -> None:
    two = {"type": "prodView", "currency": "USD", "products": [
        {"product": {"name": "shoe", "price": 77.8, "statusInStock": "low"}, "quantity": 3},
        {"product": {"name": "bag", "sku": "b1"}},
    ]}  # fmt: skip
    model = section(entry(doc("types_prodView.jsonc"), 1), entry(two, 2))
    assert plain(model["viewedProducts"]) == [
        {"name": "red high heel shoe", "category": "women shoes", "sku": "xyz567", "price": "77.8"},
        {"name": "shoe", "price": "77.8"},
        {"name": "bag", "sku": "b1"},
    ]
    assert [item["_meta"]["seq"] for item in model["viewedProducts"]] == [1, 2, 2]


def test_service_activity_renames_its_id_and_stringifies_the_status() -> None:
    model = section(entry(doc("types_service.jsonc")))
    assert plain(model["serviceActivity"]) == [
        {"category": "finance", "id": "service12", "status": "0", "topic": "order checkbook"}
    ]
    resolved = section(entry({"type": "service", "service": {"status": "13"}}))
    assert plain(resolved["serviceActivity"]) == [{"status": "13"}]


def test_visitor_error_keeps_level_a_number_and_resolved_a_boolean() -> None:
    model = section(entry(doc("types_error.jsonc")))
    assert plain(model["error"]) == [{
        "contextId": "Credit card application", "message": "Expiration date missing",
        "code": "er100004", "level": 10, "resolved": False,
    }]  # fmt: skip


def test_search_content_is_one_object_of_keyword_values() -> None:
    first = entry(doc("types_searchInfo.jsonc"), 1)
    second = entry({"type": "searchInfo", "keywords": ["refund policy", "returns"]}, 2)
    model = section(second, first)
    assert model["searchContent"]["keywords"] == [
        {"value": "Reset password"}, {"value": "refund policy"}, {"value": "returns"}]  # fmt: skip
    assert model["searchContent"]["_meta"]["seq"] == 2


def test_elements_carry_provenance_and_are_ordered_by_seq() -> None:
    entries = [
        entry({"type": "lead", "lead": {"leadId": "b"}}, 7),
        entry({"type": "lead", "lead": {"leadId": "a"}}, 3, authenticated=True),
        entry({"type": "lead", "lead": {"leadId": "c"}}, 9),
    ]
    model = section(*entries)
    assert [lead["leadId"] for lead in model["leadGeneration"]] == ["a", "b", "c"]
    assert model["leadGeneration"][0]["_meta"] == {
        "seq": 3, "source": "api", "authenticated": True, "originalTs": 1_699_999_999_999,
        "serverTs": 1_700_000_000_000,
    }  # fmt: skip


def test_chat_state_shows_the_merged_customer_info() -> None:
    entries = [entry({"type": "ctmrinfo", "info": {"ctype": "gold", "customerId": "C-1"}}, 1),
               entry({"type": "ctmrinfo", "info": {"ctype": "vip"}}, 2)]  # fmt: skip
    assert plain(section(*entries, scope="chat")["customerDetails"]) == [
        {"customerId": "C-1", "type": "vip"}]  # fmt: skip
    assert plain(section(*entries, scope="messaging")["customerDetails"]) == [{"type": "vip"}]


def test_authenticated_data_holds_only_authenticated_visitor_info() -> None:
    state = fold([
        entry({"type": "ctmrinfo", "info": {"customerId": "unauth"}}, 1),
        entry({"type": "ctmrinfo", "info": {"customerId": "auth"}}, 2, authenticated=True),
        entry({"type": "personal", "personal": {"firstname": "Ann"}}, 3, authenticated=True),
        entry({"type": "personal", "personal": {"firstname": "Bob"}}, 4),
        entry(doc("types_cart.jsonc"), 5, authenticated=True),
    ], "messaging")  # fmt: skip
    data = msgspec.to_builtins(authenticated_data(state))
    assert [d["customerId"] for d in data["customerDetails"]] == ["auth"]
    assert [p["name"] for p in data["personalInfo"]] == ["Ann"]
    everyone = msgspec.to_builtins(sde_section(state))["customerDetails"]
    assert [d["customerId"] for d in everyone] == ["unauth", "auth"]


def test_impressions_have_no_public_model_slot() -> None:
    impressions = [entry(doc(f"monitoring_{cls.__struct_config__.tag}.json"), i)
                   for i, cls in enumerate(IMPRESSION_TYPES)]  # fmt: skip
    assert section(*impressions) == section()


@pytest.mark.parametrize("wire", [str(cls.__struct_config__.tag) for cls in SDE_TYPES])
def test_each_documented_type_fills_exactly_its_public_key(wire: str) -> None:
    model = section(entry(doc(f"types_{wire}.jsonc")))
    filled = {key for key, value in model.items() if value not in ([], {"keywords": []})}
    assert filled == {BY_WIRE[wire].public_key}


# --- Messaging Interactions events (golden) -----------------------------------------------

MI = example("mi_conversation_sdes.json")

# (container, index, wire SDE that produces the event, fields the documented event has that we do
# not produce, fields we produce that it does not have). The wire SDEs are the documented TYPES
# examples where the event shows exactly their values, otherwise built from the event's values.
GOLDEN: list[tuple[str, int, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # The authenticated events carry no isAuthenticated in the example; we always print it.
    ("sdes", 0, {"type": "ctmrinfo", "info": {"customerId": "12345678",
                                              "companyBranch": "dummyCompanyBranch"}},
     {}, {"isAuthenticated": True}),
    ("sdes", 1, {"type": "personal", "personal": {
        "firstname": "dummyName", "lastname": "dummySurename",
        "contacts": [{"email": "dummy@mail.com", "phone": "12345678"}]}},
     {}, {"isAuthenticated": True}),
    ("unAuthSdes", 0, doc("types_cart.jsonc"), {}, {}),
    ("unAuthSdes", 1, doc("types_mrktInfo.jsonc"), {}, {}),
    # The example repeats isAuthenticated inside the customerInfo/personalInfo wrappers only.
    ("unAuthSdes", 2, {"type": "ctmrinfo", "info": {
        "cstatus": "cancelled", "ctype": "vip", "balance": -400.99, "currency": "USD",
        "customerId": "customerId", "socialId": "socialid", "imei": "imeiID",
        "userName": "username", "accountName": "nameacount", "role": "rollleeee",
        "companyBranch": "companyBranch", "storeNumber": "storeNumber13123",
        "storeZipCode": "2342221", "lastPaymentDate": {"day": 15, "month": 10, "year": 2014},
        "registrationDate": {"day": 23, "month": 5, "year": 2013}, "companySize": 2222}},
     {"customerInfo.isAuthenticated": False}, {}),
    ("unAuthSdes", 3, {"type": "personal", "personal": {
        "firstname": "John", "lastname": "Doe", "gender": "MALE", "company": "company",
        "language": "Russian", "age": {"age": 34, "year": 1980, "month": 4, "day": 15},
        "contacts": [{"email": "myname@example.com", "phone": "+1 212-788-8877"}]}},
     {"personalInfo.isAuthenticated": False}, {}),
    ("unAuthSdes", 4, {"type": "searchInfo", "keywords": ["word"]}, {}, {}),
    # The example shows a numeric quantity inside an otherwise stringified event; our v=1 form
    # stringifies every value alike.
    ("unAuthSdes", 5, {"type": "prodView", "currency": "USD", "products": [
        {"quantity": 3, "product": {"name": "red high heel shoe", "category": "women shoes",
                                    "sku": "xyz567", "price": 77.8}}]},
     {"viewedProduct.products.0.quantity": 3}, {"viewedProduct.products.0.quantity": "3"}),
    # We never print explicit nulls for absent values.
    ("unAuthSdes", 6, {"type": "error", "error": {
        "contextId": "contextId", "message": "Expiration date missing", "code": "er100004"}},
     {"visitorError.visitorError.level": None, "visitorError.visitorError.resolved": None}, {}),
    # (The documented lead event is not valid JSON; see REPAIRS in test_model_validation.py.)
    ("unAuthSdes", 7, {"type": "lead", "lead": {
        "topic": "luxury car test drive 2015", "value": 22.22, "leadId": "xyz123"}},
     {"lead.lead.currency": None}, {}),
    ("unAuthSdes", 8, {"type": "purchase", "total": 78, "orderId": "Test123",
                       "cart": {"products": []}},
     {"purchase.currency": None, "purchase.cart.total": None,
      "purchase.cart.serverTimeStamp": None, "purchase.cart.numItems": None}, {}),
    ("unAuthSdes", 9, doc("types_service.jsonc"), {}, {}),
]  # fmt: skip


def _split(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".")]


def _pop(tree: Any, path: str) -> Any:
    *parents, last = _split(path)
    for key in parents:
        tree = tree[key]
    return tree.pop(last)


def _golden_entry(container: str, index: int, sde: dict[str, Any]) -> tuple[Entry, dict[str, Any]]:
    documented: dict[str, Any] = copy.deepcopy(MI[container]["events"][index])
    key = next(k for k in documented if k not in ("sdeType", "serverTimeStamp", "isAuthenticated"))
    got = entry(sde, authenticated=container == "sdes",
                server_ts=int(documented["serverTimeStamp"]))  # fmt: skip
    meta = msgspec.structs.replace(got.meta, originalTs=int(documented[key]["originalTimeStamp"]))
    return Entry(got.record, meta), documented


@pytest.mark.parametrize(
    ("container", "index", "sde", "missing", "extra"),
    GOLDEN,
    ids=[f"{c}[{i}]:{s['type']}" for c, i, s, *_ in GOLDEN],
)
def test_history_events_match_the_documented_example(
    container: str, index: int, sde: dict[str, Any], missing: dict[str, Any],
    extra: dict[str, Any],
) -> None:  # fmt: skip
    golden, documented = _golden_entry(container, index, sde)
    for path, value in missing.items():
        assert _pop(documented, path) == value, path  # the documented difference is still there
    # The example prints every value as a string (the v=1 form), although the docs say only v=2
    # returns unAuthSdes, with typed values; we compare with our v=1 form accordingly.
    ours = history_event(golden, version=1)
    for path, value in extra.items():
        assert _pop(ours, path) == value, path
    assert ours == documented


def test_the_golden_cases_cover_every_documented_event_and_every_history_type() -> None:
    cases = {(c, i) for c, i, *_ in GOLDEN}
    assert cases == {(c, i) for c in ("sdes", "unAuthSdes") for i in range(len(MI[c]["events"]))}
    assert {MI[c]["events"][i]["sdeType"] for c, i in cases} == set(BY_SDE_TYPE)


def test_events_are_double_wrapped_or_flat_as_documented() -> None:
    for container, index, sde, *_ in GOLDEN:
        golden, documented = _golden_entry(container, index, sde)
        event = history_event(golden)
        n = BY_WIRE[sde["type"]]
        assert n.history_key is not None
        assert list(event) == [n.history_key, "sdeType", "serverTimeStamp", "isAuthenticated"]
        inner = event[n.history_key]
        assert list(inner)[:2] == ["serverTimeStamp", "originalTimeStamp"]
        assert (n.history_key in inner) == n.double_wrapped
        assert (n.history_key in documented[n.history_key]) == n.double_wrapped


def test_version_2_keeps_declared_types_and_version_1_is_its_stringified_form() -> None:
    for container, index, sde, *_ in GOLDEN:
        golden, _ = _golden_entry(container, index, sde)
        v1, v2 = history_event(golden, version=1), history_event(golden, version=2)
        key = next(iter(v2))
        assert stringify(v2.pop(key)) == v1.pop(key)
        assert v2 == v1  # the envelope is the same in both versions
    golden, _ = _golden_entry("unAuthSdes", 2, GOLDEN[4][2])
    customer = history_event(golden)["customerInfo"]["customerInfo"]
    assert (customer["balance"], customer["companySize"]) == (-400.99, 2222)
    assert customer["lastPaymentDate"] == {"year": 2014, "month": 10, "day": 15}
    golden, _ = _golden_entry("unAuthSdes", 3, GOLDEN[5][2])
    age = history_event(golden)["personalInfo"]["personalInfo"]["customerAge"]
    assert age == {"customerAgeInYears": 34.0, "customerYearOfBirth": 1980,
                   "customerMonthOfBirth": 4, "customerDateOfBirth": 15}  # fmt: skip
    golden, _ = _golden_entry("unAuthSdes", 1, GOLDEN[3][2])
    assert history_event(golden)["marketingCampaignInfo"]["marketingCampaignInfo"][
        "originatingChannel"] == 1  # fmt: skip


def test_timestamps_are_strings_and_is_authenticated_a_boolean() -> None:
    event = history_event(entry(doc("types_error.jsonc"), authenticated=True, server_ts=1234), 2)
    assert event["serverTimeStamp"] == "1234" and event["isAuthenticated"] is True
    assert event["visitorError"]["serverTimeStamp"] == "1234"
    assert event["visitorError"]["originalTimeStamp"] == "1233"
    assert event["visitorError"]["visitorError"] == {
        "contextId": "Credit card application", "message": "Expiration date missing",
        "code": "er100004", "level": 10, "resolved": False,
    }  # fmt: skip
    assert stringify(event)["visitorError"]["visitorError"]["resolved"] == "false"


def test_history_keeps_what_the_public_model_drops() -> None:
    # Customer Info's store fields, currency and login status; contacts' phoneType and address;
    # viewed products' stock status: Messaging Interactions lists them all.
    customer = fields(entry({"type": "ctmrinfo", "info": {
        "currency": "USD", "loginStatus": 1, "storeNumber": "7"}}).record)  # fmt: skip
    assert customer == {"currency": "USD", "loginStatus": 1, "storeNumber": "7"}
    person = fields(entry(doc("spec_personal.json")).record)
    assert person["contacts"] == [{"personalContact": {
        "email": "a@x.io", "phone": "+15550001", "phoneType": "MOBILE",
        "address": {"country": "US", "region": "CA"}}}]  # fmt: skip
    assert person["customerAge"] == {"customerYearOfBirth": 1990, "customerMonthOfBirth": 5,
                                     "customerDateOfBirth": 3}  # fmt: skip
    viewed = fields(entry(doc("types_prodView.jsonc")).record)
    assert viewed["products"][0]["product"]["statusInStock"] == "low"
    assert viewed["products"][0]["product"]["quantityInStock"] == 7


def test_a_purchase_without_cart_still_shows_an_empty_cart() -> None:
    # As the documented PURCHASE event does ("cart": {"products": [], ...}).
    purchase = fields(entry(doc("monitoring_report_body.json")).record)
    assert purchase == {"total": 11.7, "orderId": "DRV1534XC", "cart": {"products": []}}


@pytest.mark.parametrize("cls", IMPRESSION_TYPES)
def test_impressions_have_no_history_form(cls: type[t.Base]) -> None:
    impression = entry(doc(f"monitoring_{cls.__struct_config__.tag}.json"))
    with pytest.raises(ValueError, match="no Messaging Interactions form"):
        history_event(impression)


# --- naming across APIs (spec/consume.md §7, spec/ingest.md §1.2 and §2.3) -----------------

# reported type: (Widget SDK path, history event key, sdeType, sdeSearch key, Data Access record)
CONSUME_7 = {
    "ctmrinfo": ("SDE.customerDetails", "customerInfo", "CUSTOMER_INFO", "customerInfo",
                 "CustomerInfo"),
    "personal": ("SDE.personalInfo", "personalInfo", "PERSONAL_INFO", "personalInfo",
                 "PersonalInfo"),
    "mrktInfo": ("SDE.marketingSource", "marketingCampaignInfo", "MARKETING_CAMPAIGN_INFO",
                 "marketingCampaignInfo", "MarketingCampaignInfo"),
    "lead": ("SDE.leadGeneration", "lead", "LEAD", "lead", "Lead"),
    "purchase": ("SDE.transaction", "purchase", "PURCHASE", "purchase", "Purchase"),
    "prodView": ("SDE.viewedProducts", "viewedProduct", "VIEWED_PRODUCT", "viewedProduct",
                 "ViewedProduct"),
    "cart": ("SDE.shoppingCart", "cartStatus", "CART_STATUS", "cartStatus", "CartStatus"),
    "service": ("SDE.serviceActivity", "serviceActivity", "SERVICE_ACTIVITY", "serviceActivity",
                "ServiceActivity"),
    "error": ("SDE.error", "visitorError", "VISITOR_ERROR", "visitorError", "VisitorError"),
    "searchInfo": ("SDE.searchContent", "searchContent", "SEARCH_CONTENT", "searchContent", None),
}  # fmt: skip
# The table's last row, (userProfile) -> sdeSearch "userUpdate", is not an SDE type.

# reported type: (category, wrapper) from spec/ingest.md §1.2, double-wrapped per consume §2.5
INGEST_1_2 = {
    "ctmrinfo": ("Visitor info", "info", True), "personal": ("Visitor info", "personal", True),
    "mrktInfo": ("Visitor info", "info", True), "cart": ("eCommerce", None, False),
    "purchase": ("eCommerce", None, False), "prodView": ("eCommerce", None, False),
    "lead": ("Visitor journey", "lead", True), "service": ("Visitor journey", "service", True),
    "error": ("Visitor journey", "error", True), "searchInfo": ("Visitor journey", None, False),
}  # fmt: skip


@pytest.mark.parametrize("wire", list(CONSUME_7))
def test_naming_matches_the_cross_api_map(wire: str) -> None:
    path, history_key, sde_type, search_key, dataaccess = CONSUME_7[wire]
    n = BY_WIRE[wire]
    assert f"SDE.{n.public_key}" == path
    assert (n.history_key, n.sde_type, n.dataaccess) == (history_key, sde_type, dataaccess)
    assert n.history_key == search_key
    assert (n.category, n.wrapper, n.double_wrapped) == INGEST_1_2[wire]
    assert BY_PUBLIC_KEY[n.public_key] is BY_HISTORY_KEY[history_key] is BY_SDE_TYPE[sde_type] is n


def test_naming_has_one_row_per_wire_type_in_type_order() -> None:
    assert [n.wire for n in NAMINGS] == list(BY_WIRE_TYPE)
    assert set(CONSUME_7) == {str(c.__struct_config__.tag) for c in SDE_TYPES}
    for cls in IMPRESSION_TYPES:
        n = BY_WIRE[str(cls.__struct_config__.tag)]
        assert n.category == "Impression"
        assert (n.public_key, n.history_key, n.sde_type, n.dataaccess) == (None, None, None, None)
    for n in NAMINGS:
        # The wrapper is the one field holding the values, so wrapper types are double wrapped.
        if n.wrapper is not None:
            cls = BY_WIRE_TYPE[n.wire]
            assert n.wrapper in cls.__struct_fields__
