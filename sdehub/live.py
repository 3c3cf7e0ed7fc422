"""Live bindings to the public model: the widget SDK's ``get``/``bind``/``unbind`` (consume.md
§1.2-1.3) for one connected agent, independent of the transport (the websocket is in
:mod:`sdehub.api.live`).

Client messages (JSON, tagged by ``type``)::

    {"type": "auth",   "token": "<agent bearer>"}                       (when not in the URL)
    {"type": "get",    "id": ..., "conversationId": "...", "key": "SDE.customerDetails"}
    {"type": "bind",   "id": ..., "conversationId": "...", "key": "..."}
    {"type": "unbind", "id": ..., "conversationId": "...", "key": "..."}

Server messages::

    {"type": "ready",  "agentId": "..."}
    {"type": "result", "id": ..., "key": "...", "value": ...}
    {"type": "push",   "conversationId": "...", "key": "...", "newValue": ...}
    {"type": "ok",     "id": ...}                       (bind/unbind done: notifyWhenDone)
    {"type": "error",  "id": ..., "message": "..."}

A bind pushes the whole current value at once, then again on every change. Two documented
exceptions: ``chatTranscript.lines`` pushes only the lines added since the last push, and the
pseudo objects ``SDE`` and ``authenticatedData`` bind each of their children (one push per child,
keyed by the child's path).

Changes are learnt from :mod:`sdehub.channels`: for every conversation with a binding, the
session listens to the channels its data can change through (the conversation, its consumer, its
visit), and on a notification rebuilds the model and pushes what differs from the last push.
The sessions of one process share their models (:class:`Models`): a change read and built once
serves every client bound to the conversation, however many.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from sdehub import workspace
from sdehub.channels import (
    Channels,
    Subscriber,
    consumer_channel,
    conversation_channel,
    visit_channel,
)
from sdehub.errors import SdehubError
from sdehub.store import Database
from sdehub.store import accounts as account_store
from sdehub.store.conversations import Conversation

LINES = "chatTranscript.lines"
PSEUDO_OBJECTS = ("SDE", "authenticatedData")
MessageId = str | int | None


class Auth(msgspec.Struct, tag="auth", tag_field="type"):
    token: str


class Get(msgspec.Struct, tag="get", tag_field="type"):
    conversationId: str
    key: str
    id: MessageId = None


class Bind(msgspec.Struct, tag="bind", tag_field="type"):
    conversationId: str
    key: str
    id: MessageId = None


class Unbind(msgspec.Struct, tag="unbind", tag_field="type"):
    conversationId: str
    key: str
    id: MessageId = None


ClientMessage = Auth | Get | Bind | Unbind
_decoder = msgspec.json.Decoder(ClientMessage)


def decode(data: str | bytes) -> ClientMessage:
    """A client message; :class:`msgspec.ValidationError`/``DecodeError`` when malformed."""
    message: ClientMessage = _decoder.decode(data)
    return message


def leaves(model: dict[str, Any], key: str) -> list[str]:
    """The paths a bind of ``key`` watches (raises NotFound for a path the model lacks)."""
    value = workspace.select(model, key)
    if key in PSEUDO_OBJECTS and isinstance(value, dict):
        return [f"{key}.{child}" for child in value]
    return [key]


@dataclass
class Watched:
    """One conversation with bindings: its bound keys and what was last pushed for each leaf."""

    conversation: Conversation
    keys: set[str] = field(default_factory=set)
    sent: dict[str, Any] = field(default_factory=dict)

    def channels(self) -> list[str]:
        c = self.conversation
        names = [
            conversation_channel(c.account_id, c.conversation_id),
            consumer_channel(c.account_id, c.consumer_id),
        ]
        if c.visitor_id and c.session_id:
            names.append(visit_channel(c.account_id, c.visitor_id, c.session_id))
        return names


def delta(leaf: str, before: Any, now: Any) -> tuple[bool, Any]:
    """Whether ``leaf`` changed, and what to push for it."""
    if leaf == LINES and isinstance(before, list) and isinstance(now, list):
        known = {line.get("id") for line in before if isinstance(line, dict)}
        new = [line for line in now if isinstance(line, dict) and line.get("id") not in known]
        return bool(new), new
    return now != before, now


Send = Callable[[dict[str, Any]], Awaitable[None]]
Built = tuple[Conversation, dict[str, Any]]

# Models kept for the sessions that have yet to look at them (least recently asked dropped).
MODELS_KEPT = 1024


class Models:
    """The public models of this process's sessions, without ``agentInfo`` (the one part that
    depends on who looks: each session puts its agent's in).

    A session that heard of a change asks for a model built after that notification was
    delivered (:meth:`sdehub.channels.Channels.delivered`): a build started after the delivery
    read the store after the write it announces. So the first session to ask starts the read and
    every other session bound to the conversation awaits the same build, or finds it done."""

    def __init__(self, db: Database, channels: Channels) -> None:
        self._db = db
        self._channels = channels
        self._builds: OrderedDict[tuple[str, str], tuple[int, asyncio.Task[Built]]] = OrderedDict()
        self.reads = 0

    async def get(self, account_id: str, conversation_id: str, after: int | None) -> Built:
        """A model built after delivery number ``after``; None: a new one (nothing is known of
        the writes to a conversation no session listens to)."""
        key = (account_id, conversation_id)
        entry = self._builds.get(key)
        if entry is None or after is None or entry[0] < after:
            task = asyncio.create_task(self._build(account_id, conversation_id))
            task.add_done_callback(lambda t: self._built(key, t))
            entry = self._builds[key] = (self._channels.sequence, task)
            if len(self._builds) > MODELS_KEPT:
                self._builds.popitem(last=False)
        self._builds.move_to_end(key)
        # Shielded: a session that goes away must not cancel the others' build.
        return await asyncio.shield(entry[1])

    async def _build(self, account_id: str, conversation_id: str) -> Built:
        self.reads += 1
        snap = await workspace.snapshot(self._db, account_id, conversation_id, None)
        return snap.conversation, workspace.build(snap)

    def _built(self, key: tuple[str, str], task: asyncio.Task[Built]) -> None:
        if task.cancelled() or task.exception() is not None:  # never serve a failure again
            entry = self._builds.get(key)
            if entry is not None and entry[1] is task:
                del self._builds[key]


class Session:
    """The bindings of one connected agent."""

    def __init__(
        self,
        db: Database,
        channels: Channels,
        models: Models,
        account_id: str,
        agent_id: str,
        send: Send,
    ) -> None:
        self._db = db
        self._channels = channels
        self._models = models
        self._agent_info: dict[str, Any] | None = None
        self._account_id = account_id
        self._agent_id = agent_id
        self._send = send
        self._watched: dict[str, Watched] = {}
        self.subscriber: Subscriber = channels.subscriber()
        # Requests and notifications interleave at every await: one at a time keeps the
        # last-pushed values consistent.
        self._lock = asyncio.Lock()

    async def _model(self, conversation_id: str, after: int | None = None) -> Built:
        conversation, shared = await self._models.get(self._account_id, conversation_id, after)
        if self._agent_info is None:
            # Read once per connection: an agent's own details change rarely, and no notification
            # says so (a new connection shows the new ones).
            account_id, agent_id = self._account_id, self._agent_id
            agent = await self._db.read(lambda c: account_store.get_user(c, account_id, agent_id))
            self._agent_info = workspace.agent_info(account_id, agent)
        return conversation, workspace.as_seen_by(shared, self._agent_id, self._agent_info)

    async def handle(self, message: ClientMessage) -> None:
        async with self._lock:
            try:
                if isinstance(message, Get):
                    _, model = await self._model(message.conversationId)
                    value = workspace.select(model, message.key)
                    await self._send(
                        {"type": "result", "id": message.id, "key": message.key, "value": value}
                    )
                elif isinstance(message, Bind):
                    await self._bind(message)
                elif isinstance(message, Unbind):
                    await self._unbind(message)
                else:
                    await self.error(message_id=None, message="already authenticated")
            except SdehubError as exc:
                await self.error(message.id if not isinstance(message, Auth) else None, exc.message)

    async def error(self, message_id: MessageId, message: str) -> None:
        await self._send({"type": "error", "id": message_id, "message": message})

    async def _bind(self, message: Bind) -> None:
        conversation, model = await self._model(message.conversationId)
        paths = leaves(model, message.key)
        watched = self._watched.get(conversation.conversation_id)
        if watched is None:
            watched = self._watched[conversation.conversation_id] = Watched(conversation)
            await self.subscriber.add(*watched.channels())
        watched.keys.add(message.key)
        for leaf in paths:
            value = workspace.select(model, leaf)
            watched.sent[leaf] = value
            await self._push(conversation.conversation_id, leaf, value)
        await self._send({"type": "ok", "id": message.id})

    async def _unbind(self, message: Unbind) -> None:
        watched = self._watched.get(message.conversationId)
        if watched is None or message.key not in watched.keys:
            await self.error(message.id, f"{message.key!r} is not bound on that conversation")
            return
        watched.keys.discard(message.key)
        if not watched.keys:
            del self._watched[message.conversationId]
            await self.subscriber.remove(*watched.channels())
        await self._send({"type": "ok", "id": message.id})

    async def changed(self, channels: set[str]) -> None:
        """Notifications arrived: push what changed in the conversations they concern."""
        async with self._lock:
            for conversation_id, watched in list(self._watched.items()):
                if not channels.isdisjoint(watched.channels()):
                    await self._refresh(conversation_id, watched)

    async def _refresh(self, conversation_id: str, watched: Watched) -> None:
        after = max(self._channels.delivered(name) for name in watched.channels())
        try:
            _, model = await self._model(conversation_id, after)
        except SdehubError:
            return  # gone: nothing to push
        for key in sorted(watched.keys):
            try:
                paths = leaves(model, key)
            except SdehubError:
                continue
            for leaf in paths:
                value = workspace.select(model, leaf)
                changed, payload = delta(leaf, watched.sent.get(leaf), value)
                watched.sent[leaf] = value
                if changed:
                    await self._push(conversation_id, leaf, payload)

    async def _push(self, conversation_id: str, key: str, value: Any) -> None:
        await self._send(
            {"type": "push", "conversationId": conversation_id, "key": key, "newValue": value}
        )

    async def close(self) -> None:
        await self.subscriber.close()
