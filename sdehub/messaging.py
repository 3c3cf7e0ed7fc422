"""Consumer messaging: what the Connector API's CONVERSATION and SEND methods do.

CONVERSATION is an ordered batch: one or more ``userprofile.SetUserProfile`` (the profile and the
authenticated SDEs), then ``cm.ConsumerRequestConversation``, then optionally ``ms.PublishEvent``
requests for the new conversation. The whole batch is one transaction: acknowledged only once it
is durable, and nothing of it is kept when any part fails.

SEND takes one request: a message or receipt (``ms.PublishEvent``), a conversation field change
such as closing it (``cm.UpdateConversationField``), or a profile update mid-conversation whose
Customer/Personal Info replace the earlier ones (the messaging rules).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from sdehub import campaigns
from sdehub.channels import Changes
from sdehub.clock import Clock
from sdehub.envelopes import Item, check_batch_order, check_event, decode_batch, decode_single
from sdehub.errors import BadRequest
from sdehub.ingest import HOUR_MS, record
from sdehub.model.messaging import (
    PROFILE_OK,
    AcceptStatusEvent,
    ChatStateEvent,
    ConversationRequest,
    CsatChange,
    PublishEvent,
    Reply,
    SendReply,
    SkillChange,
    StateChange,
    TTRChange,
    UpdateConversationField,
    UserProfile,
)
from sdehub.model.provenance import Entry
from sdehub.model.validation import FieldError, Path, format_path
from sdehub.store import Database, events, visits
from sdehub.store import conversations as store
from sdehub.store import history as history_store
from sdehub.store.conversations import Conversation, Dialog, Message, Participant
from sdehub.store.events import Origin
from sdehub.tokens import ConsumerClaims

CallerTuple = tuple[str, str, str, str | None, str, str | None, str | None, dict[str, Any] | None]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the app installation, on behalf of which consumer."""

    account_id: str
    client_id: str
    consumer: ConsumerClaims
    request_id: str | None = None
    client_properties: dict[str, Any] | None = None

    def astuple(self) -> CallerTuple:
        """Plain values, quick to send to the writer process."""
        c = self.consumer
        return (
            self.account_id, self.client_id, c.consumer_id, c.ext_consumer_id, c.acr,
            c.client_id, self.request_id, self.client_properties,
        )  # fmt: skip

    @classmethod
    def fromtuple(cls, t: CallerTuple) -> Caller:
        account_id, client_id, consumer_id, ext_id, acr, consumer_client, request_id, props = t
        consumer = ConsumerClaims(
            account_id=account_id, consumer_id=consumer_id, ext_consumer_id=ext_id, acr=acr,
            client_id=consumer_client,
        )  # fmt: skip
        return cls(account_id, client_id, consumer, request_id, props)


class Messaging:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        attribution_hours: int = 12,
        new_id: Callable[[int], str] | None = None,
        changes: Changes | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.window_ms = attribution_hours * HOUR_MS
        self.new_id = new_id or time_ordered_id
        self._changes = changes

    async def _changed(self, caller: Caller) -> None:
        # Everything a consumer's request writes belongs to its own conversations (messages,
        # closes, SDEs attributed by consumer): announced by consumer, see sdehub.channels.
        if self._changes is not None:
            await self._changes.consumer(caller.account_id, caller.consumer.consumer_id)

    async def conversation(self, caller: Caller, items: list[Item]) -> list[Reply]:
        check_batch_order(items)
        now = self._clock.now_ms()
        replies: list[Reply] = await self._db.write(
            create_conversation, caller, items, self.new_id(now), now, self.window_ms
        )
        await self._changed(caller)
        return replies

    async def send(self, caller: Caller, item: Item) -> SendReply:
        now = self._clock.now_ms()
        reply: SendReply = await self._db.write(send_request, caller, item, now, self.window_ms)
        await self._changed(caller)
        return reply

    # The Connector API's way: the request body travels to the writer as it arrived (cheaper to
    # send across processes than the decoded objects) and the reply comes back as JSON bytes.

    async def conversation_json(self, caller: Caller, body: bytes) -> bytes:
        """:meth:`conversation` for a request body as it arrived, decoded and checked by the
        writer (a bad one raises :class:`BadRequest` from there); the reply as JSON."""
        now = self._clock.now_ms()
        reply: bytes = await self._db.write(
            conversation_from_json, caller.astuple(), body, self.new_id(now), now, self.window_ms
        )
        await self._changed(caller)
        return reply

    async def send_json(self, caller: Caller, body: bytes) -> bytes:
        """:meth:`send` for a body that decodes to one request; the reply as JSON."""
        now = self._clock.now_ms()
        reply: bytes = await self._db.write(
            send_from_json, caller.astuple(), body, now, self.window_ms
        )
        await self._changed(caller)
        return reply


