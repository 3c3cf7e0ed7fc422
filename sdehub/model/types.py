"""The SDE wire types: every engagement attribute a website, app or connector can report.

One class per wire ``type``; the ``type`` key is the msgspec tag, so ``SDE`` is a tagged union.
Field names are the wire names. Where the LivePerson documentation disagrees with itself the
tolerance lives in :mod:`sdehub.model.validation` (numbers as strings, ``campaignID``, ...), not
here: these types describe the canonical form, and the JSON Schema is generated from them.

Schema evolution rule: new fields get defaults; existing fields never change type.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct

# Every attribute value may be up to 50K characters (Messaging Interactions docs).
Text = Annotated[str, Meta(max_length=50_000)]
Day = Annotated[int, Meta(ge=1, le=31)]
Month = Annotated[int, Meta(ge=1, le=12)]
Year = Annotated[int, Meta(ge=0, le=9999)]

# An older version of the docs typed gender as an integer: 0 MALE, 1 FEMALE, 2 OTHER.
Gender = Annotated[
    Literal["MALE", "FEMALE", "OTHER"], Meta(extra={"codes": ("MALE", "FEMALE", "OTHER")})
]
PhoneType = Literal[
    "HOME", "MOBILE", "WORK", "FAX", "MAIN", "HOME_FAX", "WORK_FAX", "PAGER", "OTHER"
]
AuthMethod = Literal[
    "face",
    "fpt",
    "geo",
    "hwk",
    "iris",
    "kba",
    "mca",
    "mfa",
    "otp",
    "pin",
    "pwd",
    "rba",
    "retina",
    "sc",
    "sms",
    "swk",
    "tel",
    "user",
    "vbm",
    "wia",
]

# 0 Direct, 1 Search, 2 Social, 3 Email, 4 Referral; the Engagement History appendix adds
# 5 Paid Search and 6 Display.
MarketingChannel = Annotated[int, Meta(ge=0, le=6, description="0 Direct … 6 Display")]
# 0 Complete … 10 Waiting; the EA API example extends the list up to 13 Resolved.
ServiceStatus = Annotated[int, Meta(ge=0, le=13, description="0 Complete … 13 Resolved")]

CHANNEL_NAMES: Final = (
    "Direct",
    "Search",
    "Social",
    "Email",
    "Referral",
    "Paid Search",
    "Display",
)
SERVICE_STATUS_NAMES: Final = (
    "Complete",
    "In Progress",
    "Approved",
    "Cancelled",
    "Not Approved",
    "Reviewed",
    "Missing Details",
    "Closed",
    "Removed",
    "Assigned",
    "Waiting for Customer Response",
    "Waiting for Response",
    "Pending",
    "Resolved",
)


class Base(Struct, kw_only=True, omit_defaults=True):
    """Common options: keyword construction, absent fields are left out on encode."""


class Date(Base):
    day: Day
    month: Month
    year: Year


# --- visitor info -------------------------------------------------------------------------


class CustomerInfoData(Base):
    cstatus: Text | None = None
    ctype: Text | None = None
    balance: float | None = None
    currency: Text | None = None
    customerId: Text | None = None
    socialId: Text | None = None
    imei: Text | None = None
    userName: Text | None = None
    companySize: int | None = None
    companyBranch: Text | None = None
    accountName: Text | None = None
    role: Text | None = None
    lastPaymentDate: Date | None = None
    registrationDate: Date | None = None
    loginStatus: int | None = None
    storeZipCode: Text | None = None
    storeNumber: Text | None = None


class AuthInfo(Base):
    amr: list[AuthMethod] | None = None
    iss: Text | None = None


class CustomerInfo(Base, tag="ctmrinfo", tag_field="type"):
    """Customer Info: status, type, balance, ids of the customer in the brand's systems."""

    info: CustomerInfoData
    auth: AuthInfo | None = None


class Age(Base):
    age: Annotated[int, Meta(ge=0, le=200)] | None = None
    year: Year | None = None
    month: Month | None = None
    day: Day | None = None


class Address(Base):
    country: Text | None = None
    region: Text | None = None


class Contact(Base):
    email: Text | None = None
    phone: Text | None = None
    phoneType: PhoneType | None = None
    address: Address | None = None


class PersonalData(Base):
    firstname: Text | None = None
    lastname: Text | None = None
    age: Age | None = None
    contacts: list[Contact] | None = None
    gender: Gender | None = None
    language: Text | None = None
    company: Text | None = None


class PersonalInfo(Base, tag="personal", tag_field="type"):
    """Personal Info: name, age, contacts, gender, language, company."""

    personal: PersonalData
    auth: AuthInfo | None = None


class MarketingData(Base):
    channel: MarketingChannel | None = None
    affiliate: Text | None = None
    # The docs' field table spells it campaignID, their JSON example campaignId.
    campaignId: Annotated[Text | None, Meta(extra={"aliases": ("campaignID",)})] = None


class MarketingSource(Base, tag="mrktInfo", tag_field="type"):
    """Marketing source: the channel, affiliate and campaign that brought the visitor."""

    # Only ``type`` is mandatory in the docs: an absent wrapper is an empty one.
    info: MarketingData = msgspec.field(default_factory=MarketingData)


# --- eCommerce ----------------------------------------------------------------------------


class Product(Base):
    name: Text | None = None
    category: Text | None = None
    sku: Text | None = None
    price: float | None = None
    statusInStock: Text | None = None
    quantityInStock: int | None = None


