"""The SDE wire model: documented examples decode, every problem is reported with its JSON path,
the documented tolerances hold, and the generated JSON Schemas agree with the docs."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from jsonschema import Draft202012Validator

from sdehub.model import types as t
from sdehub.model.naming import naming
from sdehub.model.provenance import Entry, Provenance
from sdehub.model.schema import DIALECT, all_schemas, sde_schema
from sdehub.model.sdes import authenticated_problems, decode_sdes
from sdehub.model.types import BY_WIRE_TYPE, IMPRESSION_TYPES, SDE_TYPES, wire_type
from sdehub.model.validation import FieldError, format_path
from tests.harness import Harness

FIXTURES = Path(__file__).parent / "fixtures" / "model"

# Two published examples are not JSON even once their comments are gone; these exact edits (each
# must match once) make them parse. The fixture files themselves stay as published.
REPAIRS: dict[str, list[tuple[str, str]]] = {
    # The trailing comment wraps onto a second line and the array is followed by a stray comma.
    "types_searchInfo.jsonc": [("\n  ABOUT RESET PASSWORD\n", "\n")],
    # The lead event misses a comma between its inner timestamps (the trailing comma after them
    # is removed with the others).
    "mi_conversation_sdes.json": [
        ('"1528628536882"\n\t\t\t\t\t\t\t"originalTimeStamp"',
         '"1528628536882",\n\t\t\t\t\t\t\t"originalTimeStamp"'),
    ],
}  # fmt: skip


def _strip_comments(text: str) -> str:
    """Drop ``//`` comments (outside strings) and trailing commas, as the docs' readers must."""
    out: list[str] = []
    i, in_string = 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        else:
            out.append(c)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def example(name: str) -> Any:
    """A fixture from ``tests/fixtures/model`` parsed as its readers would."""
    text = (FIXTURES / name).read_text()
    for old, new in REPAIRS.get(name, []):
        assert text.count(old) == 1, (name, old)
        text = text.replace(old, new)
    return json.loads(_strip_comments(text))


def documented_sdes(name: str) -> list[dict[str, Any]]:
    """The SDE objects of an example: the object itself, a request array, or a request body."""
    value = example(name)
    if isinstance(value, list):
        return value
    if "engagementAttributes" in value:
        sdes: list[dict[str, Any]] = value["engagementAttributes"]
        return sdes
    return [value]


def decode_one(sde: Any, **flags: bool) -> t.Base:
    records, errors = decode_sdes([sde], impressions=True, **flags)
    assert errors == [], errors
    return records[0]


def entry(
    sde: Any, seq: int = 1, *, authenticated: bool = False, server_ts: int = 1_700_000_000_000
) -> Entry:
    """One reported SDE with made-up provenance, the unit the views and merge rules take."""
    meta = Provenance(seq=seq, source="api", authenticated=authenticated,
                      originalTs=server_ts - 1, serverTs=server_ts)  # fmt: skip
    return Entry(decode_one(sde), meta)


