"""Properties of the SDE model over generated input: decoding never crashes and points every error
into the payload, valid records round-trip, the views accept every valid record, and folding is
applying one report at a time."""

from __future__ import annotations

import copy
import re
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from sdehub.model import types as t
from sdehub.model.history import history_event, stringify
from sdehub.model.merge import Scope, apply, fold, rule
from sdehub.model.naming import BY_WIRE
from sdehub.model.provenance import SOURCES, Entry, Provenance
from sdehub.model.publicmodel import authenticated_data, sde_section, visitor_name
from sdehub.model.schema import sde_schema
from sdehub.model.sdes import decode_sdes
from sdehub.model.types import BY_WIRE_TYPE, IMPRESSION_TYPES, wire_type
from sdehub.model.validation import FieldError
from tests.test_model_validation import DOCUMENTED, documented_sdes

MODEST = settings(deadline=None, max_examples=200)
Strategy = st.SearchStrategy[Any]
IMPRESSIONS = {str(cls.__struct_config__.tag) for cls in IMPRESSION_TYPES}

# --- any JSON value -----------------------------------------------------------------------

json_scalars: Strategy = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)  # msgspec decodes ~4300 digits
    | st.floats(allow_nan=False, allow_infinity=False)  # JSON has no NaN or Infinity
    | st.text(max_size=12)
)
json_values: Strategy = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

# --- valid SDEs, in canonical and tolerated spellings --------------------------------------


def opt(**fields: Strategy) -> Strategy:
    """An object whose fields are each absent, null (= absent) or drawn."""
    return st.fixed_dictionaries({}, optional={k: st.none() | v for k, v in fields.items()})


text: Strategy = st.text(max_size=16) | st.integers(-(10**20), 10**20)  # numbers for strings
short_text: Strategy = st.text(max_size=16)


def number(low: float = -1e12, high: float = 1e12) -> Strategy:
    finite = st.floats(min_value=low, max_value=high, allow_nan=False)
    return finite | st.integers(int(low), int(high)) | finite.map(repr)  # numeric strings too


def integer(low: int = -(2**31), high: int = 2**31 - 1) -> Strategy:
    ints = st.integers(low, high)
    return ints | ints.map(str) | ints.map(float)  # "6" and 6.0 are 6


def enum(values: list[str], codes: bool = False) -> Strategy:
    names = st.sampled_from(values)
    spelled = names | names.map(str.lower) | names.map(str.upper)
    if codes:
        spelled |= st.integers(0, len(values) - 1) | st.integers(0, len(values) - 1).map(str)
    return spelled


boolean: Strategy = st.booleans() | st.sampled_from(["true", "false", "TRUE"])
date: Strategy = st.fixed_dictionaries(
    {"day": integer(1, 31), "month": integer(1, 12), "year": integer(0, 9999)}
)
auth: Strategy = opt(amr=st.lists(enum(list(t.AuthMethod.__args__)), max_size=3), iss=short_text)
product: Strategy = opt(
    name=text, category=text, sku=text, price=number(), statusInStock=text,
    quantityInStock=integer(),
)  # fmt: skip
product_items: Strategy = st.lists(
    st.fixed_dictionaries({"product": product}, optional={"quantity": integer(0, 1000)}),
    max_size=3,
)


def sde(wire: str, required: dict[str, Strategy] | None = None, **optional: Strategy) -> Strategy:
    return st.fixed_dictionaries(
        {"type": st.just(wire), **(required or {})},
        optional={k: st.none() | v for k, v in optional.items()},
    )


