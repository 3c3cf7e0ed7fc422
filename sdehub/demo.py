"""Deterministic demo data: the same generator feeds ``sdehub demo``, the tests and the benchmarks.

Everything goes through the same domain code real requests use (so the data is real data):
a demo account with an app installation and an agent, then visitors who browse a shop (every
unauthenticated SDE type, as a web tag reports them) and open messaging conversations through the
Connector flow with authenticated Customer and Personal Info, send messages, and some close.
``Random(seed)`` and a manual clock make every run identical.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Final

from sdehub.clock import ManualClock
from sdehub.demo_sales import sell
from sdehub.envelopes import Item
from sdehub.ingest import record
from sdehub.messaging import Caller
from sdehub.model.messaging import (
    AuthenticatedData,
    CampaignInfo,
    ContentEvent,
    ConversationContext,
    ConversationRequest,
    PublishEvent,
    StateChange,
    UpdateConversationField,
    UserProfile,
)
from sdehub.model.types import (
    Age,
    CartUpdate,
    Contact,
    CustomerInfo,
    CustomerInfoData,
    Date,
    ErrorData,
    Event,
    Lead,
    LeadData,
    MarketingData,
    MarketingSource,
    PersonalData,
    PersonalInfo,
    Product,
    ProductItem,
    PurchaseCart,
    SearchContent,
    ServiceActivity,
    ServiceData,
    Transaction,
    ViewedProduct,
    ViewedProductItem,
    VisitorError,
)
from sdehub.services import Services
from sdehub.store.events import Origin
from sdehub.tokens import ConsumerClaims

ACCOUNT: Final = "12345678"
CLIENT_ID: Final = "demo-connector"
CLIENT_SECRET: Final = "demo-secret"
AGENT_LOGIN: Final = "agent"
AGENT_PASSWORD: Final = "demo"
SHOP_APP: Final = "demo-shop"
"""The app installation the demo shop's web tag reports to (``/demo/shop``)."""

FIRST: Final = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jon")
LAST: Final = ("Diaz", "Okafor", "Martin", "Patel", "Schmidt", "Nakamura", "Rossi", "Kowalski")
CATALOG: Final = (
    ("Espresso machine", "kitchen", "KIT-100", 249.0),
    ("Coffee grinder", "kitchen", "KIT-140", 89.5),
    ("Running shoes", "sport", "SPO-220", 120.0),
    ("Yoga mat", "sport", "SPO-310", 35.0),
    ("Noise-cancelling headphones", "electronics", "ELE-500", 299.99),
    ("USB-C charger", "electronics", "ELE-512", 24.9),
)
SEARCHES: Final = ("espresso", "return policy", "running shoes size 44", "headphones warranty")
LINES: Final = (
    "Hi, I have a question about my order.",
    "Is the espresso machine in stock?",
    "Can I change the delivery address?",
    "My payment failed twice, can you help?",
    "Thanks, that solved it!",
)


@dataclass
class DemoData:
    account_id: str = ACCOUNT
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    agent_login: str = AGENT_LOGIN
    agent_password: str = AGENT_PASSWORD
    conversations: list[str] = field(default_factory=list)
    open_conversations: list[str] = field(default_factory=list)


def demo_catalog() -> Any:
    """The demo shop's campaigns (skills, goals, locations, audiences, behaviours)."""
    import yaml

    return yaml.safe_load(files("sdehub").joinpath("demo_catalog.yaml").read_text())


def _products(rng: random.Random, n: int) -> list[tuple[str, str, str, float]]:
    return rng.sample(CATALOG, n)


def web_sdes(rng: random.Random, i: int) -> list[Event]:
    """What a visitor's browsing reports: one of every unauthenticated SDE type."""
    viewed = _products(rng, 2)
    in_cart = viewed[:1]
    quantity = rng.randint(1, 3)
    total = round(in_cart[0][3] * quantity, 2)
    items = [
        ProductItem(product=Product(name=n, category=c, sku=s, price=p), quantity=quantity)
        for n, c, s, p in in_cart
    ]
    return [
        MarketingSource(
            info=MarketingData(
                channel=rng.randint(0, 4),
                affiliate=rng.choice(("Google", "Newsletter", "Partner")),
                campaignId=f"spring-{i % 3}",
            )
        ),
        SearchContent(keywords=[rng.choice(SEARCHES)]),
        ViewedProduct(
            currency="USD",
            products=[
                ViewedProductItem(
                    product=Product(name=n, category=c, sku=s, price=p, statusInStock="in stock")
                )
                for n, c, s, p in viewed
            ],
        ),
        CartUpdate(total=total, numItems=quantity, currency="USD", products=items),
        Transaction(
            total=total,
            currency="USD",
            orderId=f"ORD-{1000 + i}",
            cart=PurchaseCart(products=items, numItems=quantity),
        ),
        Lead(lead=LeadData(topic="newsletter signup", value=5.0, currency="USD", leadId=f"L-{i}")),
        ServiceActivity(
            service=ServiceData(
                topic="delivery change",
                status=rng.choice((1, 9, 13)),
                category="orders",
                serviceId=f"S-{i}",
            )
        ),
        VisitorError(
            error=ErrorData(
                contextId="checkout",
                message="Card declined",
                code=f"E{rng.randint(100, 199)}",
                level=rng.randint(1, 3),
                resolved=False,
            )
        ),
    ]