class ProductItem(Base):
    product: Product
    quantity: int | None = None


class CartUpdate(Base, tag="cart", tag_field="type"):
    """Cart update: replaces the visitor's cart. Totals are never computed from products."""

    total: float
    numItems: int
    currency: Text | None = None
    products: list[ProductItem] | None = None


class PurchaseCart(Base):
    products: list[ProductItem]
    numItems: int | None = None


class Transaction(Base, tag="purchase", tag_field="type"):
    """Transaction: a completed purchase (total after discount)."""

    total: float | None = None
    currency: Text | None = None
    orderId: Text | None = None
    cart: PurchaseCart | None = None


class ViewedProductItem(Base):
    product: Product
    quantity: int | None = None  # in the older docs' example and in Messaging Interactions


class ViewedProduct(Base, tag="prodView", tag_field="type"):
    """Viewed product: products the visitor looked at."""

    currency: Text | None = None
    products: list[ViewedProductItem] | None = None


# --- visitor journey ----------------------------------------------------------------------


class LeadData(Base):
    topic: Text | None = None
    value: float | None = None
    currency: Text | None = None
    leadId: Text | None = None


class Lead(Base, tag="lead", tag_field="type"):
    """Lead: a lead the visitor generated (form filled, quote requested, ...)."""

    lead: LeadData = msgspec.field(default_factory=LeadData)


class ServiceData(Base):
    topic: Text | None = None
    status: ServiceStatus | None = None
    category: Text | None = None
    serviceId: Text | None = None


class ServiceActivity(Base, tag="service", tag_field="type"):
    """Service activity: a service request and its status."""

    service: ServiceData = msgspec.field(default_factory=ServiceData)


class ErrorData(Base):
    contextId: Text | None = None
    message: Text | None = None
    code: Text | None = None
    level: int | None = None
    resolved: bool | None = None


class VisitorError(Base, tag="error", tag_field="type"):
    """Visitor error: an error the visitor hit; errors accumulate until resolved."""

    error: ErrorData = msgspec.field(default_factory=ErrorData)


class SearchContent(Base, tag="searchInfo", tag_field="type"):
    """Searched content: keywords the visitor searched for (web only)."""

    keywords: list[Text] = []


# --- impression events (Monitoring API report only) ---------------------------------------


class EngagementContext(Base):
    id: Text
    type: Text = "engagementContext"


class ImpressionDisplay(Base, tag="impDisplay", tag_field="type"):
    """An engagement was displayed to the visitor."""

    campaign: int
    engId: int
    revision: int | None = None
    eContext: list[EngagementContext] | None = None


class ImpressionAccept(Base, tag="impAccept", tag_field="type"):
    """The visitor accepted (clicked) a displayed engagement."""

    campaign: int
    engId: int
    revision: int | None = None
    eContext: list[EngagementContext] | None = None


class ImpressionExpanded(Base, tag="impExpanded", tag_field="type"):
    """A displayed engagement was expanded."""

    campaign: int
    engId: int
    revision: int | None = None
    expanded: bool | None = None
    userInit: bool | None = None
    actionableItems: Any = None


class ImpressionTimeout(Base, tag="impTimeout", tag_field="type"):
    """A displayed engagement timed out without interaction."""

    campaign: int
    engId: int
    revision: int | None = None


class ImpressionClose(Base, tag="impClose", tag_field="type"):
    """The visitor closed a displayed engagement."""

    campaign: int
    engId: int
    revision: int | None = None


SDE = (
    CustomerInfo
    | PersonalInfo
    | MarketingSource
    | CartUpdate
    | Transaction
    | ViewedProduct
    | Lead
    | ServiceActivity
    | VisitorError
    | SearchContent
)
Impression = (
    ImpressionDisplay | ImpressionAccept | ImpressionExpanded | ImpressionTimeout | ImpressionClose
)
Event = SDE | Impression
# What the authenticated flow (JWT ``lp_sdes``, ``authenticatedData.lp_sdes``) accepts; the
# validator names any other SDE type as unsupported there.
AuthenticatedSDE = Annotated[
    CustomerInfo | PersonalInfo,
    Meta(
        extra={
            "unsupported_tag": "is not supported in the authenticated flow; "
            "only ctmrinfo and personal are"
        }
    ),
]

SDE_TYPES: Final[tuple[type[Base], ...]] = (
    CustomerInfo,
    PersonalInfo,
    MarketingSource,
    CartUpdate,
    Transaction,
    ViewedProduct,
    Lead,
    ServiceActivity,
    VisitorError,
    SearchContent,
)
IMPRESSION_TYPES: Final[tuple[type[Base], ...]] = (
    ImpressionDisplay,
    ImpressionAccept,
    ImpressionExpanded,
    ImpressionTimeout,
    ImpressionClose,
)
BY_WIRE_TYPE: Final[dict[str, type[Base]]] = {
    str(cls.__struct_config__.tag): cls for cls in SDE_TYPES + IMPRESSION_TYPES
}

# The authenticated flow (JWT lp_sdes, SetUserProfile authenticatedData) takes only these,
# and Customer Info without the store fields.
AUTHENTICATED_TYPES: Final = frozenset({"ctmrinfo", "personal"})
AUTHENTICATED_EXCLUDED_FIELDS: Final = frozenset({"storeZipCode", "storeNumber"})


def wire_type(record: Base) -> str:
    """The wire ``type`` of a record."""
    return str(record.__struct_config__.tag)
