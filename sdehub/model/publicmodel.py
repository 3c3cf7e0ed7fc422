"""SDEs in the shape of the Agent Workspace public model (``SDE.customerDetails[]`` ...).

No LivePerson document lists the wire -> public model mapping field by field; the renames here
follow the public model's field tables (``ctype`` -> ``type``, ``cstatus`` -> ``status``,
``serviceId`` -> ``id``, cart ``total`` -> ``cartTotal``; money values as strings). Where the format
is undocumented we chose: dates as ISO ``YYYY-MM-DD`` strings, numbers rendered like Java's
``Double.toString`` (``"30.0"``), enum codes as their number in a string.

Every entry carries ``_meta`` (provenance) which LivePerson's widget SDK ignores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from sdehub.model.provenance import Entry, Provenance
from sdehub.model.types import (
    CartUpdate,
    CustomerInfo,
    Date,
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
)


class View(msgspec.Struct, kw_only=True, omit_defaults=True):
    meta: Provenance | None = msgspec.field(default=None, name="_meta")


class CustomerDetails(View):
    accountName: str | None = None
    balance: str | None = None
    companySize: int | None = None
    companyBranch: str | None = None
    customerId: str | None = None
    imei: str | None = None
    lastPaymentDate: str | None = None
    registrationDate: str | None = None
    role: str | None = None
    socialId: str | None = None
    status: str | None = None
    type: str | None = None
    userName: str | None = None


class ContactInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    email: str | None = None
    phone: str | None = None


class PersonalDetails(View):
    age: int | None = None
    birthday: str | None = None
    company: str | None = None
    contactInfo: list[ContactInfo] | None = None
    gender: str | None = None
    language: str | None = None
    name: str | None = None
    firstname: str | None = None
    lastname: str | None = None


class MarketingDetails(View):
    originatingChannel: str | None = None
    affiliate: str | None = None
    campaignId: str | None = None


class LeadDetails(View):
    leadId: str | None = None
    topic: str | None = None
    value: str | None = None


class ProductDetails(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str | None = None
    category: str | None = None
    sku: str | None = None
    price: str | None = None
    quantity: int | None = None


class TransactionDetails(View):
    products: list[ProductDetails]  # always present, [] included, as in the documented structure
    total: str | None = None
    orderId: str | None = None
    numItems: int | None = None


class CartDetails(View):
    products: list[ProductDetails]  # always present, [] included
    cartTotal: str | None = None
    numItems: int | None = None


class ViewedProductDetails(View):
    name: str | None = None
    category: str | None = None
    sku: str | None = None
    price: str | None = None


class ServiceDetails(View):
    category: str | None = None
    id: str | None = None
    status: str | None = None
    topic: str | None = None


class ErrorDetails(View):
    contextId: str | None = None
    message: str | None = None
    code: str | None = None
    level: int | None = None
    resolved: bool | None = None


class Keyword(msgspec.Struct, kw_only=True):
    value: str


class SearchDetails(View):
    keywords: list[Keyword]


class SDESection(msgspec.Struct, kw_only=True):
    customerDetails: list[CustomerDetails] = []
    personalInfo: list[PersonalDetails] = []
    marketingSource: list[MarketingDetails] = []
    leadGeneration: list[LeadDetails] = []
    transaction: list[TransactionDetails] = []
    viewedProducts: list[ViewedProductDetails] = []
    shoppingCart: list[CartDetails] = []
    serviceActivity: list[ServiceDetails] = []
    error: list[ErrorDetails] = []
    searchContent: SearchDetails = msgspec.field(default_factory=lambda: SearchDetails(keywords=[]))


class AuthenticatedData(msgspec.Struct, kw_only=True):
    customerDetails: list[CustomerDetails] = []
    personalInfo: list[PersonalDetails] = []


def java_double(value: float) -> str:
    """``Double.toString``: ``30.0``, ``-400.99``, ``1.0E7``, ``1.5E-4`` (shortest digits)."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:  # Python's repr has no exponent in this range either
        text = repr(value)
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    kept = list(digits)
    while len(kept) > 1 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    scientific = exponent + len(kept) - 1
    mantissa = f"{kept[0]}.{''.join(map(str, kept[1:])) or '0'}"
    return f"{'-' if sign else ''}{mantissa}E{scientific}"


def number(value: float | int | None) -> str | None:
    """A number as LivePerson's Java services print it (``30.0``, ``-400.99``)."""
    if value is None:
        return None
    if isinstance(value, int):
        return str(value)
    return java_double(float(value))


def date(value: Date | None) -> str | None:
    if value is None:
        return None
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def code(value: int | None) -> str | None:
    return None if value is None else str(value)


def customer_details(record: CustomerInfo, meta: Provenance | None) -> CustomerDetails:
    i = record.info
    return CustomerDetails(
        meta=meta,
        accountName=i.accountName,
        balance=number(i.balance),
        companySize=i.companySize,
        companyBranch=i.companyBranch,
        customerId=i.customerId,
        imei=i.imei,
        lastPaymentDate=date(i.lastPaymentDate),
        registrationDate=date(i.registrationDate),
        role=i.role,
        socialId=i.socialId,
        status=i.cstatus,
        type=i.ctype,
        userName=i.userName,
    )