# Every published example and what it must decode to. Tolerances show up here too: the
# Marketing Source example sends channel "1", the Monitoring API one sends age 30.0.
DOCUMENTED: dict[str, list[t.Base]] = {
    "types_cart.jsonc": [
        t.CartUpdate(total=11.7, currency="USD", numItems=6, products=[t.ProductItem(
            product=t.Product(name="prod1", category="category", sku="sku", price=7.8),
            quantity=1)]),
    ],
    "types_purchase.jsonc": [
        t.Transaction(total=11.7, currency="USD", orderId="DRV1534XC", cart=t.PurchaseCart(
            products=[t.ProductItem(product=t.Product(
                name="antivirus pro plan", category="software", sku="xyz001", price=7.8),
                quantity=3)])),
    ],
    "types_prodView.jsonc": [
        t.ViewedProduct(currency="USD", products=[t.ViewedProductItem(product=t.Product(
            name="red high heel shoe", category="women shoes", sku="xyz567", price=77.8,
            statusInStock="low", quantityInStock=7))]),
    ],
    "types_ctmrinfo.jsonc": [
        t.CustomerInfo(info=t.CustomerInfoData(
            cstatus="cancelled", ctype="vip", customerId="138766AC", balance=-400.99,
            currency="USD", socialId="11256324780", imei="3543546543545688", userName="user000",
            companySize=500, companyBranch="East Village", accountName="bank corp", role="broker",
            lastPaymentDate=t.Date(day=15, month=10, year=2014),
            registrationDate=t.Date(day=23, month=5, year=2013),
            storeNumber="123865", storeZipCode="20505")),
    ],
    "types_mrktInfo.jsonc": [
        t.MarketingSource(info=t.MarketingData(
            channel=1, affiliate="Yahoo", campaignId="US coupon campaign")),
    ],
    "types_personal.jsonc": [
        t.PersonalInfo(personal=t.PersonalData(
            firstname="John", lastname="Doe", age=t.Age(age=34, year=1980, month=4, day=15),
            contacts=[t.Contact(email="myname@example.com", phone="+1 212-788-8877",
                                address=t.Address(country="Russia", region="Moscow"))],
            gender="MALE", language="en-US", company="company")),
    ],
    "types_lead.jsonc": [
        t.Lead(lead=t.LeadData(topic="luxury car test drive 2015", value=22.22, currency="USD",
                               leadId="xyz123")),
    ],
    "types_service.jsonc": [
        t.ServiceActivity(service=t.ServiceData(topic="order checkbook", status=0,
                                                category="finance", serviceId="service12")),
    ],
    "types_error.jsonc": [
        t.VisitorError(error=t.ErrorData(contextId="Credit card application",
                                         message="Expiration date missing", code="er100004",
                                         level=10, resolved=False)),
    ],
    "types_searchInfo.jsonc": [t.SearchContent(keywords=["Reset password"])],
    "monitoring_report_body.json": [
        t.Transaction(total=11.7, orderId="DRV1534XC"),
        t.Lead(lead=t.LeadData(topic="luxury car test drive 2015", value=22.22, leadId="xyz123")),
    ],
    "monitoring_impAccept.json": [
        t.ImpressionAccept(campaign=3115242510, engId=3115242810, revision=537,
                           eContext=[t.EngagementContext(id="1")]),
    ],
    "monitoring_impDisplay.json": [
        t.ImpressionDisplay(campaign=3115242510, engId=3115242810, revision=537,
                            eContext=[t.EngagementContext(id="1")]),
    ],
    "monitoring_impExpanded.json": [
        t.ImpressionExpanded(campaign=3115242510, engId=3115242810, revision=537),
    ],
    "monitoring_impTimeout.json": [
        t.ImpressionTimeout(campaign=3115242510, engId=3115242810, revision=537),
    ],
    "monitoring_impClose.json": [
        t.ImpressionClose(campaign=3115242510, engId=3115242810, revision=537),
    ],
    "monitoring_engagement_body.json": [
        t.PersonalInfo(personal=t.PersonalData(
            contacts=[t.Contact(email="user123@gmail.com", phone="12345678"),
                      t.Contact(email="aaa@domain.co.il", phone="98765430")],
            age=t.Age(age=30, year=1985, month=7, day=22), firstname="test", lastname="test2",
            gender="FEMALE", company="liveperson")),
    ],
    "eaapi_request_body.jsonc": [
        t.Lead(lead=t.LeadData(topic="inquiry about upgrade and iPhone 6s pricing", value=200.0,
                               leadId="xyz123")),
        t.ServiceActivity(service=t.ServiceData(
            topic="add authorized user to the account ", status=0,
            category="account maintenance", serviceId="service12")),
    ],
    "spec_ctmrinfo.json": [
        t.CustomerInfo(info=t.CustomerInfoData(
            ctype="gold", cstatus="active", customerId="c-9f2", balance=120.5, currency="USD",
            lastPaymentDate=t.Date(day=1, month=2, year=2024))),
    ],
    "spec_personal.json": [
        t.PersonalInfo(personal=t.PersonalData(
            firstname="Ana", lastname="Diaz", gender="FEMALE", age=t.Age(year=1990, month=5, day=3),
            contacts=[t.Contact(email="a@x.io", phone="+15550001", phoneType="MOBILE",
                                address=t.Address(country="US", region="CA"))],
            language="en-US", company="Acme")),
    ],
    "spec_cart.json": [
        t.CartUpdate(total=30.0, currency="USD", numItems=2, products=[t.ProductItem(
            product=t.Product(name="mug", category="home", sku="m1", price=15.0), quantity=2)]),
    ],
    "spec_searchInfo.json": [t.SearchContent(keywords=["refund policy"])],
}  # fmt: skip


def test_every_fixture_is_used_and_every_type_has_a_documented_example() -> None:
    files = {p.name for p in FIXTURES.iterdir() if p.name != "README.md"}
    assert files == set(DOCUMENTED) | {"mi_conversation_sdes.json"}
    covered = {wire_type(r) for records in DOCUMENTED.values() for r in records}
    assert covered == set(BY_WIRE_TYPE)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_examples_decode(name: str) -> None:
    records, errors = decode_sdes(documented_sdes(name), impressions=True)
    assert errors == []
    assert records == DOCUMENTED[name]


def test_fixtures_are_the_published_text() -> None:
    # Spot checks that nobody "fixed" the fixtures: comments and the published mistakes remain.
    assert "//MANDATORY" in (FIXTURES / "types_cart.jsonc").read_text()
    assert "  ABOUT RESET PASSWORD\n" in (FIXTURES / "types_searchInfo.jsonc").read_text()
    assert '"age":30.0' in (FIXTURES / "monitoring_engagement_body.json").read_text()
    mi_text = (FIXTURES / "mi_conversation_sdes.json").read_text()
    assert '"serverTimeStamp": "1528628536882"\n' in mi_text
    with pytest.raises(json.JSONDecodeError):
        json.loads(_strip_comments(mi_text))


