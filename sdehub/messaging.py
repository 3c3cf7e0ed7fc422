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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from sdehub.clock import Clock
from sdehub.errors import BadRequest
from sdehub.ingest import HOUR_MS, record
from sdehub.model.messaging import (
    PROFILE_OK,
    AcceptStatusEvent,
    ChatStateEvent,
    ContentEvent,
    ConversationRequest,
    CsatChange,
    HostedFileMessage,
    PublishEvent,
    Reply,
    RichContentEvent,
    SendReply,
    SkillChange,
    StateChange,
    TTRChange,
    UpdateConversationField,
    UserProfile,
)
from sdehub.model.validation import FieldError, Path, format_path, validate
from sdehub.store import Database, events
from sdehub.store import conversations as store
from sdehub.store.conversations import Conversation, Dialog, Message, Participant
from sdehub.store.events import Origin
from sdehub.tokens import ConsumerClaims

Body = UserProfile | ConversationRequest | PublishEvent | UpdateConversationField


@dataclass(frozen=True)
class Caller:
    """Who is calling: the app installation, on behalf of which consumer."""

    account_id: str
    client_id: str
    consumer: ConsumerClaims
    request_id: str | None = None
    client_properties: dict[str, Any] | None = None


@dataclass(frozen=True)
class Item:
    """One request of a batch, already validated; ``path`` locates it in the request body."""

    req_id: str | int
    body: Body
    path: Path = ()