# --- inside the write transaction (these run in the writer) ----------------------------


def create_conversation(
    conn: Connection,
    caller: Caller,
    items: list[Item],
    conversation_id: str,
    now: int,
    window_ms: int,
) -> list[Reply]:
    """The CONVERSATION batch, in order, in one transaction."""
    replies: list[Reply] = []
    conversation: Conversation | None = None
    recorded: list[Entry] = []
    for item in items:
        body = item.body
        if isinstance(body, UserProfile):
            recorded += _set_profile(conn, caller, body, now, window_ms)
            replies.append(Reply(body=PROFILE_OK, reqId=item.req_id))
        elif isinstance(body, ConversationRequest):
            conversation = _open(
                conn, caller, body, conversation_id, now, item.path, window_ms, recorded
            )
            replies.append(Reply(body={"conversationId": conversation_id}, reqId=item.req_id))
        elif isinstance(body, PublishEvent) and conversation is not None:
            # In the batch, the event goes to the new conversation whatever its dialogId.
            where = (*item.path, "body", "dialogId")
            sequence = _publish(conn, caller, conversation_id, body, now, item.path, where)
            replies.append(Reply(body={"sequence": sequence}, reqId=item.req_id))
    return replies


def send_request(
    conn: Connection, caller: Caller, item: Item, now: int, window_ms: int
) -> SendReply:
    """One SEND request."""
    body = item.body
    if isinstance(body, UserProfile):
        _set_profile(conn, caller, body, now, window_ms)
        return SendReply(reqId=item.req_id, body=PROFILE_OK)
    if isinstance(body, PublishEvent):
        conversation_id = body.dialogId or body.conversationId
        where = (*item.path, "body", "dialogId" if body.dialogId else "conversationId")
        if conversation_id is None:
            raise _bad(where, "dialogId (the conversation id) is required")
        sequence = _publish(conn, caller, conversation_id, body, now, item.path, where)
        return SendReply(reqId=item.req_id, body={"sequence": sequence})
    if isinstance(body, UpdateConversationField):
        where = (*item.path, "body", "conversationId")
        conversation = _own_conversation(conn, caller, body.conversationId, where)
        message = _update_fields(conn, conversation, body, now, item.path)
        return SendReply(reqId=item.req_id, body=message)
    raise _bad(
        (*item.path, "type"),
        "SEND takes ms.PublishEvent, cm.UpdateConversationField or "
        "userprofile.SetUserProfile; conversations are requested with CONVERSATION",
    )


def _set_profile(
    conn: Connection, caller: Caller, body: UserProfile, now: int, window_ms: int
) -> list[Entry]:
    """Store the profile; the authenticated SDEs it carried, as recorded."""
    account_id, consumer = caller.account_id, caller.consumer
    profile = msgspec.to_builtins(msgspec.structs.replace(body, authenticatedData=None))
    # A new consumer, or one registered without a profile, takes this one in one statement; a
    # consumer with a profile is read, and written only when this one brings something new. (An
    # empty profile must not be stored over none: it is merged, and then there is nothing new.)
    if not profile or not store.first_profile(conn, _consumer(caller, None, profile, now)):
        existing = store.get_consumer(conn, account_id, consumer.consumer_id)
        known = (existing.profile or {}) if existing else {}
        merged = {**known, **profile}
        if existing is None or merged != known:  # else nothing new: no row to rewrite
            store.put_consumer(conn, _consumer(caller, existing, merged, now), update=("profile",))
    sdes = body.authenticatedData.lp_sdes if body.authenticatedData else None
    if sdes:
        origin = Origin(
            source="connector",
            authenticated=True,
            actor=caller.client_id,
            consumer_id=consumer.consumer_id,
            request_id=caller.request_id,
        )
        return record(conn, account_id, sdes, origin, now_ms=now, window_ms=window_ms)
    return []


def _consumer(
    caller: Caller, existing: store.Consumer | None, profile: dict[str, Any], now: int
) -> store.Consumer:
    consumer = caller.consumer
    return store.Consumer(
        account_id=caller.account_id,
        consumer_id=consumer.consumer_id,
        ext_consumer_id=consumer.ext_consumer_id,
        acr=consumer.acr,
        claims=existing.claims if existing else None,
        profile=profile,
        created_ms=now,
        updated_ms=now,
    )