# --- required fields ----------------------------------------------------------------------


def _unwrap(info: mi.Type) -> mi.Type:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


def _struct_for(value: Any, info: mi.Type) -> mi.StructType | None:
    info = _unwrap(info)
    members = info.types if isinstance(info, mi.UnionType) else (info,)
    structs = [m for m in members if isinstance(m, mi.StructType)]
    if not isinstance(value, dict) or not structs:
        return None
    if len(structs) == 1:
        return structs[0]
    return next(s for s in structs if s.tag == value.get(s.tag_field))


def _required(value: Any, info: mi.Type, path: tuple[str | int, ...] = ()) -> Iterator[
    tuple[tuple[str | int, ...], type, str]
]:  # fmt: skip
    """Every required field of ``value`` (a valid SDE) as (path, struct class, field name)."""
    struct = _struct_for(value, info)
    if struct is not None:
        if struct.tag_field is not None:
            yield (*path, struct.tag_field), struct.cls, struct.tag_field
        for f in struct.fields:
            if f.required:
                yield (*path, f.encode_name), struct.cls, f.encode_name
            if f.encode_name in value:
                yield from _required(value[f.encode_name], f.type, (*path, f.encode_name))
        return
    info = _unwrap(info)
    if isinstance(info, mi.UnionType):  # an optional list
        info = next(m for m in info.types if not isinstance(m, mi.NoneType))
    if isinstance(info, mi.ListType) and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _required(item, info.item_type, (*path, i))


def _all_required() -> set[tuple[type, str]]:
    """(class, field) for every required field of every struct reachable from an SDE."""
    found: set[tuple[type, str]] = set()
    seen: set[type] = set()

    def walk(info: mi.Type) -> None:
        info = _unwrap(info)
        if isinstance(info, mi.StructType):
            if info.cls in seen:
                return
            seen.add(info.cls)
            if info.tag_field is not None:
                found.add((info.cls, info.tag_field))
            for f in info.fields:
                if f.required:
                    found.add((info.cls, f.encode_name))
                walk(f.type)
        elif isinstance(info, mi.UnionType):
            for member in info.types:
                walk(member)
        elif isinstance(info, mi.ListType):
            walk(info.item_type)

    walk(mi.type_info(t.Event))
    return found


EVENT_INFO = mi.type_info(t.Event)
REQUIRED_CASES = [
    (name, i, path, cls, field)
    for name in sorted(DOCUMENTED)
    for i, sde in enumerate(documented_sdes(name))
    for path, cls, field in _required(sde, EVENT_INFO)
]


def test_the_documented_examples_exercise_every_required_field() -> None:
    assert {(cls, field) for *_, cls, field in REQUIRED_CASES} == _all_required()
    # The documented mandatory fields (spec/ingest.md §1.3) are among them.
    assert {
        (t.CartUpdate, "total"), (t.CartUpdate, "numItems"), (t.ProductItem, "product"),
        (t.PurchaseCart, "products"), (t.Date, "day"), (t.Date, "month"), (t.Date, "year"),
        (t.CustomerInfo, "type"), (t.SearchContent, "type"),
    } <= _all_required()  # fmt: skip


@pytest.mark.parametrize(
    ("name", "index", "path"),
    [(name, i, path) for name, i, path, *_ in REQUIRED_CASES],
    ids=[f"{name}[{i}]{format_path(path)}" for name, i, path, *_ in REQUIRED_CASES],
)
def test_a_missing_required_field_is_reported_at_its_path(
    name: str, index: int, path: tuple[str | int, ...]
) -> None:
    sde = copy.deepcopy(documented_sdes(name)[index])
    parent = sde
    for seg in path[:-1]:
        parent = parent[seg]
    del parent[path[-1]]
    records, errors = decode_sdes([sde], impressions=True)
    assert records == []
    assert [e.path for e in errors] == [format_path((0, *path))]
    message = errors[0].message
    assert (
        message.startswith("is required (one of ctmrinfo,")
        if path == ("type",)
        else (message == "is required")
    )


def test_null_is_absent_so_a_required_null_is_missing() -> None:
    _, errors = decode_sdes([{"type": "cart", "total": None, "numItems": 1}])
    assert errors == [FieldError("$[0].total", "is required")]
    _, errors = decode_sdes([{"type": None}])
    assert [e.path for e in errors] == ["$[0].type"]


# --- enums --------------------------------------------------------------------------------

GENDERS = [
    ("MALE", "MALE"), ("FEMALE", "FEMALE"), ("OTHER", "OTHER"),
    ("male", "MALE"), ("Female", "FEMALE"), ("oThEr", "OTHER"),
    # The older TYPES table typed gender as an integer: 0 MALE, 1 FEMALE, 2 OTHER.
    (0, "MALE"), (1, "FEMALE"), (2, "OTHER"), ("0", "MALE"), ("1", "FEMALE"), ("2", "OTHER"),
]  # fmt: skip
PHONE_TYPES = ["HOME", "MOBILE", "WORK", "FAX", "MAIN", "HOME_FAX", "WORK_FAX", "PAGER", "OTHER"]
AMR = ["face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pwd", "rba",
       "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"]  # fmt: skip