class Messaging:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        attribution_hours: int = 12,
        new_id: Callable[[int], str] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.window_ms = attribution_hours * HOUR_MS
        self.new_id = new_id or time_ordered_id

    async def conversation(self, caller: Caller, items: list[Item]) -> list[Reply]:
        check_batch_order(items)
        conversation_id = self.new_id(self._clock.now_ms())
        return await self._db.write(lambda c: self._create(c, caller, items, conversation_id))

    async def send(self, caller: Caller, item: Item) -> SendReply:
        return await self._db.write(lambda c: self._send(c, caller, item))

    # -- inside the write transaction -----------------------------------------------------

    def _create(
        self, conn: Connection, caller: Caller, items: list[Item], conversation_id: str
    ) -> list[Reply]:
        now = self._clock.now_ms()
        replies: list[Reply] = []
        conversation: Conversation | None = None
        for item in items:
            body = item.body
            if isinstance(body, UserProfile):
                self._set_profile(conn, caller, body, now, item.path)
                replies.append(Reply(body=PROFILE_OK, reqId=item.req_id))
            elif isinstance(body, ConversationRequest):
                conversation = self._open(conn, caller, body, conversation_id, now, item.path)
                replies.append(Reply(body={"conversationId": conversation_id}, reqId=item.req_id))
            elif isinstance(body, PublishEvent) and conversation is not None:
                # In the batch, the event goes to the new conversation whatever its dialogId.
                where = (*item.path, "body", "dialogId")
                sequence = self._publish(conn, caller, conversation_id, body, now, item.path, where)
                replies.append(Reply(body={"sequence": sequence}, reqId=item.req_id))
        return replies

    def _send(self, conn: Connection, caller: Caller, item: Item) -> SendReply:
        now = self._clock.now_ms()
        body = item.body
        if isinstance(body, UserProfile):
            self._set_profile(conn, caller, body, now, item.path)
            return SendReply(reqId=item.req_id, body=PROFILE_OK)
        if isinstance(body, PublishEvent):
            conversation_id = body.dialogId or body.conversationId
            where = (*item.path, "body", "dialogId" if body.dialogId else "conversationId")
            if conversation_id is None:
                raise _bad(where, "dialogId (the conversation id) is required")
            sequence = self._publish(conn, caller, conversation_id, body, now, item.path, where)
            return SendReply(reqId=item.req_id, body={"sequence": sequence})
        if isinstance(body, UpdateConversationField):
            where = (*item.path, "body", "conversationId")
            conversation = self._own_conversation(conn, caller, body.conversationId, where)
            message = self._update_fields(conn, conversation, body, now, item.path)
            return SendReply(reqId=item.req_id, body=message)
        raise _bad(
            (*item.path, "type"),
            "SEND takes ms.PublishEvent, cm.UpdateConversationField or "
            "userprofile.SetUserProfile; conversations are requested with CONVERSATION",
        )

    def _set_profile(
        self, conn: Connection, caller: Caller, body: UserProfile, now: int, path: Path
    ) -> None:
        account_id, consumer = caller.account_id, caller.consumer
        profile = msgspec.to_builtins(msgspec.structs.replace(body, authenticatedData=None))
        existing = store.get_consumer(conn, account_id, consumer.consumer_id)
        known = (existing.profile or {}) if existing else {}
        merged = {**known, **profile}
        if existing is None or merged != known:  # else nothing new: no row to rewrite
            self._put_consumer(conn, caller, existing, merged, now)
        sdes = body.authenticatedData.lp_sdes if body.authenticatedData else None
        if sdes:
            origin = Origin(
                source="connector",
                authenticated=True,
                actor=caller.client_id,
                consumer_id=consumer.consumer_id,
                request_id=caller.request_id,
            )
            record(conn, account_id, sdes, origin, now_ms=now, window_ms=self.window_ms)

    @staticmethod
    def _put_consumer(
        conn: Connection,
        caller: Caller,
        existing: store.Consumer | None,
        profile: dict[str, Any],
        now: int,
    ) -> None:
        account_id, consumer = caller.account_id, caller.consumer
        store.put_consumer(
            conn,
            store.Consumer(
                account_id=account_id,
                consumer_id=consumer.consumer_id,
                ext_consumer_id=consumer.ext_consumer_id,
                acr=consumer.acr,
                claims=existing.claims if existing else None,
                profile=profile,
                created_ms=now,
                updated_ms=now,
            ),
            update=("profile",),
        )

    def _open(
        self,
        conn: Connection,
        caller: Caller,
        body: ConversationRequest,
        conversation_id: str,
        now: int,
        path: Path,
    ) -> Conversation:
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
        conversation = Conversation(
            account_id=account_id,
            conversation_id=conversation_id,
            consumer_id=consumer_id,
            state="OPEN",
            created_ms=now,
            app_id=caller.client_id,
            skill_id=None if body.skillId in (None, "-1") else body.skillId,
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
            since_ms=now - self.window_ms,
            until_ms=now,
        )
        events.attribute(conn, account_id, conversation_id, seqs)
        return conversation

    def _own_conversation(
        self, conn: Connection, caller: Caller, conversation_id: str, where: Path
    ) -> Conversation:
        conversation = store.get_conversation(conn, caller.account_id, conversation_id)
        if conversation is None or conversation.consumer_id != caller.consumer.consumer_id:
            raise _bad(where, f"no conversation {conversation_id!r} for this consumer")
        return conversation

    def _publish(
        self,
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
                raise self._unusable(conn, caller, conversation_id, where_id, where)
            return 0
        check_event(event, where)
        if isinstance(event, AcceptStatusEvent):
            current = store.get_conversation(conn, account_id, conversation_id)
            if current is None or current.consumer_id != consumer_id or current.state != "OPEN":
                raise self._unusable(conn, caller, conversation_id, where_id, where)
            for i, seq in enumerate(event.sequenceList):
                if seq > current.last_sequence:
                    raise _bad((*where, "sequenceList", i), f"no message with sequence {seq}")
        sequence = store.take_sequence(conn, account_id, conversation_id, consumer_id)
        if sequence is None:
            raise self._unusable(conn, caller, conversation_id, where_id, where)
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
        self, conn: Connection, caller: Caller, conversation_id: str, where_id: Path,
        where_event: Path,
    ) -> BadRequest:  # fmt: skip
        """Why an event cannot go into a conversation: not the caller's, or closed."""
        self._own_conversation(conn, caller, conversation_id, where_id)
        return _bad(where_event, f"conversation {conversation_id} is closed")

    def _update_fields(
        self,
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
                store.update_conversation(
                    conn,
                    account_id,
                    conversation_id,
                    state="CLOSE",
                    closed_ms=now,
                    close_reason="CONSUMER",
                )
                store.close_dialogs(conn, account_id, conversation_id, now)
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


def check_batch_order(items: list[Item]) -> None:
    """SetUserProfile first, then exactly one ConsumerRequestConversation, then PublishEvents."""
    errors: list[FieldError] = []
    kinds = [type(i.body) for i in items]
    if ConversationRequest not in kinds:
        errors.append(FieldError("$", "the batch needs a cm.ConsumerRequestConversation request"))
    elif kinds.count(ConversationRequest) > 1:
        second = [i for i, k in enumerate(kinds) if k is ConversationRequest][1]
        errors.append(
            FieldError(f"$[{second}].type", "only one cm.ConsumerRequestConversation per batch")
        )
    if UserProfile not in kinds:
        errors.append(
            FieldError(
                "$",
                "the batch needs a userprofile.SetUserProfile request "
                "before cm.ConsumerRequestConversation (its body may be {})",
            )
        )
    if not errors:
        at = kinds.index(ConversationRequest)
        for i, kind in enumerate(kinds):
            if kind is UserProfile and i > at:
                errors.append(
                    FieldError(
                        f"$[{i}].type",
                        "userprofile.SetUserProfile must come "
                        "before cm.ConsumerRequestConversation",
                    )
                )
            elif kind is PublishEvent and i < at:
                errors.append(
                    FieldError(
                        f"$[{i}].type",
                        "ms.PublishEvent must come after cm.ConsumerRequestConversation",
                    )
                )
            elif kind is UpdateConversationField:
                errors.append(
                    FieldError(
                        f"$[{i}].type",
                        "cm.UpdateConversationField is a SEND "
                        "request, not part of the CONVERSATION batch",
                    )
                )
    if errors:
        raise BadRequest.from_errors(errors)


def check_event(event: ContentEvent | RichContentEvent | AcceptStatusEvent, where: Path) -> None:
    """The message of a content event must match its content type."""
    if isinstance(event, ContentEvent):
        if event.contentType == "text/plain":
            if not isinstance(event.message, str) or not event.message:
                raise _bad((*where, "message"), "expected a non-empty string for text/plain")
        elif event.contentType in ("hosted/file", "HostedFile"):
            _, errors = validate(event.message, HostedFileMessage, (*where, "message"))
            if errors:
                raise BadRequest.from_errors(errors)
        elif event.message is None:
            raise _bad((*where, "message"), "is required")
    elif isinstance(event, RichContentEvent):
        if not isinstance(event.content or event.message, dict):
            raise _bad((*where, "content"), "expected the structured content object")


def _bad(path: Path, message: str) -> BadRequest:
    return BadRequest.from_errors([FieldError(format_path(path), message)])