impression_base = {"campaign": integer(0, 2**40), "engId": integer(0, 2**40)}
e_context = st.lists(
    st.fixed_dictionaries({"id": text}, optional={"type": st.just("engagementContext")}),
    max_size=2,
)
valid_sdes: dict[str, Strategy] = {
    "ctmrinfo": sde("ctmrinfo", {"info": opt(
        cstatus=text, ctype=text, balance=number(), currency=text, customerId=text,
        socialId=text, imei=text, userName=text, companySize=integer(0, 10**6),
        companyBranch=text, accountName=text, role=text, lastPaymentDate=date,
        registrationDate=date, loginStatus=integer(), storeZipCode=text, storeNumber=text,
    )}, auth=auth),
    "personal": sde("personal", {"personal": opt(
        firstname=text, lastname=text, gender=enum(["MALE", "FEMALE", "OTHER"], codes=True),
        language=text, company=text,
        age=opt(age=integer(0, 200), year=integer(0, 9999), month=integer(1, 12),
                day=integer(1, 31)),
        contacts=st.lists(opt(
            email=text, phone=text, phoneType=enum(list(t.PhoneType.__args__)),
            address=opt(country=text, region=text)), max_size=2),
    )}, auth=auth),
    "mrktInfo": sde("mrktInfo", {"info": opt(
        channel=integer(0, 6), affiliate=text, campaignId=text,
    ) | opt(channel=integer(0, 6), campaignID=text)}),
    "cart": sde("cart", {"total": number(), "numItems": integer(0, 10**4)},
                currency=text, products=product_items),
    "purchase": sde("purchase", total=number(), currency=text, orderId=text,
                    cart=st.fixed_dictionaries({"products": product_items},
                                               optional={"numItems": integer(0, 100)})),
    "prodView": sde("prodView", currency=text,
                    products=st.lists(st.fixed_dictionaries({"product": product}), max_size=3)),
    "lead": sde("lead", {"lead": opt(topic=text, value=number(), currency=text, leadId=text)}),
    "service": sde("service", {"service": opt(
        topic=text, status=integer(0, 13), category=text, serviceId=text)}),
    "error": sde("error", {"error": opt(
        contextId=text, message=text, code=text, level=integer(), resolved=boolean)}),
    "searchInfo": sde("searchInfo", {"keywords": st.lists(text, max_size=3)}),
    "impDisplay": sde("impDisplay", impression_base, revision=integer(), eContext=e_context),
    "impAccept": sde("impAccept", impression_base, revision=integer(), eContext=e_context),
    "impExpanded": sde("impExpanded", impression_base, revision=integer(), expanded=boolean,
                       userInit=boolean, actionableItems=json_values),
    "impTimeout": sde("impTimeout", impression_base, revision=integer()),
    "impClose": sde("impClose", impression_base, revision=integer()),
}  # fmt: skip
assert set(valid_sdes) == set(BY_WIRE_TYPE)

documented: Strategy = st.sampled_from(
    [sde for name in sorted(DOCUMENTED) for sde in documented_sdes(name)]
).map(copy.deepcopy)
any_valid_sde: Strategy = documented | st.one_of(*valid_sdes.values())
visitor_sde: Strategy = valid_sdes["ctmrinfo"] | valid_sdes["personal"]

# --- near-valid SDEs: a valid one with a few things wrong ---------------------------------

FIELD_NAMES = sorted(
    {f for cls in BY_WIRE_TYPE.values() for f in cls.__struct_fields__}
    | {"info", "personal", "lead", "service", "error", "day", "month", "year", "product",
       "products", "email", "phoneType", "amr", "channel", "campaignID", "status", "age"}
)  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


# Values validators trip over: containers where a name is expected, integers beyond the float
# range, booleans posing as numbers, numbers posing as strings and the other way round.
AWKWARD = [[], {}, ["MALE"], {"type": "cart"}, 10**400, -(10**400), 2**64 + 1, 1e308, -0.0, True,
           False, None, 0, "", " 1 ", "1_0", "NaN", "1e999", "true", "x" * 40]  # fmt: skip
long_text: Strategy = st.integers(50_000, 50_001).map(lambda n: "x" * n)  # the 50K limit
awkward: Strategy = st.sampled_from(AWKWARD).map(copy.deepcopy) | long_text


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for seg in path:
        value = value[seg]
    return value