def _personal(**fields: Any) -> dict[str, Any]:
    return {"type": "personal", "personal": fields}


@pytest.mark.parametrize(("raw", "expected"), GENDERS)
def test_gender_accepts_names_in_any_case_and_the_old_codes(raw: Any, expected: str) -> None:
    record = decode_one(_personal(gender=raw))
    assert isinstance(record, t.PersonalInfo) and record.personal.gender == expected


@pytest.mark.parametrize("raw", ["ROBOT", "M", "", 3, -1, "3", 1.5, True, [], {}])
def test_gender_rejects_anything_else(raw: Any) -> None:
    _, errors = decode_sdes([_personal(gender=raw)])
    assert [e.path for e in errors] == ["$[0].personal.gender"]
    assert errors[0].message.startswith("expected one of ")
    assert all(g in errors[0].message for g in ("MALE", "FEMALE", "OTHER"))


@pytest.mark.parametrize("value", PHONE_TYPES + [p.lower() for p in PHONE_TYPES])
def test_phone_type_accepts_every_documented_value(value: str) -> None:
    record = decode_one(_personal(contacts=[{"phone": "1", "phoneType": value}]))
    assert isinstance(record, t.PersonalInfo) and record.personal.contacts is not None
    assert record.personal.contacts[0].phoneType == value.upper()


@pytest.mark.parametrize("value", ["CELL", "home fax", 0, True, {}])
def test_phone_type_rejects_others(value: Any) -> None:
    _, errors = decode_sdes([_personal(contacts=[{}, {"phoneType": value}])])
    assert [e.path for e in errors] == ["$[0].personal.contacts[1].phoneType"]
    assert errors[0].message.startswith("expected one of ")
    assert all(f"{p}," in errors[0].message for p in PHONE_TYPES)


def test_amr_accepts_every_documented_method_in_both_sdes_that_carry_auth() -> None:
    for sde in ({"type": "ctmrinfo", "info": {}}, _personal()):
        record = decode_one({**sde, "auth": {"amr": AMR + ["PWD"], "iss": "https://idp"}})
        assert isinstance(record, t.CustomerInfo | t.PersonalInfo) and record.auth is not None
        assert record.auth.amr == [*AMR, "pwd"]
        assert record.auth.iss == "https://idp"


@pytest.mark.parametrize("value", ["password", "", 1, None, ["pwd"]])
def test_amr_rejects_others(value: Any) -> None:
    _, errors = decode_sdes([{"type": "ctmrinfo", "info": {}, "auth": {"amr": ["pwd", value]}}])
    assert [e.path for e in errors] == ["$[0].auth.amr[1]"]


@pytest.mark.parametrize("status", [*range(14), "13", 7.0, " 3 "])
def test_service_status_accepts_0_to_13(status: Any) -> None:
    record = decode_one({"type": "service", "service": {"status": status}})
    assert isinstance(record, t.ServiceActivity)
    assert record.service.status == int(float(status)) and type(record.service.status) is int


@pytest.mark.parametrize(
    ("status", "message"),
    [(14, "expected a value <= 13, got 14"), (-1, "expected a value >= 0, got -1"),
     (1.5, "expected an integer, got number 1.5"),
     ("Complete", 'expected an integer, got string "Complete"'),
     (False, "expected an integer, got false")],
)  # fmt: skip
def test_service_status_rejects_others(status: Any, message: str) -> None:
    _, errors = decode_sdes([{"type": "service", "service": {"status": status}}])
    assert errors == [FieldError("$[0].service.status", message)]


@pytest.mark.parametrize("channel", [*range(7), "1", "6", 4.0])
def test_channel_accepts_0_to_6(channel: Any) -> None:
    record = decode_one({"type": "mrktInfo", "info": {"channel": channel}})
    assert isinstance(record, t.MarketingSource)
    assert record.info.channel == int(float(channel)) and type(record.info.channel) is int


@pytest.mark.parametrize(
    ("channel", "message"),
    [(7, "expected a value <= 6, got 7"), (-1, "expected a value >= 0, got -1"),
     ("Direct", 'expected an integer, got string "Direct"'),
     (True, "expected an integer, got true")],
)  # fmt: skip
def test_channel_rejects_others(channel: Any, message: str) -> None:
    _, errors = decode_sdes([{"type": "mrktInfo", "info": {"channel": channel}}])
    assert errors == [FieldError("$[0].info.channel", message)]


def test_enum_names_cover_the_documented_ranges() -> None:
    assert len(t.SERVICE_STATUS_NAMES) == 14 and t.SERVICE_STATUS_NAMES[13] == "Resolved"
    assert t.CHANNEL_NAMES[:5] == ("Direct", "Search", "Social", "Email", "Referral")
    assert len(t.CHANNEL_NAMES) == 7