def profile_sdes(rng: random.Random, i: int, first: str, last: str) -> list[Any]:
    """The authenticated Customer and Personal Info a connector sends with the profile."""
    return [
        CustomerInfo(
            info=CustomerInfoData(
                cstatus=rng.choice(("active", "suspended")),
                ctype=rng.choice(("vip", "gold", "regular")),
                balance=round(rng.uniform(-500, 2000), 2),
                currency="USD",
                customerId=f"C-{100 + i}",
                socialId=f"{first.lower()}.{last.lower()}",
                userName=f"{first.lower()}{i}",
                accountName="Demo Shop",
                registrationDate=Date(day=rng.randint(1, 28), month=rng.randint(1, 12), year=2022),
                lastPaymentDate=Date(day=rng.randint(1, 28), month=rng.randint(1, 12), year=2025),
            )
        ),
        PersonalInfo(
            personal=PersonalData(
                firstname=first,
                lastname=last,
                gender=rng.choice(("MALE", "FEMALE", "OTHER")),
                age=Age(age=rng.randint(19, 75)),
                language="en-US",
                company="Demo Corp",
                contacts=[
                    Contact(
                        email=f"{first.lower()}.{last.lower()}@example.com",
                        phone=f"+1555{rng.randint(1000000, 9999999)}",
                        phoneType="MOBILE",
                    )
                ],
            )
        ),
    ]


async def populate(
    svc: Services, clock: ManualClock, *, conversations: int = 12, seed: int = 42
) -> DemoData:
    """Create the demo account and ``conversations`` conversations; deterministic for a seed."""
    rng = random.Random(seed)
    ids = random.Random(seed + 1)
    svc.messaging.new_id = lambda _ms: str(uuid.UUID(int=ids.getrandbits(128), version=4))
    data = DemoData()
    await svc.accounts.add(ACCOUNT, "Demo Shop")
    await svc.accounts.put_app(ACCOUNT, CLIENT_ID, CLIENT_SECRET, name="Demo connector")
    agent = await svc.accounts.put_user(
        ACCOUNT, AGENT_LOGIN, AGENT_PASSWORD, nickname="Demo Agent", full_name="Demo Agent"
    )
    await svc.catalogs.replace(ACCOUNT, demo_catalog(), author="demo", note="the demo shop")
    window = svc.messaging.window_ms
    for i in range(conversations):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        visitor, session = f"V{seed}-{i:05d}", f"S{seed}-{i:05d}"
        origin = Origin(
            source="webtag", authenticated=False, visitor_id=visitor, session_id=session
        )
        for sde in web_sdes(rng, i):
            clock.advance(rng.randint(5_000, 60_000))
            await svc.db.write(
                record, ACCOUNT, [sde], origin, now_ms=clock.now_ms(), window_ms=window
            )
        ext_id = f"demo-consumer-{i}"
        consumer_id = await svc.identity.register(ACCOUNT, ext_id)
        caller = Caller(
            account_id=ACCOUNT,
            client_id=CLIENT_ID,
            consumer=ConsumerClaims(
                account_id=ACCOUNT, consumer_id=consumer_id, ext_consumer_id=ext_id
            ),
            client_properties={"deviceFamily": "DESKTOP", "os": "OSX", "browser": "CHROME"},
        )
        clock.advance(rng.randint(10_000, 120_000))
        profile = UserProfile(
            firstName=first,
            lastName=last,
            authenticatedData=AuthenticatedData(lp_sdes=profile_sdes(rng, i, first, last)),
        )
        request = ConversationRequest(
            brandId=ACCOUNT,
            channelType="MESSAGING",
            skillId="-1",
            campaignInfo=CampaignInfo(campaignId="99999", engagementId="888888"),
            conversationContext=ConversationContext(
                visitorId=visitor, sessionId=session, type="SharkContext", lang="en-US"
            ),
        )
        replies = await svc.messaging.conversation(
            caller, [Item(req_id="1,", body=profile), Item(req_id="2,", body=request)]
        )
        conversation_id = replies[1].body["conversationId"]
        data.conversations.append(conversation_id)
        for n in range(rng.randint(1, 3)):
            clock.advance(rng.randint(2_000, 30_000))
            event = ContentEvent(message=rng.choice(LINES))
            await svc.messaging.send(
                caller,
                Item(req_id=n, body=PublishEvent(event=event, dialogId=conversation_id)),
            )
        if i % 2 == 0:
            clock.advance(rng.randint(60_000, 600_000))
            close = UpdateConversationField(
                conversationId=conversation_id,
                conversationField=StateChange(conversationState="CLOSE"),
            )
            await svc.messaging.send(caller, Item(req_id="close", body=close))
        else:
            data.open_conversations.append(conversation_id)
    # Last, so the conversations above stay what they were: sales for the reports.
    await sell(
        svc, clock, rng, account_id=ACCOUNT, app_id=SHOP_APP, client_id=CLIENT_ID,
        agent_id=agent.user_id,
    )  # fmt: skip
    return data
