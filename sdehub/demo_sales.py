"""The demo's sales: a few visitors of the demo shop who meet the checkout campaign, chat with the
demo agent and buy, one of them with the agent reporting a second sale in the agent survey. They
make the reports (docs/reports.md) show assisted, agent- and consumer-reported conversions.

Everything goes through the domain code the Monitoring, Connector, agent workspace and agent
survey APIs use, so the goals are reached by the goal engine itself.
"""

from __future__ import annotations

import random
from typing import Any, Final

from sdehub.clock import ManualClock
from sdehub.envelopes import Item
from sdehub.messaging import Caller
from sdehub.model.messaging import (
    CampaignInfo,
    ConversationContext,
    ConversationRequest,
    UserProfile,
)
from sdehub.model.monitoring import Reported
from sdehub.model.survey_answers import decode_states
from sdehub.model.types import CartUpdate, CustomerInfo, CustomerInfoData, Transaction
from sdehub.services import Services
from sdehub.tokens import ConsumerClaims

# The demo catalog's checkout campaign and engagement (skill 11, Sales; goal 21: over 50).
CAMPAIGN: Final = "61"
ENGAGEMENT: Final = "71"
SKILL: Final = "11"
SURVEY: Final[dict[str, Any]] = {
    "name": "Sales wrap-up",
    "skillIds": [SKILL],
    "questions": [
        {
            "id": 1,
            "orderId": 1,
            "text": "Order closed in the chat",
            "category": "free_text",
            "questionDefinition": "engagement_attributes",
            "engagementAttribute": {
                "type": "purchase",
                "attributes": ["order_total", "currency", "order_id"],
            },
        }
    ],
}


async def sell(
    svc: Services,
    clock: ManualClock,
    rng: random.Random,
    *,
    account_id: str,
    app_id: str,
    client_id: str,
    agent_id: str,
    sales: int = 3,
) -> list[str]:
    """``sales`` assisted sales on ``account_id``; returns their conversations."""
    await svc.surveys.save(account_id, None, SURVEY, None)
    out = []
    for n in range(sales):
        clock.advance(rng.randint(60_000, 300_000))
        reported = Reported(
            consumer_id=None, identities=[], client_properties=None,
            entry_points=["sec://checkout"], page_id=None,
            sdes=[CustomerInfo(info=CustomerInfoData(ctype="gold")),
                  CartUpdate(total=round(rng.uniform(100, 300), 2), currency="USD", numItems=2)],
        )  # fmt: skip
        visit = await svc.monitoring.engagement(
            svc.monitoring.call(
                "engagement", account_id, app_id, reported, visitor_id=None, session_id=None
            )
        )
        request = ConversationRequest(
            brandId=account_id,
            channelType="MESSAGING",
            skillId="-1",
            campaignInfo=CampaignInfo(campaignId=CAMPAIGN, engagementId=ENGAGEMENT),
            conversationContext=ConversationContext(
                visitorId=visit.visitor_id, sessionId=visit.session_id, type="SharkContext"
            ),
        )
        ext_id = f"demo-buyer-{n + 1}"
        consumer_id = await svc.identity.register(account_id, ext_id)
        caller = Caller(
            account_id=account_id,
            client_id=client_id,
            consumer=ConsumerClaims(
                account_id=account_id, consumer_id=consumer_id, ext_consumer_id=ext_id
            ),
        )
        clock.advance(rng.randint(10_000, 60_000))
        replies = await svc.messaging.conversation(
            caller, [Item(req_id="1,", body=UserProfile()), Item(req_id="2,", body=request)]
        )
        conversation_id: str = replies[1].body["conversationId"]
        await svc.agents.accept(account_id, conversation_id, agent_id)
        clock.advance(rng.randint(60_000, 600_000))
        order = Transaction(
            total=round(rng.uniform(60, 400), 2), currency="USD", orderId=f"WEB-{n + 1}"
        )
        bought = svc.monitoring.call(
            "report", account_id, app_id,
            Reported(consumer_id=None, identities=[], client_properties=None, entry_points=[],
                     page_id=None, sdes=[order]),
            visitor_id=visit.visitor_id, session_id=visit.session_id,
        )  # fmt: skip
        await svc.monitoring.report(bought)
        if n == 0:
            states, errors = decode_states(
                [{"id": 1, "questionStatus": "answer", "engAttribute": {"type": "purchase",
                  "purchase": {"total": 249.0, "currency": "USD", "orderId": "CHAT-1"}}}]
            )  # fmt: skip
            assert not errors, errors
            await svc.surveys.act(account_id, conversation_id, SKILL, "submit", states, 0, agent_id)
        out.append(conversation_id)
    return out