# --- tolerances ---------------------------------------------------------------------------


def test_channel_as_a_string_as_in_the_documented_example() -> None:
    record = decode_one(documented_sdes("types_mrktInfo.jsonc")[0])
    assert isinstance(record, t.MarketingSource) and record.info.channel == 1


def test_campaign_id_alias_from_the_field_table() -> None:
    record = decode_one({"type": "mrktInfo", "info": {"campaignID": "camp12"}})
    assert record == t.MarketingSource(info=t.MarketingData(campaignId="camp12"))
    # The canonical spelling wins when both are sent; a null one falls back to the alias.
    both = {"type": "mrktInfo", "info": {"campaignId": "a", "campaignID": "b"}}
    assert decode_one(both) == t.MarketingSource(info=t.MarketingData(campaignId="a"))
    null = {"type": "mrktInfo", "info": {"campaignId": None, "campaignID": "b"}}
    assert decode_one(null) == t.MarketingSource(info=t.MarketingData(campaignId="b"))
    # An error in the alias is reported under the key the client actually sent.
    _, errors = decode_sdes([{"type": "mrktInfo", "info": {"campaignID": ["x"]}}])
    assert errors == [FieldError("$[0].info.campaignID", "expected a string, got an array")]
    # On the way out only the canonical name exists.
    assert msgspec.json.encode(record) == b'{"type":"mrktInfo","info":{"campaignId":"camp12"}}'


def test_age_as_an_integral_float() -> None:
    record = decode_one(_personal(age={"age": 30.0, "year": "1969"}))
    assert isinstance(record, t.PersonalInfo) and record.personal.age is not None
    assert (record.personal.age.age, record.personal.age.year) == (30, 1969)
    assert type(record.personal.age.age) is int and type(record.personal.age.year) is int
    _, errors = decode_sdes([_personal(age={"age": 30.5})])
    assert errors == [FieldError("$[0].personal.age.age", "expected an integer, got number 30.5")]


def test_numeric_strings_for_numbers() -> None:
    # As Messaging Interactions v1 prints them ("alphanumeric"), so its output can be replayed.
    record = decode_one({"type": "ctmrinfo", "info": {
        "balance": "-400.99", "companySize": "2222", "loginStatus": " 1 ",
        "lastPaymentDate": {"year": "2014", "month": "10", "day": "15"}}})  # fmt: skip
    assert record == t.CustomerInfo(info=t.CustomerInfoData(
        balance=-400.99, companySize=2222, loginStatus=1,
        lastPaymentDate=t.Date(year=2014, month=10, day=15)))  # fmt: skip
    cart = decode_one({"type": "cart", "total": "11.7", "numItems": "6",
                       "products": [{"product": {"price": "7.8"}, "quantity": "1"}]})  # fmt: skip
    assert cart == t.CartUpdate(total=11.7, numItems=6, products=[
        t.ProductItem(product=t.Product(price=7.8), quantity=1)])  # fmt: skip
    assert isinstance(cart, t.CartUpdate) and type(cart.numItems) is int


def test_numbers_for_strings() -> None:
    record = decode_one({"type": "purchase", "orderId": 1234, "total": 5,
                         "cart": {"products": [{"product": {"sku": 7.5, "name": 0}}]}})  # fmt: skip
    assert record == t.Transaction(orderId="1234", total=5.0, cart=t.PurchaseCart(
        products=[t.ProductItem(product=t.Product(sku="7.5", name="0"))]))  # fmt: skip
    info = decode_one({"type": "ctmrinfo", "info": {"customerId": 12345678, "storeZipCode": 20505}})
    assert info == t.CustomerInfo(info=t.CustomerInfoData(customerId="12345678",
                                                          storeZipCode="20505"))  # fmt: skip
    assert decode_one({"type": "searchInfo", "keywords": [42]}) == t.SearchContent(keywords=["42"])


def test_boolean_strings_and_unknown_fields() -> None:
    record = decode_one({"type": "error", "error": {"resolved": "TRUE", "severity": "high"},
                         "extra": {"ignored": True}})  # fmt: skip
    assert record == t.VisitorError(error=t.ErrorData(resolved=True))
    assert decode_one({"type": "error", "error": {"resolved": "false"}}) == t.VisitorError(
        error=t.ErrorData(resolved=False))  # fmt: skip


