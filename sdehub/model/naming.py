"""How each SDE type is named across the APIs that carry it.

The same attribute is ``ctmrinfo`` on the wire, ``SDE.customerDetails`` in the Agent Workspace
public model, ``customerInfo``/``CUSTOMER_INFO`` in Messaging Interactions and ``CustomerInfo`` in
Data Access. This table is the one place those names live.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

ChatRule = Literal["merge", "append", "replace"]
MessagingRule = Literal["append", "replace"]


class Naming(NamedTuple):
    wire: str
    title: str
    category: Literal["Visitor info", "eCommerce", "Visitor journey", "Impression"]
    wrapper: str | None
    """The key holding the fields on the wire (``info``), or None when they are top level."""
    public_key: str | None
    """The ``SDE.<key>`` path of the Agent Workspace public model."""
    history_key: str | None
    """The event key in Messaging Interactions records (also the ``sdeSearch`` key)."""
    sde_type: str | None
    double_wrapped: bool
    """Messaging Interactions nests these as ``key.key{...}`` (e.g. customerInfo.customerInfo)."""
    dataaccess: str | None
    chat_rule: ChatRule
    messaging_rule: MessagingRule


# fmt: off
NAMINGS: Final[tuple[Naming, ...]] = (
    # wire        title                   category           wrapper     public model       history key              sdeType                    double  Data Access             chat       messaging
    Naming("ctmrinfo",   "Customer Info",        "Visitor info",    "info",     "customerDetails", "customerInfo",          "CUSTOMER_INFO",           True,  "CustomerInfo",          "merge",   "replace"),
    Naming("personal",   "Personal Info",        "Visitor info",    "personal", "personalInfo",    "personalInfo",          "PERSONAL_INFO",           True,  "PersonalInfo",          "merge",   "replace"),
    Naming("mrktInfo",   "Marketing Source",     "Visitor info",    "info",     "marketingSource", "marketingCampaignInfo", "MARKETING_CAMPAIGN_INFO", True,  "MarketingCampaignInfo", "merge",   "replace"),
    Naming("cart",       "Cart Update",          "eCommerce",       None,       "shoppingCart",    "cartStatus",            "CART_STATUS",             False, "CartStatus",            "replace", "replace"),
    Naming("purchase",   "Transaction",          "eCommerce",       None,       "transaction",     "purchase",              "PURCHASE",                False, "Purchase",              "append",  "append"),
    Naming("prodView",   "Viewed Product",       "eCommerce",       None,       "viewedProducts",  "viewedProduct",         "VIEWED_PRODUCT",          False, "ViewedProduct",         "append",  "append"),
    Naming("lead",       "Lead",                 "Visitor journey", "lead",     "leadGeneration",  "lead",                  "LEAD",                    True,  "Lead",                  "append",  "append"),
    # Service activity appends in a web session but replaces in messaging (best practices).
    Naming("service",    "Service Activity",     "Visitor journey", "service",  "serviceActivity", "serviceActivity",       "SERVICE_ACTIVITY",        True,  "ServiceActivity",       "append",  "replace"),
    Naming("error",      "Visitor Error",        "Visitor journey", "error",    "error",           "visitorError",          "VISITOR_ERROR",           True,  "VisitorError",          "append",  "append"),
    Naming("searchInfo", "Searched Content",     "Visitor journey", None,       "searchContent",   "searchContent",         "SEARCH_CONTENT",          False, None,                    "append",  "append"),
    Naming("impDisplay", "Impression displayed", "Impression",      None,       None,              None,                    None,                      False, None,                    "append",  "append"),
    Naming("impAccept",  "Impression accepted",  "Impression",      None,       None,              None,                    None,                      False, None,                    "append",  "append"),
    Naming("impExpanded","Impression expanded",  "Impression",      None,       None,              None,                    None,                      False, None,                    "append",  "append"),
    Naming("impTimeout", "Impression timed out", "Impression",      None,       None,              None,                    None,                      False, None,                    "append",  "append"),
    Naming("impClose",   "Impression closed",    "Impression",      None,       None,              None,                    None,                      False, None,                    "append",  "append"),
)
# fmt: on

BY_WIRE: Final[dict[str, Naming]] = {n.wire: n for n in NAMINGS}
BY_PUBLIC_KEY: Final[dict[str, Naming]] = {n.public_key: n for n in NAMINGS if n.public_key}
BY_HISTORY_KEY: Final[dict[str, Naming]] = {n.history_key: n for n in NAMINGS if n.history_key}
BY_SDE_TYPE: Final[dict[str, Naming]] = {n.sde_type: n for n in NAMINGS if n.sde_type}


def naming(wire_type: str) -> Naming:
    return BY_WIRE[wire_type]
