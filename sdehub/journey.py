"""The web journey behind a conversation: the pages (with the sections and URLs they reported)
and the engagements offered in the visit its consumer came from.

A Connector API conversation belongs to a visit when its request named one in
``conversationContext`` (``visitorId`` + ``sessionId``); otherwise it has no journey. The public
model's ``visitorJourney.pages`` keeps LivePerson's live-chat shape (empty for messaging), so the
agent workspace page reads this instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdehub.errors import NotFound
from sdehub.store import Database, visits
from sdehub.store import conversations as conv_store
from sdehub.store.visits import Offer, Page, Visit


@dataclass(frozen=True)
class Journey:
    conversation_id: str
    visit: Visit | None
    pages: list[Page]
    offers: list[Offer]


async def journey(db: Database, account_id: str, conversation_id: str) -> Journey:
    def read(conn: Any) -> Journey:
        conversation = conv_store.get_conversation(conn, account_id, conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id!r} in account {account_id}")
        vid, sid = conversation.visitor_id, conversation.session_id
        visit = visits.get_visit(conn, account_id, vid, sid) if vid and sid else None
        if visit is None:
            return Journey(conversation_id, None, [], [])
        return Journey(
            conversation_id=conversation_id,
            visit=visit,
            pages=sorted(
                visits.pages(conn, account_id, visit.visitor_id, visit.session_id),
                key=lambda p: (p.first_ms, p.page_id),
            ),
            offers=visits.offers(conn, account_id, visit.visitor_id, visit.session_id),
        )

    return await db.read(read)