@pytest.mark.parametrize(
    ("sde", "path", "message"),
    [
        ({"type": "cart", "total": True, "numItems": 1}, "$[0].total",
         "expected a number, got true"),
        ({"type": "cart", "total": "NaN", "numItems": 1}, "$[0].total",
         'expected a number, got string "NaN"'),
        ({"type": "cart", "total": "Infinity", "numItems": 1}, "$[0].total",
         'expected a number, got string "Infinity"'),
        ({"type": "cart", "total": "$12", "numItems": 1}, "$[0].total",
         'expected a number, got string "$12"'),
        ({"type": "cart", "total": 1, "numItems": 6.5}, "$[0].numItems",
         "expected an integer, got number 6.5"),
        ({"type": "ctmrinfo", "info": {"customerId": False}}, "$[0].info.customerId",
         "expected a string, got false"),
        ({"type": "ctmrinfo", "info": {"customerId": {"id": 1}}}, "$[0].info.customerId",
         "expected a string, got an object"),
        ({"type": "error", "error": {"resolved": "yes"}}, "$[0].error.resolved",
         'expected true or false, got string "yes"'),
        ({"type": "error", "error": {"resolved": 1}}, "$[0].error.resolved",
         "expected true or false, got number 1"),
        ({"type": "searchInfo", "keywords": "refund"}, "$[0].keywords",
         'expected an array, got string "refund"'),
        ({"type": "ctmrinfo", "info": "gold"}, "$[0].info",
         'expected an object, got string "gold"'),
    ],
)  # fmt: skip
def test_what_the_tolerances_do_not_cover(sde: Any, path: str, message: str) -> None:
    records, errors = decode_sdes([sde])
    assert (records, errors) == ([], [FieldError(path, message)])


def test_values_no_json_number_fits_are_errors_not_crashes() -> None:
    # msgspec decodes integers of up to ~4300 digits; beyond the float range they are not numbers.
    huge = 10**400
    _, errors = decode_sdes([{"type": "cart", "total": huge, "numItems": 1}])
    assert [e.path for e in errors] == ["$[0].total"]
    assert errors[0].message.startswith("expected a number, got number 1000")
    record = decode_one({"type": "ctmrinfo", "info": {"customerId": huge}})
    assert isinstance(record, t.CustomerInfo) and record.info.customerId == str(huge)


@pytest.mark.parametrize(
    ("sde", "path"),
    [
        ({"type": []}, "$[0].type"),
        ({"type": {"name": "cart"}}, "$[0].type"),
        (_personal(gender=["MALE"]), "$[0].personal.gender"),
        (_personal(contacts=[{"phoneType": {}}]), "$[0].personal.contacts[0].phoneType"),
        ({"type": "ctmrinfo", "info": {}, "auth": {"amr": [["pwd"]]}}, "$[0].auth.amr[0]"),
    ],
)  # fmt: skip
def test_arrays_and_objects_where_a_name_is_expected_are_errors(sde: Any, path: str) -> None:
    _, errors = decode_sdes([sde])
    assert [e.path for e in errors] == [path]
    assert errors[0].message.startswith("expected one of ")


# --- every problem, with its path ---------------------------------------------------------


def test_every_problem_in_every_sde_is_reported_with_its_path() -> None:
    raw = [
        {"type": "ctmrinfo", "info": {"balance": "lots", "companySize": "many", "currency": "USD",
                                      "lastPaymentDate": {"day": 40, "month": 2}}},
        {"type": "searchInfo", "keywords": ["fine"]},
        {"type": "cart", "numItems": "six", "products": [{"quantity": 1},
                                                         {"product": {"price": "free"}}]},
        {"type": "personal", "personal": {"gender": "ROBOT", "contacts": [{"phoneType": "CELL"}],
                                          "age": {"age": 30.5}}},
        {"type": "searchInfo", "keywords": "refund"},
        {"type": "nope"},
        "ctmrinfo",
    ]  # fmt: skip
    records, errors = decode_sdes(raw)
    assert records == []  # all or nothing
    assert [(e.path, e.message) for e in errors if "one of" not in e.message] == [
        ("$[0].info.balance", 'expected a number, got string "lots"'),
        ("$[0].info.companySize", 'expected an integer, got string "many"'),
        ("$[0].info.lastPaymentDate.day", "expected a value <= 31, got 40"),
        ("$[0].info.lastPaymentDate.year", "is required"),
        ("$[2].total", "is required"),
        ("$[2].numItems", 'expected an integer, got string "six"'),
        ("$[2].products[0].product", "is required"),
        ("$[2].products[1].product.price", 'expected a number, got string "free"'),
        ("$[3].personal.age.age", "expected an integer, got number 30.5"),
        ("$[4].keywords", 'expected an array, got string "refund"'),
        ("$[6]", 'expected an object, got string "ctmrinfo"'),
    ]
    assert [e.path for e in errors if "one of" in e.message] == [
        "$[3].personal.contacts[0].phoneType", "$[3].personal.gender", "$[5].type",
    ]  # fmt: skip
    assert errors[-2].message.startswith("expected one of ctmrinfo, personal, mrktInfo, cart,")
    assert errors[-2].message.endswith(', impClose, got string "nope"')