def full_name(first: str | None, last: str | None) -> str | None:
    """The Visitor Name: first and last name joined with one space."""
    name = " ".join(part for part in (first, last) if part)
    return name or None


def _age_in_years(year: int, month: int | None, day: int | None, on_ms: int) -> int:
    today = datetime.fromtimestamp(on_ms / 1000, UTC).date()
    before_birthday = (today.month, today.day) < (month or 1, day or 1)
    return today.year - year - (1 if before_birthday else 0)


def personal_details(record: PersonalInfo, meta: Provenance | None) -> PersonalDetails:
    p = record.personal
    age = birthday = None
    if p.age is not None:
        age = p.age.age
        if age is None and p.age.year is not None and meta is not None:
            age = _age_in_years(p.age.year, p.age.month, p.age.day, meta.serverTs)
        if p.age.year is not None and p.age.month is not None and p.age.day is not None:
            birthday = f"{p.age.year:04d}-{p.age.month:02d}-{p.age.day:02d}"
    contacts = None
    if p.contacts is not None:
        contacts = [ContactInfo(email=c.email, phone=c.phone) for c in p.contacts]
    return PersonalDetails(
        meta=meta,
        age=age,
        birthday=birthday,
        company=p.company,
        contactInfo=contacts,
        gender=p.gender,
        language=p.language,
        name=full_name(p.firstname, p.lastname),
        firstname=p.firstname,
        lastname=p.lastname,
    )


def _product(p: Product, quantity: int | None) -> ProductDetails:
    return ProductDetails(
        name=p.name, category=p.category, sku=p.sku, price=number(p.price), quantity=quantity
    )


def _products(items: Sequence[ProductItem] | None) -> list[ProductDetails]:
    return [_product(i.product, i.quantity) for i in items or ()]


def sde_section(state: dict[str, list[Entry]]) -> SDESection:
    """The public model ``SDE`` object for the folded state of a conversation."""
    out = SDESection()
    for entries in state.values():
        for record, meta in entries:
            _add(out, record, meta)
    for name in out.__struct_fields__:
        value = getattr(out, name)
        if isinstance(value, list):
            value.sort(key=lambda v: v.meta.seq if v.meta else 0)
    return out


def _add(out: SDESection, record: Any, meta: Provenance) -> None:
    if isinstance(record, CustomerInfo):
        out.customerDetails.append(customer_details(record, meta))
    elif isinstance(record, PersonalInfo):
        out.personalInfo.append(personal_details(record, meta))
    elif isinstance(record, MarketingSource):
        i = record.info
        out.marketingSource.append(
            MarketingDetails(
                meta=meta,
                originatingChannel=code(i.channel),
                affiliate=i.affiliate,
                campaignId=i.campaignId,
            )
        )
    elif isinstance(record, Lead):
        lead = record.lead
        out.leadGeneration.append(
            LeadDetails(meta=meta, leadId=lead.leadId, topic=lead.topic, value=number(lead.value))
        )
    elif isinstance(record, Transaction):
        cart = record.cart
        out.transaction.append(
            TransactionDetails(
                meta=meta,
                total=number(record.total),
                orderId=record.orderId,
                products=_products(cart.products if cart else None),
                numItems=cart.numItems if cart else None,
            )
        )
    elif isinstance(record, ViewedProduct):
        for item in record.products or ():
            p = item.product
            out.viewedProducts.append(
                ViewedProductDetails(
                    meta=meta, name=p.name, category=p.category, sku=p.sku, price=number(p.price)
                )
            )
    elif isinstance(record, CartUpdate):
        out.shoppingCart.append(
            CartDetails(
                meta=meta,
                cartTotal=number(record.total),
                numItems=record.numItems,
                products=_products(record.products),
            )
        )
    elif isinstance(record, ServiceActivity):
        s = record.service
        out.serviceActivity.append(
            ServiceDetails(
                meta=meta, category=s.category, id=s.serviceId, status=code(s.status), topic=s.topic
            )
        )
    elif isinstance(record, VisitorError):
        e = record.error
        out.error.append(
            ErrorDetails(
                meta=meta,
                contextId=e.contextId,
                message=e.message,
                code=e.code,
                level=e.level,
                resolved=e.resolved,
            )
        )
    elif isinstance(record, SearchContent):
        out.searchContent.keywords.extend(Keyword(value=k) for k in record.keywords)
        out.searchContent.meta = meta


def authenticated_data(state: dict[str, list[Entry]]) -> AuthenticatedData:
    """The deprecated ``authenticatedData`` object: authenticated Customer and Personal Info."""
    return AuthenticatedData(
        customerDetails=[
            customer_details(r, m)
            for r, m in state.get("ctmrinfo", [])
            if m.authenticated and isinstance(r, CustomerInfo)
        ],
        personalInfo=[
            personal_details(r, m)
            for r, m in state.get("personal", [])
            if m.authenticated and isinstance(r, PersonalInfo)
        ],
    )


def visitor_name(state: dict[str, list[Entry]]) -> str | None:
    """The Visitor Name from the latest Personal Info (authenticated wins over unauthenticated)."""
    entries = sorted(state.get("personal", []), key=lambda e: (e.meta.authenticated, e.meta.seq))
    for record, _ in reversed(entries):
        if isinstance(record, PersonalInfo):
            name = full_name(record.personal.firstname, record.personal.lastname)
            if name:
                return name
    return None
