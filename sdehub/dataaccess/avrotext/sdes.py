"""The ``data`` part of an SDE's ``EngagementAttribute``, as Avro JSON text from its payload.

The same choices as the record builders had: a value of the wrong type is absent (``null``),
digits stand for a number where Data Access wants one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import msgspec

from sdehub.dataaccess.avrotext.leaves import NULL, boolean, double, i, long, s
from sdehub.dataaccess.records import NS, Datum
from sdehub.model.naming import BY_WIRE

_PRODUCT = '{"' + NS + '.Product":{"name":'


def _products(items: Any) -> str:
    if not isinstance(items, list):
        return NULL
    out = []
    for item in items:
        product = item.get("product") or {}
        out.append(
            f'{{"quantity":{i(item.get("quantity"))},"product":{_PRODUCT}{s(product.get("name"))}'
            f',"category":{s(product.get("category"))},"sku":{s(product.get("sku"))}'
            f',"price":{double(product.get("price"))}}}}}}}'
        )
    return '{"array":[' + ",".join(out) + "]}"


def _date(value: Any) -> str:
    if not isinstance(value, dict):
        return NULL
    return (
        f'{{"{NS}.YMDDate":{{"year":{i(value.get("year"))},"month":{i(value.get("month"))}'
        f',"day":{i(value.get("day"))}}}}}'
    )


def _auth(auth: bool) -> str:
    return '"isAuthenticated":{"boolean":' + ("true" if auth else "false") + "}"


def _customer(p: Datum, auth: bool) -> str:
    x = p.get("info") or {}
    return (
        f'{_auth(auth)},"authenticatedConversationId":null'
        f',"customerStatus":{s(x.get("cstatus"))},"customerType":{s(x.get("ctype"))}'
        f',"balance":{double(x.get("balance"))},"customerId":{s(x.get("customerId"))}'
        f',"socialId":{s(x.get("socialId"))},"imei":{s(x.get("imei"))}'
        f',"userName":{s(x.get("userName"))},"companySize":{i(x.get("companySize"))}'
        f',"accountName":{s(x.get("accountName"))},"role":{s(x.get("role"))}'
        f',"lastPaymentDate":{_date(x.get("lastPaymentDate"))}'
        f',"registrationDate":{_date(x.get("registrationDate"))}'
        f',"storeNumber":{s(x.get("storeNumber"))},"storeZipCode":{s(x.get("storeZipCode"))}'
    )


def _personal(p: Datum, auth: bool) -> str:
    x = p.get("personal") or {}
    age = x.get("age")
    contacts = x.get("contacts")
    if isinstance(age, dict):
        age_text = (
            f'{{"{NS}.CustomerAge":{{"customerAgeInYears":{i(age.get("age"))}'
            f',"customerYearOfBirth":{i(age.get("year"))}'
            f',"customerMonthOfBirth":{i(age.get("month"))}'
            f',"customerDateOfBirth":{i(age.get("day"))}}}}}'
        )
    else:
        age_text = NULL
    if isinstance(contacts, list):
        listed = ",".join(
            f'{{"email":{s(c.get("email"))},"phone":{s(c.get("phone"))}}}' for c in contacts
        )
        contacts_text = '{"array":[' + listed + "]}"
    else:
        contacts_text = NULL
    return (
        f'{_auth(auth)},"authenticatedConversationId":null'
        f',"name":{s(x.get("firstname"))},"surname":{s(x.get("lastname"))}'
        f',"gender":{s(x.get("gender"))},"company":{s(x.get("company"))}'
        f',"customerAge":{age_text},"contacts":{contacts_text}'
    )


def _marketing(p: Datum, auth: bool) -> str:
    x = p.get("info") or {}
    return (
        f'"originatingChannel":{i(x.get("channel"))},"affiliate":{s(x.get("affiliate"))}'
        f',"campaignId":{s(x.get("campaignId", x.get("campaignID")))}'
    )


def _lead(p: Datum, auth: bool) -> str:
    x = p.get("lead") or {}
    return (
        f'"topic":{s(x.get("topic"))},"leadId":{s(x.get("leadId"))}'
        f',"value":{double(x.get("value"))}'
    )


def _purchase(p: Datum, auth: bool) -> str:
    cart = p.get("cart")
    if isinstance(cart, dict):
        cart_text = (
            f'{{"{NS}.Cart":{{"total":null,"numItems":{i(cart.get("numItems"))}'
            f',"products":{_products(cart.get("products"))}}}}}'
        )
    else:
        cart_text = NULL
    return f'"total":{double(p.get("total"))},"orderId":{s(p.get("orderId"))},"cart":{cart_text}'


def _cart(p: Datum, auth: bool) -> str:
    return (
        f'"total":{double(p.get("total"))},"numItems":{i(p.get("numItems"))}'
        f',"products":{_products(p.get("products"))}'
    )


def _viewed(p: Datum, auth: bool) -> str:
    return '"products":' + _products(p.get("products"))


def _service(p: Datum, auth: bool) -> str:
    x = p.get("service") or {}
    return (
        f'"topic":{s(x.get("topic"))},"status":{i(x.get("status"))}'
        f',"category":{s(x.get("category"))},"serviceId":{s(x.get("serviceId"))}'
    )


def _error(p: Datum, auth: bool) -> str:
    x = p.get("error") or {}
    # Data Access types the code as a long; a code that is not a number has nowhere to go.
    resolved = x.get("resolved")
    return (
        f'"contextId":{s(x.get("contextId"))},"message":{s(x.get("message"))}'
        f',"code":{long(x.get("code"))},"level":{long(x.get("level"))}'
        f',"resolved":{boolean(resolved) if isinstance(resolved, bool) else NULL}'
    )


SDE_RECORDS: Final[dict[str, Callable[[Datum, bool], str]]] = {
    "ctmrinfo": _customer,
    "personal": _personal,
    "mrktInfo": _marketing,
    "lead": _lead,
    "purchase": _purchase,
    "cart": _cart,
    "prodView": _viewed,
    "service": _service,
    "error": _error,
}

# Wire type -> (the text before the record's fields, builder), for the types Data Access carries.
_BUILDERS: Final = {
    wire: (',"data":{"' + NS + "." + BY_WIRE[wire].dataaccess + '":{', build)  # type: ignore[operator]
    for wire, build in SDE_RECORDS.items()
    if wire in BY_WIRE and BY_WIRE[wire].dataaccess
}
_decode = msgspec.json.Decoder().decode


def data(wire: str, auth: bool, payload: Any) -> str:
    """``,"data":{...}}`` of one SDE: the end of its ``EngagementAttribute``; empty for the types
    Data Access does not carry."""
    found = _BUILDERS.get(wire)
    if found is None:
        return ""
    prefix, build = found
    return prefix + build(_decode(payload) if isinstance(payload, str) else payload, auth) + "}}}"


# The ``data`` text of recent payloads: SDEs repeat (the same cart, product views and marketing
# source, reported again and again), and building one costs more than the rest of recording it
# in the writer. Bounded: emptied when full.
_RECENT: dict[tuple[str, bool, str], str] = {}
_RECENT_MAX: Final = 4096


def attribute(server_ms: int, wire: str, auth: bool, payload: str) -> str | None:
    """One SDE's ``EngagementAttribute`` item of a WebSession line, from its stored payload text;
    None for the types Data Access does not carry. The store keeps it when the SDE is appended
    (``sdehub.store.events``), so an hour's export reads it rather than builds it."""
    key = (wire, auth, payload)
    found = _RECENT.get(key)
    if found is None:
        if len(_RECENT) >= _RECENT_MAX:
            _RECENT.clear()
        found = _RECENT[key] = data(wire, auth, payload)
    return f'{{"timestamp":{{"long":{server_ms}}}{found}' if found else None
