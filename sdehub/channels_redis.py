"""The Redis backend of :mod:`sdehub.channels`: publications travel between processes (N workers,
N machines) over Redis pub/sub.

Each process holds two clients: one whose pooled connections ``PUBLISH``, and one pub/sub
connection read by a single reader task that hands every message to ``deliver``. Channel names
get the deployment's ``prefix``, so deployments (and test runs) sharing one Redis never hear each
other.

When the pub/sub connection drops, the reader reconnects with a growing pause, subscribes again
to every channel this process listens to, and then delivers an empty message on each of them:
whatever was published meanwhile is lost, and the messages are hints to re-read the store, so
every listener re-reads once. A publication that cannot reach Redis is dropped with a warning;
the write it announces has committed and must not fail because of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from sdehub.channels import Deliver

log = logging.getLogger("sdehub.channels")

CONNECT_TIMEOUT_S = 5.0
# How long a publication or a subscription waits for Redis before giving up on it.
COMMAND_TIMEOUT_S = 5.0
RECONNECT_FIRST_S = 0.05
RECONNECT_MAX_S = 5.0


class ChannelsUnavailable(RuntimeError):
    """Redis could not be reached when the app started."""


class RedisBackend:
    def __init__(self, url: str, prefix: str = "sdehub:") -> None:
        self.url = url
        self.prefix = prefix
        # A name per process, so an operator (or a test) can tell this reader in CLIENT LIST.
        self.client_name = f"sdehub-channels-{uuid.uuid4().hex[:12]}"
        self._deliver: Deliver | None = None
        self._listening: set[str] = set()
        self._confirming: dict[str, asyncio.Future[None]] = {}
        self._publisher: Redis | None = None
        self._subscriber: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._syncs: dict[bytes, asyncio.Future[None]] = {}
        self._sync_channel = f"{prefix}sync:{self.client_name}"
        self.reconnects = 0

    def _client(self, retries: int) -> Redis:
        return Redis.from_url(
            self.url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            # The reader never retries on its own: its loop below reconnects and subscribes again.
            retry=Retry(NoBackoff(), retries),
            client_name=self.client_name,
        )

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        # One retry: a pooled connection that died while idle (a Redis restart) is replaced.
        self._publisher = self._client(retries=1)
        self._subscriber = self._client(retries=0)
        try:
            await asyncio.wait_for(self._publisher.ping(), CONNECT_TIMEOUT_S)
            pubsub = await self._connect()
        except (RedisError, OSError, TimeoutError) as exc:
            await self.close()
            raise ChannelsUnavailable(f"channels_url {self._safe_url()}: {exc}") from exc
        self._reader = asyncio.create_task(self._read(pubsub), name="sdehub-channels-redis")

    def _safe_url(self) -> str:
        scheme, sep, rest = self.url.partition("://")
        return f"{scheme}{sep}{rest.rpartition('@')[2]}"

    async def _connect(self) -> PubSub:
        assert self._subscriber is not None
        pubsub = self._subscriber.pubsub()
        await pubsub.subscribe(self._sync_channel, *(self.prefix + c for c in self._listening))
        self._pubsub = pubsub
        return pubsub

    async def _read(self, pubsub: PubSub) -> None:
        pause = RECONNECT_FIRST_S
        while True:
            try:
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None:
                        self._handle(message)
                        pause = RECONNECT_FIRST_S
            except (RedisError, OSError) as exc:
                log.warning("channels: Redis pub/sub connection lost (%s); reconnecting", exc)
            except Exception:  # a bug must not end the pushes of every socket of this worker
                log.exception("channels: reading Redis failed; reconnecting")
            self._pubsub = None
            await _discard(pubsub)
            while True:
                await asyncio.sleep(pause)
                pause = min(pause * 2, RECONNECT_MAX_S)
                try:
                    pubsub = await asyncio.wait_for(self._connect(), COMMAND_TIMEOUT_S)
                    break
                except (RedisError, OSError, TimeoutError) as exc:
                    log.warning("channels: Redis unreachable (%s); retrying in %.2fs", exc, pause)
            self.reconnects += 1
            log.info("channels: Redis pub/sub reconnected")
            if self._deliver is not None:
                for channel in list(self._listening):
                    self._deliver(channel, b"")

    def _handle(self, message: dict[str, Any]) -> None:
        kind, raw = message["type"], message["channel"]
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        if kind == "message":
            data: bytes = message["data"]
            if name == self._sync_channel:
                waiter = self._syncs.pop(data, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
            elif self._deliver is not None and name.startswith(self.prefix):
                self._deliver(name.removeprefix(self.prefix), data)
        elif kind == "subscribe":
            waiter = self._confirming.pop(name.removeprefix(self.prefix), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def publish(self, channel: str, data: bytes) -> None:
        assert self._publisher is not None, "channels not started"
        try:
            await asyncio.wait_for(
                self._publisher.publish(self.prefix + channel, data), COMMAND_TIMEOUT_S
            )
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("channels: publication on %s lost: %s", channel, exc)

    async def listen(self, channel: str) -> None:
        """Returns once Redis confirms the subscription (a publication after it is heard), or at
        once while disconnected (the reconnection subscribes to it)."""
        self._listening.add(channel)
        pubsub = self._pubsub
        if pubsub is None:
            return
        waiter = self._confirming.get(channel)
        if waiter is None:
            waiter = self._confirming[channel] = asyncio.get_running_loop().create_future()
        try:
            await pubsub.subscribe(self.prefix + channel)
            await asyncio.wait_for(asyncio.shield(waiter), COMMAND_TIMEOUT_S)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("channels: subscription to %s pending reconnection: %s", channel, exc)
        finally:
            if self._confirming.get(channel) is waiter and waiter.done():
                del self._confirming[channel]

    async def unlisten(self, channel: str) -> None:
        self._listening.discard(channel)
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            await pubsub.unsubscribe(self.prefix + channel)
        except (RedisError, OSError) as exc:
            # The reconnection subscribes only to what is still listened to.
            log.warning("channels: unsubscribing from %s failed: %s", channel, exc)

    async def sync(self) -> None:
        """Wait until what this process published so far has been delivered back to it."""
        assert self._publisher is not None, "channels not started"
        token = uuid.uuid4().bytes
        waiter = self._syncs[token] = asyncio.get_running_loop().create_future()
        try:
            await self._publisher.publish(self._sync_channel, token)
            await asyncio.wait_for(waiter, COMMAND_TIMEOUT_S)
        finally:
            self._syncs.pop(token, None)

    async def close(self) -> None:
        self._deliver = None
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            await _discard(self._pubsub)
            self._pubsub = None
        for client in (self._publisher, self._subscriber):
            if client is not None:
                await client.aclose(close_connection_pool=True)
        self._publisher = self._subscriber = None
        for waiter in [*self._confirming.values(), *self._syncs.values()]:
            if not waiter.done():  # let whoever waits go on (their end is near anyway)
                waiter.set_result(None)
        self._confirming.clear()
        self._syncs.clear()
        self._listening.clear()


async def _discard(pubsub: PubSub) -> None:
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()  # type: ignore[no-untyped-call]