def _mutate(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one thing changed: a value made awkward, replaced, removed or added."""
    paths = _paths(value)
    leaves = [
        p for p in paths if p not in ((), ("type",)) and not isinstance(_at(value, p), dict | list)
    ]
    how = draw(st.sampled_from(["awkward", "replace", "delete", "add", "retag", "stringify"]))
    if how == "retag" and isinstance(value, dict):
        value["type"] = draw(st.sampled_from(sorted(BY_WIRE_TYPE)) | awkward | json_values)
        return value
    path = draw(st.sampled_from(leaves if how == "awkward" and leaves else paths))
    if not path:
        return draw(awkward | json_values)
    parent, last = _at(value, path[:-1]), path[-1]
    if how in ("awkward", "retag"):
        parent[last] = draw(awkward)
    elif how == "replace":
        parent[last] = draw(json_values)
    elif how == "delete":
        parent.pop(last)
    elif how == "stringify":
        parent[last] = str(parent[last])
    elif isinstance(parent[last], dict):
        parent[last][draw(st.sampled_from(FIELD_NAMES))] = draw(awkward | json_values)
    else:
        parent[last] = [parent[last], draw(awkward | json_values)]
    return value


@st.composite
def near_valid_sde(draw: st.DrawFn) -> Any:
    """A valid SDE with one to three things wrong with it."""
    value = copy.deepcopy(draw(documented | any_valid_sde))  # the documented ones are rich
    for _ in range(draw(st.integers(1, 3))):
        value = _mutate(draw, value)
    return value


shaped_junk: Strategy = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(BY_WIRE_TYPE))},
    optional={name: json_values for name in FIELD_NAMES},
)
sde_like: Strategy = near_valid_sde() | shaped_junk | any_valid_sde | json_values

# --- decoding -----------------------------------------------------------------------------

PATH = re.compile(r"^\$((\.[A-Za-z_][A-Za-z0-9_]*)|(\[\d+\]))*$")
SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _points_into(raw: Any, error: FieldError, prefix: int) -> bool:
    """The error's path exists in ``raw``, except a missing last key for "is required"."""
    segments = [m.group(1) or int(m.group(2)) for m in SEGMENT.finditer(error.path)][prefix:]
    node = raw
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if isinstance(seg, int) and isinstance(node, list) and seg < len(node):
            node = node[seg]
        elif isinstance(seg, str) and isinstance(node, dict) and node.get(seg) is not None:
            node = node[seg]
        elif last and isinstance(node, dict) and error.message.startswith("is required"):
            return True
        else:
            return False
    return True


def _check_decoding(
    raw: Any, impressions: bool, authenticated: bool, single: bool, prefixed: bool
) -> None:
    """Records or errors, never both, never an exception; every error points into the payload."""
    before = copy.deepcopy(raw)
    prefix = ("body", "lp_sdes") if prefixed else ()
    records, errors = decode_sdes(raw, path=prefix, impressions=impressions,
                                  authenticated=authenticated, single=single)  # fmt: skip
    assert raw == before  # the payload is not modified
    assert not (records and errors)
    items = [raw] if single and isinstance(raw, dict) else raw
    if not errors:
        assert isinstance(items, list) and len(records) == len(items)
        for record in records:
            assert isinstance(
                record, (t.CustomerInfo, t.PersonalInfo) if authenticated else t.Event
            )
            assert impressions or wire_type(record) not in IMPRESSIONS
    for error in errors:
        assert isinstance(error, FieldError) and error.message
        assert PATH.match(error.path), error.path
        assert error.path.startswith("$.body.lp_sdes" if prefixed else "$")
        assert _points_into(items, error, len(prefix)), error


FLAGS = {"impressions": st.booleans(), "authenticated": st.booleans(), "single": st.booleans(),
         "prefixed": st.booleans()}  # fmt: skip


@MODEST
@given(raw=json_values | st.lists(json_values, max_size=4), **FLAGS)
def test_decoding_any_json_gives_records_or_errors_never_an_exception(
    raw: Any, impressions: bool, authenticated: bool, single: bool, prefixed: bool
) -> None:
    _check_decoding(raw, impressions, authenticated, single, prefixed)


@MODEST
@given(raw=st.lists(sde_like, min_size=1, max_size=5) | near_valid_sde(), **FLAGS)
def test_decoding_near_valid_sdes_gives_records_or_errors_never_an_exception(
    raw: Any, impressions: bool, authenticated: bool, single: bool, prefixed: bool
) -> None:
    _check_decoding(raw, impressions, authenticated, single, prefixed)


def test_every_awkward_value_in_every_place_of_every_documented_example() -> None:
    # The exhaustive companion of the near-valid property: each leaf of each documented SDE
    # replaced by each awkward value, with and without the authenticated-flow rules.
    for name in sorted(DOCUMENTED):
        for sde in documented_sdes(name):
            for path in _paths(sde):
                if not path or isinstance(_at(sde, path), dict | list):
                    continue
                for value in AWKWARD:
                    changed = copy.deepcopy(sde)
                    _at(changed, path[:-1])[path[-1]] = copy.deepcopy(value)
                    for authenticated in (False, True):
                        _check_decoding([changed], True, authenticated, False, False)


@MODEST
@given(sdes=st.lists(any_valid_sde, max_size=4))
def test_valid_sdes_decode_and_their_records_round_trip(sdes: list[Any]) -> None:
    records, errors = decode_sdes(sdes, impressions=True)
    assert errors == [] and len(records) == len(sdes)
    again, errors = decode_sdes(msgspec.json.decode(msgspec.json.encode(records)), impressions=True)
    assert (again, errors) == (records, [])
    for record in records:  # and one by one, as stored
        raw = msgspec.json.decode(msgspec.json.encode(record))
        assert decode_sdes([raw], impressions=True) == ([record], [])
        assert decode_sdes(raw, impressions=True, single=True) == ([record], [])


_validators: dict[str, Draft202012Validator] = {}


@MODEST
@given(sde=any_valid_sde)
def test_the_canonical_form_of_every_valid_sde_matches_its_schema(sde: Any) -> None:
    (record,), _ = decode_sdes([sde], impressions=True)
    wire = wire_type(record)
    validator = _validators.setdefault(wire, Draft202012Validator(sde_schema(wire)))
    canonical = msgspec.json.decode(msgspec.json.encode(record))
    assert [e.message for e in validator.iter_errors(canonical)] == []


@MODEST
@given(sde=visitor_sde)
def test_the_authenticated_flow_takes_visitor_info_without_store_fields(sde: Any) -> None:
    records, errors = decode_sdes([sde], authenticated=True)
    info = sde.get("info") or {}
    store = sorted(k for k in ("storeNumber", "storeZipCode") if info.get(k) is not None)
    assert [e.path for e in errors] == [f"$[0].info.{k}" for k in store]
    assert len(records) == (0 if store else 1)


# --- views --------------------------------------------------------------------------------


@st.composite
def entries(draw: st.DrawFn, sde: Strategy = any_valid_sde, max_size: int = 8) -> list[Entry]:
    """Decoded reports with distinct seqs, in arrival order (which need not be seq order)."""
    raws = draw(st.lists(sde, max_size=max_size))
    seqs = draw(st.lists(st.integers(0, 10**6), min_size=len(raws), max_size=len(raws),
                         unique=True))  # fmt: skip
    out = []
    for raw, seq in zip(raws, seqs, strict=True):
        (record,), _ = decode_sdes([raw], impressions=True)
        original = draw(st.integers(0, 4_102_444_800_000))  # up to 2100
        meta = Provenance(
            seq=seq, source=draw(st.sampled_from(SOURCES)), authenticated=draw(st.booleans()),
            originalTs=original, serverTs=draw(st.integers(original, 4_102_444_800_000)),
            actor=draw(st.none() | st.text(max_size=8)),
        )  # fmt: skip
        out.append(Entry(record, meta))
    return out


@MODEST
@given(reported=entries(), scope=st.sampled_from(["chat", "messaging"]))
def test_views_accept_every_valid_record(reported: list[Entry], scope: Scope) -> None:
    state = fold(reported, scope)
    model = msgspec.json.decode(msgspec.json.encode(sde_section(state)))
    msgspec.json.encode(authenticated_data(state))
    name = visitor_name(state)
    assert name is None or (isinstance(name, str) and name)
    # One element per report, except viewed products: one per product; search content: one object.
    expected = sum(
        len(e.record.products or []) if isinstance(e.record, t.ViewedProduct) else 1
        for wire, kept in state.items() if wire not in IMPRESSIONS | {"searchInfo"}
        for e in kept
    )  # fmt: skip
    assert sum(len(v) for k, v in model.items() if k != "searchContent") == expected
    keywords = [k for e in state.get("searchInfo", []) for k in e.record.keywords]
    assert [k["value"] for k in model["searchContent"]["keywords"]] == keywords
    for e in reported:
        n = BY_WIRE[wire_type(e.record)]
        if n.history_key is None:
            continue
        v1, v2 = history_event(e, version=1), history_event(e, version=2)
        assert v1.pop(n.history_key) == stringify(v2.pop(n.history_key))
        assert v1 == v2 == {"sdeType": n.sde_type, "serverTimeStamp": str(e.meta.serverTs),
                            "isAuthenticated": e.meta.authenticated}  # fmt: skip


# --- merge --------------------------------------------------------------------------------


def _one_by_one(reported: list[Entry], scope: Scope) -> dict[str, list[Entry]]:
    state: dict[str, list[Entry]] = {}
    for e in sorted(reported, key=lambda e: e.meta.seq):
        wire = wire_type(e.record)
        state[wire] = apply(state.get(wire, []), e, scope)
    return state


few_types: Strategy = st.one_of(
    *(valid_sdes[w] for w in ("ctmrinfo", "personal", "mrktInfo", "cart", "service", "lead"))
)


@MODEST
@given(reported=entries(few_types, max_size=10), scope=st.sampled_from(["chat", "messaging"]),
       data=st.data())  # fmt: skip
def test_fold_is_applying_the_reports_one_by_one(
    reported: list[Entry], scope: Scope, data: st.DataObject
) -> None:
    state = fold(reported, scope)
    assert state == _one_by_one(reported, scope)
    assert fold(data.draw(st.permutations(reported)), scope) == state  # arrival order is irrelevant
    # Folding what has arrived so far and then applying later reports gives the same state.
    in_order = sorted(reported, key=lambda e: e.meta.seq)
    cut = data.draw(st.integers(0, len(in_order)))
    incremental = fold(in_order[:cut], scope)
    for e in in_order[cut:]:
        wire = wire_type(e.record)
        incremental[wire] = apply(incremental.get(wire, []), e, scope)
    assert incremental == state


@MODEST
@given(reported=entries(few_types, max_size=10), scope=st.sampled_from(["chat", "messaging"]))
def test_fold_keeps_what_its_rule_says(reported: list[Entry], scope: Scope) -> None:
    state = fold(reported, scope)
    for wire, kept in state.items():
        sent = sorted((e for e in reported if wire_type(e.record) == wire),
                      key=lambda e: e.meta.seq)  # fmt: skip
        if rule(wire, scope) == "append":
            assert kept == sent
            continue
        # replace and merge: one entry per authentication kind, stamped with its latest report
        for kind in (False, True):
            mine = [e for e in sent if e.meta.authenticated == kind]
            theirs = [e for e in kept if e.meta.authenticated == kind]
            assert [e.meta for e in theirs] == [e.meta for e in mine[-1:]]
            if rule(wire, scope) == "replace" and mine:
                assert theirs[0].record == mine[-1].record
            if rule(wire, scope) == "merge" and mine:
                # every field holds the last value any report of this kind gave it
                wrapper = BY_WIRE[wire].wrapper
                assert wrapper is not None
                merged = getattr(theirs[0].record, wrapper)
                for field in merged.__struct_fields__:
                    given_values = [getattr(getattr(e.record, wrapper), field) for e in mine]
                    present = [v for v in given_values if v is not None]
                    assert getattr(merged, field) == (present[-1] if present else None), field