def _open(
    conn: Connection,
    caller: Caller,
    body: ConversationRequest,
    conversation_id: str,
    now: int,
    path: Path,
    window_ms: int,
    recorded: Sequence[Entry] = (),
) -> Conversation:
    """Open the conversation; ``recorded`` are SDEs the same batch stored before it."""
    account_id, consumer_id = caller.account_id, caller.consumer.consumer_id
    if body.brandId != account_id:
        raise _bad(
            (*path, "body", "brandId"),
            f"brandId must be the account id {account_id!r}, got {body.brandId!r}",
        )
    existing = store.open_conversation_of(conn, account_id, consumer_id)
    if existing is not None:
        raise _bad(
            path,
            "the consumer already has an open conversation "
            f"({existing.conversation_id}); close it first",
        )
    context = body.conversationContext
    campaign = body.campaignInfo
    skill_id = None if body.skillId in (None, "-1") else body.skillId
    compiled = campaigns.current(conn, account_id)
    if compiled is not None and skill_id is None and campaign is not None:
        # A conversation from an engagement is routed to that engagement's skill.
        found = campaigns.engagement_of(compiled, campaign.engagementId)
        if found is not None:
            skill_id = found[1]
    conversation = Conversation(
        account_id=account_id,
        conversation_id=conversation_id,
        consumer_id=consumer_id,
        state="OPEN",
        created_ms=now,
        app_id=caller.client_id,
        skill_id=skill_id,
        campaign_id=campaign.campaignId if campaign else None,
        engagement_id=campaign.engagementId if campaign else None,
        visitor_id=context.visitorId if context else None,
        session_id=context.sessionId if context else None,
        context=msgspec.to_builtins(context) if context else None,
        ttr=body.ttrDefName,
        channel_type=body.channelType or "MESSAGING",
        client_properties=caller.client_properties,
    )
    store.add_conversation(conn, conversation)
    store.add_dialog(
        conn,
        Dialog(
            account_id=account_id,
            dialog_id=conversation_id,
            conversation_id=conversation_id,
            dialog_type="MAIN",
            state="OPEN",
            created_ms=now,
        ),
    )
    store.add_participant(
        conn,
        Participant(
            account_id=account_id,
            conversation_id=conversation_id,
            participant_id=consumer_id,
            role="CONSUMER",
            joined_ms=now,
        ),
    )
    # SDEs reported up to the attribution window before the start belong to it.
    seqs = events.seqs_in_window(
        conn,
        account_id,
        consumer_id=consumer_id,
        visitor_id=conversation.visitor_id,
        session_id=conversation.session_id,
        since_ms=now - window_ms,
        until_ms=now,
    )
    events.attribute(conn, account_id, conversation_id, seqs)
    if seqs:  # the window's SDEs are searchable with the conversation from now on
        known = {e.meta.seq: e for e in recorded}
        attributed = (
            [known[s] for s in seqs]
            if all(s in known for s in seqs)  # (a new consumer's first conversation)
            else events.for_conversation(conn, account_id, conversation_id)
        )
        history_store.index_terms(
            conn,
            account_id,
            [conversation_id],
            attributed,
            started={conversation_id: conversation.created_ms},
        )
    visitor_id, session_id = conversation.visitor_id, conversation.session_id
    if compiled is not None and visitor_id and session_id:
        if visits.get_visit(conn, account_id, visitor_id, session_id) is not None:
            # A conversation in a visit may reach its goals ("interact with visitors").
            model = campaigns.visit_model(conn, account_id, visitor_id, session_id)
            campaigns.record_goals(
                conn, account_id, model, compiled, (), now_ms=now, source="connector"
            )
    return conversation


def _own_conversation(
    conn: Connection, caller: Caller, conversation_id: str, where: Path
) -> Conversation:
    conversation = store.get_conversation(conn, caller.account_id, conversation_id)
    if conversation is None or conversation.consumer_id != caller.consumer.consumer_id:
        raise _bad(where, f"no conversation {conversation_id!r} for this consumer")
    return conversation


