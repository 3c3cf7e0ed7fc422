"""Publish/subscribe between the parts of one deployment: "this conversation changed".

:class:`Channels` fans messages out to the subscribers of this process; a :class:`Backend` carries
them between processes. The in-memory backend (one process) hands every publication straight
back; the Redis backend (:mod:`sdehub.channels_redis`) holds one pub/sub connection per process
and calls ``deliver`` from its reader task. Either way a process listens to a channel on the
backend only while at least one local subscriber wants it, so a publication nobody waits for
costs one dictionary lookup (in memory) or one PUBLISH (Redis).

Delivery is at most once and may be lost when a subscriber's buffer is full: the messages are
hints to re-read the store, never the data itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Protocol

Deliver = Callable[[str, bytes], None]

# A subscriber that falls this far behind loses messages rather than growing without bound.
BUFFER = 1000


class Backend(Protocol):
    """How publications travel between processes."""

    async def start(self, deliver: Deliver) -> None: ...
    async def publish(self, channel: str, data: bytes) -> None: ...
    async def listen(self, channel: str) -> None: ...
    async def unlisten(self, channel: str) -> None: ...
    async def sync(self) -> None:
        """Wait until what this process published so far has been delivered to it."""

    async def close(self) -> None: ...


class MemoryBackend:
    """One process: a publication is delivered to this process's subscribers only."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self._listening: set[str] = set()

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def publish(self, channel: str, data: bytes) -> None:
        if self._deliver is not None and channel in self._listening:
            self._deliver(channel, data)

    async def listen(self, channel: str) -> None:
        self._listening.add(channel)

    async def unlisten(self, channel: str) -> None:
        self._listening.discard(channel)

    async def sync(self) -> None:
        return None  # publish delivers before it returns

    async def close(self) -> None:
        self._deliver = None
        self._listening.clear()


class Subscriber:
    """One consumer of messages from the channels it has added (e.g. one websocket)."""

    def __init__(self, channels: Channels) -> None:
        self._channels = channels
        self.names: set[str] = set()
        self._queue: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue(BUFFER)

    async def add(self, *names: str) -> None:
        for name in names:
            if name not in self.names:
                self.names.add(name)
                await self._channels._join(name, self)

    async def remove(self, *names: str) -> None:
        for name in names:
            if name in self.names:
                self.names.discard(name)
                await self._channels._leave(name, self)

    async def close(self) -> None:
        await self.remove(*list(self.names))
        if self._queue.full():  # the end must get through: drop the oldest message for it
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def _put(self, channel: str, data: bytes) -> None:
        if not self._queue.full():
            self._queue.put_nowait((channel, data))

    async def get(self) -> tuple[str, bytes] | None:
        """The next message as (channel, data); None once closed."""
        return await self._queue.get()

    def pending(self) -> list[tuple[str, bytes]]:
        """The messages already waiting, without waiting for more (to handle a burst at once);
        the end of a closed subscriber stays queued for :meth:`get`."""
        found: list[tuple[str, bytes]] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                self._queue.put_nowait(None)
                break
            found.append(item)
        return found

    async def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]:
        while (item := await self.get()) is not None:
            yield item


class Channels:
    def __init__(self, backend: Backend | None = None) -> None:
        self.backend: Backend = backend or MemoryBackend()
        self._local: dict[str, set[Subscriber]] = {}
        # Deliveries are numbered: whoever built something from the store after delivery n knows
        # it reflects every write announced up to n (see sdehub.live.Models).
        self.sequence = 0
        self._delivered: dict[str, int] = {}

    async def start(self) -> None:
        await self.backend.start(self._deliver)

    async def close(self) -> None:
        for subscribers in list(self._local.values()):
            for subscriber in list(subscribers):
                await subscriber.close()
        await self.backend.close()

    async def publish(self, channel: str, data: bytes = b"") -> None:
        await self.backend.publish(channel, data)

    async def sync(self) -> None:
        """Wait until this process's publications so far have reached its subscribers."""
        await self.backend.sync()

    def subscriber(self) -> Subscriber:
        return Subscriber(self)

    def delivered(self, channel: str) -> int:
        """The number of the last delivery on ``channel`` (0: none while it was listened to)."""
        return self._delivered.get(channel, 0)

    def _deliver(self, channel: str, data: bytes) -> None:
        local = self._local.get(channel)
        if not local:
            return
        self.sequence += 1
        self._delivered[channel] = self.sequence
        for subscriber in local:
            subscriber._put(channel, data)

    async def _join(self, channel: str, subscriber: Subscriber) -> None:
        local = self._local.setdefault(channel, set())
        local.add(subscriber)
        if len(local) == 1:
            await self.backend.listen(channel)

    async def _leave(self, channel: str, subscriber: Subscriber) -> None:
        local = self._local.get(channel)
        if local is None:
            return
        local.discard(subscriber)
        if not local:
            del self._local[channel]
            self._delivered.pop(channel, None)
            await self.backend.unlisten(channel)


# --- the channel names of sdehub's notifications ---------------------------------------------


def conversation_channel(account_id: str, conversation_id: str) -> str:
    return f"conversation:{account_id}:{conversation_id}"


def consumer_channel(account_id: str, consumer_id: str) -> str:
    return f"consumer:{account_id}:{consumer_id}"


def visit_channel(account_id: str, visitor_id: str, session_id: str) -> str:
    return f"visit:{account_id}:{visitor_id}:{session_id}"


class Changes:
    """What the domain services call after a write commits: "the data of X changed".

    SDEs belong to conversations by consumer and by visit (see :mod:`sdehub.ingest`), so a
    writer that knows only the consumer or the visit announces that; a listener for a
    conversation listens to its conversation, consumer and visit channels."""

    def __init__(self, channels: Channels) -> None:
        self.channels = channels

    async def conversation(self, account_id: str, conversation_id: str) -> None:
        await self.channels.publish(conversation_channel(account_id, conversation_id))

    async def consumer(self, account_id: str, consumer_id: str) -> None:
        await self.channels.publish(consumer_channel(account_id, consumer_id))

    async def visit(self, account_id: str, visitor_id: str, session_id: str) -> None:
        await self.channels.publish(visit_channel(account_id, visitor_id, session_id))