def test_decode_takes_an_array_and_a_path_prefix() -> None:
    sde = {"type": "searchInfo", "keywords": ["x"]}
    assert decode_sdes([]) == ([], [])
    assert decode_sdes(sde) == ([], [FieldError("$", "expected an array of SDEs, got an object")])
    assert decode_sdes(sde, single=True) == ([t.SearchContent(keywords=["x"])], [])
    assert decode_sdes(None, path=("body", "engagementAttributes")) == (
        [],
        [FieldError("$.body.engagementAttributes", "expected an array of SDEs, got null")],
    )
    _, errors = decode_sdes([sde, {"type": "cart", "total": 1}], path=("lp_sdes",))
    assert errors == [FieldError("$.lp_sdes[1].numItems", "is required")]


# --- carriers: impressions and the authenticated flow -------------------------------------

IMPRESSION_EXAMPLES = [f"monitoring_{cls.__struct_config__.tag}.json" for cls in IMPRESSION_TYPES]


@pytest.mark.parametrize("name", IMPRESSION_EXAMPLES)
def test_impressions_only_on_the_monitoring_report(name: str) -> None:
    sde = documented_sdes(name)[0]
    records, errors = decode_sdes([{"type": "searchInfo", "keywords": ["x"]}, sde])
    assert records == []
    assert errors == [FieldError(
        "$[1].type", f"impression event {sde['type']!r} is only accepted by the Monitoring API "
                     "report method")]  # fmt: skip
    assert decode_sdes([sde], impressions=True) == (DOCUMENTED[name], [])
    _, errors = decode_sdes([sde], impressions=True, authenticated=True)
    assert [e.path for e in errors] == ["$[0].type"]


NOT_AUTHENTICATED = [
    (name, i) for name in sorted(DOCUMENTED) for i, sde in enumerate(documented_sdes(name))
    if sde["type"] not in t.AUTHENTICATED_TYPES
]  # fmt: skip


@pytest.mark.parametrize(("name", "index"), NOT_AUTHENTICATED)
def test_the_authenticated_flow_takes_only_customer_and_personal_info(
    name: str, index: int
) -> None:
    sde = documented_sdes(name)[index]
    records, errors = decode_sdes([sde], authenticated=True, path=("lp_sdes",))
    assert records == []
    message = (
        f"SDE type {sde['type']!r} is not supported in the authenticated flow; "
        "only ctmrinfo and personal are"
    )
    assert errors == [FieldError("$.lp_sdes[0].type", message)]


def test_the_authenticated_flow_refuses_the_store_fields() -> None:
    documented = documented_sdes("types_ctmrinfo.jsonc")[0]  # carries both store fields
    assert decode_sdes([documented])[1] == []
    records, errors = decode_sdes([documented], authenticated=True, path=("lp_sdes",))
    assert records == []
    assert errors == [
        FieldError("$.lp_sdes[0].info.storeNumber",
                   "storeNumber is not supported in the authenticated flow"),
        FieldError("$.lp_sdes[0].info.storeZipCode",
                   "storeZipCode is not supported in the authenticated flow"),
    ]  # fmt: skip
    one = {"type": "ctmrinfo", "info": {"customerId": "C-1", "storeZipCode": "12205"}}
    _, errors = decode_sdes([{"type": "personal", "personal": {}}, one], authenticated=True)
    assert [e.path for e in errors] == ["$[1].info.storeZipCode"]
    # Explicit nulls are absent fields, so they are fine.
    nulls = {"type": "ctmrinfo", "info": {"customerId": "C-1", "storeZipCode": None}}
    assert decode_sdes([nulls], authenticated=True)[1] == []


@pytest.mark.parametrize(
    "name", ["types_personal.jsonc", "spec_ctmrinfo.json", "spec_personal.json",
             "monitoring_engagement_body.json"],
)  # fmt: skip
def test_the_authenticated_flow_takes_the_documented_visitor_info(name: str) -> None:
    assert decode_sdes(documented_sdes(name), authenticated=True) == (DOCUMENTED[name], [])


def test_authenticated_problems_only_concern_the_store_fields() -> None:
    # The type itself is refused while decoding (see above); a decoded record of another type
    # has nothing more to report here.
    assert authenticated_problems(t.CartUpdate(total=1.0, numItems=1), ("lp_sdes", 2)) == []
    assert authenticated_problems(t.PersonalInfo(personal=t.PersonalData()), ()) == []


# --- limits -------------------------------------------------------------------------------

LONG_FIELDS = [
    ({"type": "ctmrinfo", "info": {"customerId": "{}"}}, "$[0].info.customerId"),
    (_personal(firstname="{}"), "$[0].personal.firstname"),
    (_personal(contacts=[{"address": {"region": "{}"}}]),
     "$[0].personal.contacts[0].address.region"),
    ({"type": "searchInfo", "keywords": ["ok", "{}"]}, "$[0].keywords[1]"),
    ({"type": "prodView", "products": [{"product": {"name": "{}"}}]},
     "$[0].products[0].product.name"),
    ({"type": "error", "error": {"message": "{}"}}, "$[0].error.message"),
    ({"type": "mrktInfo", "info": {"campaignID": "{}"}}, "$[0].info.campaignID"),
]  # fmt: skip


