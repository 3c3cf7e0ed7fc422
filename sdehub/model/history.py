"""SDEs in the event form of the Messaging Interactions API (``sdes.events[]``).

Each event is ``{<key>: {...}, "sdeType": ..., "serverTimeStamp": ..., "isAuthenticated": ...}``.
Customer Info, Personal Info, Marketing Source, Lead, Service Activity and Visitor Error nest their
fields twice (``customerInfo.customerInfo{...}``); cart, purchase, viewed product and search
content are flat. Renames: ``cstatus`` -> ``customerStatus``, ``ctype`` -> ``customerType``,
``firstname`` -> ``name``, ``lastname`` -> ``surname``, ``age`` -> ``customerAge{...}``,
``contacts[]`` -> ``contacts[].personalContact``, ``channel`` -> ``originatingChannel``.

Version 2 keeps declared types; version 1 prints every value as a string ("alphanumeric").
Timestamps are strings of epoch milliseconds throughout: the documentation's examples mostly use
strings, and clients compare them, so one type is used consistently.
"""

from __future__ import annotations

from typing import Any

from sdehub.model.naming import naming
from sdehub.model.provenance import Entry
from sdehub.model.publicmodel import java_double
from sdehub.model.types import (
    CartUpdate,
    CustomerInfo,
    Date,
    Event,
    Lead,
    MarketingSource,
    PersonalInfo,
    Product,
    ProductItem,
    SearchContent,
    ServiceActivity,
    Transaction,
    ViewedProduct,
    VisitorError,
    wire_type,
)

JSON = dict[str, Any]


def _clean(d: JSON) -> JSON:
    return {k: v for k, v in d.items() if v is not None}


def _date(d: Date | None) -> JSON | None:
    return None if d is None else {"year": d.year, "month": d.month, "day": d.day}


def _product(p: Product) -> JSON:
    return _clean(
        {
            "name": p.name,
            "category": p.category,
            "sku": p.sku,
            "price": p.price,
            "statusInStock": p.statusInStock,
            "quantityInStock": p.quantityInStock,
        }
    )


def _items(items: list[ProductItem] | None) -> list[JSON]:
    return [_clean({"quantity": i.quantity, "product": _product(i.product)}) for i in items or ()]


def fields(record: Event) -> JSON:
    """The stored (history) field names and typed values of one record."""
    if isinstance(record, CustomerInfo):
        i = record.info
        return _clean(
            {
                "customerStatus": i.cstatus,
                "customerType": i.ctype,
                "balance": i.balance,
                "currency": i.currency,
                "customerId": i.customerId,
                "socialId": i.socialId,
                "imei": i.imei,
                "userName": i.userName,
                "accountName": i.accountName,
                "role": i.role,
                "companySize": i.companySize,
                "companyBranch": i.companyBranch,
                "storeZipCode": i.storeZipCode,
                "storeNumber": i.storeNumber,
                "loginStatus": i.loginStatus,
                "lastPaymentDate": _date(i.lastPaymentDate),
                "registrationDate": _date(i.registrationDate),
            }
        )
    if isinstance(record, PersonalInfo):
        p = record.personal
        age = None
        if p.age is not None:
            age = _clean(
                {
                    "customerAgeInYears": float(p.age.age) if p.age.age is not None else None,
                    "customerYearOfBirth": p.age.year,
                    "customerMonthOfBirth": p.age.month,
                    "customerDateOfBirth": p.age.day,
                }
            )
        contacts = None
        if p.contacts is not None:
            contacts = [
                {
                    "personalContact": _clean(
                        {
                            "email": c.email,
                            "phone": c.phone,
                            "phoneType": c.phoneType,
                            "address": _clean(
                                {"country": c.address.country, "region": c.address.region}
                            )
                            if c.address
                            else None,
                        }
                    )
                }
                for c in p.contacts
            ]
        return _clean(
            {
                "name": p.firstname,
                "surname": p.lastname,
                "gender": p.gender,
                "company": p.company,
                "language": p.language,
                "customerAge": age,
                "contacts": contacts,
            }
        )
    if isinstance(record, MarketingSource):
        m = record.info
        return _clean(
            {"originatingChannel": m.channel, "affiliate": m.affiliate, "campaignId": m.campaignId}
        )
    if isinstance(record, Lead):
        lead = record.lead
        return _clean(
            {
                "topic": lead.topic,
                "value": lead.value,
                "currency": lead.currency,
                "leadId": lead.leadId,
            }
        )
    if isinstance(record, ServiceActivity):
        s = record.service
        return _clean(
            {"topic": s.topic, "status": s.status, "category": s.category, "serviceId": s.serviceId}
        )
    if isinstance(record, VisitorError):
        e = record.error
        return _clean(
            {
                "contextId": e.contextId,
                "message": e.message,
                "code": e.code,
                "level": e.level,
                "resolved": e.resolved,
            }
        )
    if isinstance(record, CartUpdate):
        return _clean(
            {
                "total": record.total,
                "currency": record.currency,
                "numItems": record.numItems,
                "products": _items(record.products),
            }
        )
    if isinstance(record, Transaction):
        cart = record.cart
        return _clean(
            {
                "total": record.total,
                "currency": record.currency,
                "orderId": record.orderId,
                "cart": _clean(
                    {
                        "numItems": cart.numItems if cart else None,
                        "products": _items(cart.products if cart else None),
                    }
                ),
            }
        )
    if isinstance(record, ViewedProduct):
        return _clean(
            {
                "currency": record.currency,
                "products": [
                    _clean({"quantity": i.quantity, "product": _product(i.product)})
                    for i in record.products or ()
                ],
            }
        )
    if isinstance(record, SearchContent):
        return {"keywords": list(record.keywords)}
    raise ValueError(f"{wire_type(record)} has no Messaging Interactions form")


def stringify(value: Any) -> Any:
    """Version 1 form: every scalar as a string."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, int):
        return str(value)
    return value


def history_event(entry: Entry, version: int = 2) -> JSON:
    """One ``sdes.events[]`` / ``unAuthSdes.events[]`` item."""
    record, meta = entry
    n = naming(wire_type(record))
    if n.history_key is None or n.sde_type is None:
        raise ValueError(f"{n.wire} has no Messaging Interactions form")
    body = fields(record)
    if version < 2:
        body = stringify(body)
    server, original = str(meta.serverTs), str(meta.originalTs)
    inner: JSON = {"serverTimeStamp": server, "originalTimeStamp": original}
    if n.double_wrapped:
        inner[n.history_key] = body
    else:
        inner.update(body)
    return {
        n.history_key: inner,
        "sdeType": n.sde_type,
        "serverTimeStamp": server,
        "isAuthenticated": meta.authenticated,
    }