def _publish(
    conn: Connection,
    caller: Caller,
    conversation_id: str,
    body: PublishEvent,
    now: int,
    path: Path,
    where_id: Path,
) -> int:
    """Store an event in the caller's open conversation; its sequence (0 for chat states).

    The hot case is one UPDATE that checks ownership and state while it takes the sequence;
    only when it matches nothing is the conversation read, to say why."""
    account_id, consumer_id = caller.account_id, caller.consumer.consumer_id
    event = body.event
    where = (*path, "body", "event")
    if isinstance(event, ChatStateEvent):
        # Chat states are not part of the transcript and take no sequence (LivePerson
        # answers them with sequence 0).
        if not store.set_chat_state(conn, account_id, conversation_id, consumer_id,
                                    event.chatState):  # fmt: skip
            raise _unusable(conn, caller, conversation_id, where_id, where)
        return 0
    check_event(event, where)
    if isinstance(event, AcceptStatusEvent):
        current = store.get_conversation(conn, account_id, conversation_id)
        if current is None or current.consumer_id != consumer_id or current.state != "OPEN":
            raise _unusable(conn, caller, conversation_id, where_id, where)
        for i, seq in enumerate(event.sequenceList):
            if seq > current.last_sequence:
                raise _bad((*where, "sequenceList", i), f"no message with sequence {seq}")
    sequence = store.take_sequence(conn, account_id, conversation_id, consumer_id)
    if sequence is None:
        raise _unusable(conn, caller, conversation_id, where_id, where)
    store.add_message(
        conn,
        Message(
            account_id=account_id,
            conversation_id=conversation_id,
            sequence=sequence,
            dialog_id=conversation_id,
            participant_id=consumer_id,
            role="CONSUMER",
            event_type=type(event).__name__,
            event=msgspec.to_builtins(event),
            server_ms=now,
        ),
    )
    return sequence


def _unusable(
    conn: Connection, caller: Caller, conversation_id: str, where_id: Path, where_event: Path
) -> BadRequest:
    """Why an event cannot go into a conversation: not the caller's, or closed."""
    _own_conversation(conn, caller, conversation_id, where_id)
    return _bad(where_event, f"conversation {conversation_id} is closed")


def _update_fields(
    conn: Connection,
    conversation: Conversation,
    body: UpdateConversationField,
    now: int,
    path: Path,
) -> str:
    account_id, conversation_id = conversation.account_id, conversation.conversation_id
    done = []
    for i, field in enumerate(body.fields()):
        where = (*path, "body", "conversationField", i)
        if conversation.state != "OPEN":
            raise _bad(where, f"conversation {conversation_id} is already closed")
        if isinstance(field, StateChange):
            store.close(conn, account_id, conversation_id, now, "CONSUMER")
            conversation.state = "CLOSE"
            done.append("Conversation closed")
        elif isinstance(field, TTRChange):
            store.update_conversation(conn, account_id, conversation_id, ttr=field.ttrType)
            done.append("TTR updated")
        elif isinstance(field, CsatChange):
            store.update_conversation(
                conn, account_id, conversation_id, csat=msgspec.to_builtins(field)
            )
            done.append("CSAT updated")
        elif isinstance(field, SkillChange):
            store.update_conversation(conn, account_id, conversation_id, skill_id=field.skill)
            done.append("Skill updated")
    return "OK " + ", ".join(done)


def conversation_from_json(
    conn: Connection, caller: CallerTuple, body: bytes, conversation_id: str, now: int,
    window_ms: int,
) -> bytes:  # fmt: skip
    # Decoded here only: the server's process passes the bytes on unread, so a CONVERSATION
    # is decoded once, in the writer (about a fifth of the server process's CPU per request).
    items = decode_batch(body)
    check_batch_order(items)
    replies = create_conversation(
        conn, Caller.fromtuple(caller), items, conversation_id, now, window_ms
    )
    return msgspec.json.encode(replies)


def send_from_json(
    conn: Connection, caller: CallerTuple, body: bytes, now: int, window_ms: int
) -> bytes:
    reply = send_request(conn, Caller.fromtuple(caller), decode_single(body), now, window_ms)
    return msgspec.json.encode(reply)


def time_ordered_id(now_ms: int) -> str:
    """A conversation id: a UUID laid out as version 4 (as LivePerson's are), whose first 48 bits
    are the time. New conversations then land at the end of every index keyed by conversation,
    so a commit writes a few pages instead of one page per conversation per index."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = (
        (now_ms & (2**48 - 1)) << 80 | 0x4 << 76 | (rand >> 68) << 64 | 0b10 << 62
        | rand & (2**62 - 1)
    )  # fmt: skip
    return str(uuid.UUID(int=value))


def _bad(path: Path, message: str) -> BadRequest:
    return BadRequest.from_errors([FieldError(format_path(path), message)])