def _with_text(template: dict[str, Any], text: str) -> Any:
    return json.loads(json.dumps(template).replace('"{}"', json.dumps(text)))


@pytest.mark.parametrize(("template", "path"), LONG_FIELDS)
def test_every_value_may_be_50k_characters_and_no_more(template: dict[str, Any], path: str) -> None:
    assert decode_sdes([_with_text(template, "é" * 50_000)])[1] == []
    records, errors = decode_sdes([_with_text(template, "x" * 50_001)])
    assert (records, errors) == ([], [
        FieldError(path, "expected at most 50000 characters, got 50001")])  # fmt: skip


# --- JSON Schema --------------------------------------------------------------------------


def _schema_errors(schema: dict[str, Any], value: Any) -> list[tuple[list[Any], str]]:
    validator = Draft202012Validator(schema)
    return sorted((list(e.absolute_path), e.message) for e in validator.iter_errors(value))


@pytest.mark.parametrize("wire", list(BY_WIRE_TYPE))
def test_each_type_has_a_valid_self_contained_schema(wire: str) -> None:
    schema = sde_schema(wire)
    Draft202012Validator.check_schema(schema)
    cls = BY_WIRE_TYPE[wire]
    assert schema["$schema"] == DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"sdehub:sde:{wire}"
    assert (schema["title"], schema["x-category"]) == (naming(wire).title, naming(wire).category)
    assert schema["$ref"] == f"#/$defs/{cls.__name__}"
    definition = schema["$defs"][cls.__name__]
    assert definition["properties"]["type"] == {"enum": [wire]}
    required = [f.encode_name for f in mi.type_info(cls).fields if f.required]
    assert definition["required"] == ["type", *required]
    assert json.loads(json.dumps(schema)) == schema  # plain JSON, ready to serve


@pytest.mark.parametrize(
    ("name", "index"),
    [(name, i) for name in sorted(DOCUMENTED) for i in range(len(DOCUMENTED[name]))],
)
def test_documented_examples_match_the_generated_schema(name: str, index: int) -> None:
    sde = documented_sdes(name)[index]
    errors = _schema_errors(sde_schema(sde["type"]), sde)
    if name == "types_mrktInfo.jsonc":
        # The schema describes the canonical form; the example's "1" is a tolerance.
        assert errors == [(["info", "channel"], "'1' is not valid under any of the given schemas")]
    else:
        assert errors == []
    # Whatever was sent, what sdehub stores (the canonical encoding) matches the schema.
    canonical = msgspec.to_builtins(DOCUMENTED[name][index])
    assert _schema_errors(sde_schema(sde["type"]), canonical) == []


def test_the_schema_enforces_enums_required_fields_and_the_length_limit() -> None:
    schema = sde_schema("personal")
    assert _schema_errors(schema, _personal(gender="ROBOT"))[0][0] == ["personal", "gender"]
    assert _schema_errors(schema, _personal(firstname="x" * 50_001))[0][0] == [
        "personal", "firstname"]  # fmt: skip
    assert _schema_errors(schema, {"type": "personal"}) == [
        ([], "'personal' is a required property")]  # fmt: skip
    assert _schema_errors(sde_schema("service"), {"type": "service", "service": {"status": 14}})
    assert _schema_errors(sde_schema("cart"), {"type": "prodView"})  # wrong tag


def test_all_schemas_accept_any_documented_sde_and_list_each_type() -> None:
    schemas = all_schemas()
    Draft202012Validator.check_schema(schemas)
    assert schemas["$schema"] == DIALECT and schemas["type"] == "array"
    assert list(schemas["types"]) == list(BY_WIRE_TYPE)
    assert all(schemas["types"][wire] == sde_schema(wire) for wire in BY_WIRE_TYPE)
    assert len(schemas["items"]["oneOf"]) == len(SDE_TYPES) + len(IMPRESSION_TYPES) == 15
    every = [msgspec.to_builtins(r) for records in DOCUMENTED.values() for r in records]
    assert _schema_errors(schemas, every) == []
    assert _schema_errors(schemas, [*every, {"type": "nope"}])


@pytest.mark.anyio
async def test_schema_endpoints_serve_the_generated_schemas(h: Harness) -> None:
    r = await h.client.get("/api/sde/schema")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == json.loads(json.dumps(all_schemas()))
    for wire in BY_WIRE_TYPE:
        r = await h.client.get(f"/api/sde/schema/{wire}")
        assert r.status_code == 200, wire
        assert r.json() == sde_schema(wire)


@pytest.mark.anyio
@pytest.mark.parametrize("wire", ["nope", "visitorError", "CTMRINFO", "searchContent"])
async def test_unknown_schema_types_are_404(h: Harness, wire: str) -> None:
    r = await h.client.get(f"/api/sde/schema/{wire}")
    assert r.status_code == 404
    error = r.json()["error"]
    assert (error["status"], error["title"]) == (404, "Not Found")
    assert repr(wire) in error["message"] and "ctmrinfo" in error["message"]
