"""The channels contract: every backend passes the same suite (memory and Redis), then what only
the Redis backend does (prefixes, several processes, reconnection)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from sdehub.channels import BUFFER, Backend, Channels, MemoryBackend
from sdehub.channels_redis import ChannelsUnavailable, RedisBackend

pytestmark = pytest.mark.anyio


def make_backend(request: pytest.FixtureRequest, kind: str) -> Backend:
    if kind == "memory":
        return MemoryBackend()
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("channels_prefix")
    return RedisBackend(url, prefix)


@pytest.fixture(params=["memory", "redis"])
async def channels(request: pytest.FixtureRequest) -> AsyncIterator[Channels]:
    hub = Channels(make_backend(request, request.param))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.close()


async def next_message(sub: object) -> tuple[str, bytes] | None:
    get = sub.get  # type: ignore[attr-defined]
    result: tuple[str, bytes] | None = await asyncio.wait_for(get(), 2)
    return result


async def test_a_subscriber_gets_what_is_published_to_its_channels(channels: Channels) -> None:
    sub = channels.subscriber()
    await sub.add("a", "b")
    await channels.publish("a", b"1")
    await channels.publish("c", b"ignored")
    await channels.publish("b", b"2")
    assert await next_message(sub) == ("a", b"1")
    assert await next_message(sub) == ("b", b"2")


async def test_every_subscriber_of_a_channel_gets_each_message(channels: Channels) -> None:
    first, second = channels.subscriber(), channels.subscriber()
    await first.add("a")
    await second.add("a")
    await channels.publish("a", b"x")
    assert await next_message(first) == ("a", b"x")
    assert await next_message(second) == ("a", b"x")


async def test_removed_channels_deliver_nothing_more(channels: Channels) -> None:
    sub, other = channels.subscriber(), channels.subscriber()
    await sub.add("a", "b")
    await other.add("a")
    await sub.remove("a")
    await channels.publish("a", b"gone")
    await channels.publish("b", b"kept")
    assert await next_message(sub) == ("b", b"kept")
    assert await next_message(other) == ("a", b"gone")


async def test_closing_ends_the_iteration(channels: Channels) -> None:
    sub = channels.subscriber()
    await sub.add("a")
    await channels.publish("a", b"1")
    await channels.sync()
    await sub.close()
    await channels.publish("a", b"after")
    await channels.sync()
    assert [m async for m in sub] == [("a", b"1")]


async def test_a_slow_subscriber_loses_messages_not_memory(channels: Channels) -> None:
    sub = channels.subscriber()
    await sub.add("a")
    for i in range(BUFFER + 10):
        await channels.publish("a", str(i).encode())
    await channels.sync()
    await sub.close()
    received = [m async for m in sub]
    assert len(received) == BUFFER - 1  # the end marker takes the last place
    assert received[0] == ("a", b"1")


async def test_publishing_with_no_subscriber_is_harmless(channels: Channels) -> None:
    await channels.publish("nobody", b"x")
    sub = channels.subscriber()
    await sub.add("nobody")
    await channels.publish("nobody", b"y")
    assert await next_message(sub) == ("nobody", b"y")


async def test_pending_takes_a_burst_without_waiting(channels: Channels) -> None:
    sub = channels.subscriber()
    await sub.add("a", "b")
    assert sub.pending() == []
    for name in ("a", "b", "a"):
        await channels.publish(name, b"")
    await channels.sync()
    assert sub.pending() == [("a", b""), ("b", b""), ("a", b"")]
    await channels.publish("a", b"1")
    await channels.sync()
    await sub.close()
    assert sub.pending() == [("a", b"1")]
    assert await next_message(sub) is None


# --- the Redis backend only -------------------------------------------------------------------


@pytest.fixture
async def hubs(redis_url: str, channels_prefix: str) -> AsyncIterator[list[Channels]]:
    """Three processes' worth of channels on one Redis: two of one deployment, one of another."""
    started = []
    try:
        for prefix in (channels_prefix, channels_prefix, channels_prefix + "other:"):
            hub = Channels(RedisBackend(redis_url, prefix))
            await hub.start()
            started.append(hub)
        yield started
    finally:
        for hub in started:
            await hub.close()


async def test_publications_reach_the_other_processes_of_the_deployment_only(
    hubs: list[Channels],
) -> None:
    here, there, elsewhere = hubs
    sub, stranger = there.subscriber(), elsewhere.subscriber()
    await sub.add("conversation:a:1")
    await stranger.add("conversation:a:1")
    await here.publish("conversation:a:1", b"x")
    assert await next_message(sub) == ("conversation:a:1", b"x")
    await elsewhere.sync()
    assert stranger.pending() == []


def kill_reader(url: str, backend: RedisBackend) -> int:
    """Drop the backend's connections the way a Redis restart or a network cut would."""
    admin = redis.Redis.from_url(url)
    try:
        killed = 0
        for client in admin.client_list():
            if client.get("name") == backend.client_name:
                killed += int(admin.client_kill_filter(_id=client["id"]))
        return killed
    finally:
        admin.close()


async def test_a_lost_connection_is_re_established_and_every_listener_told_to_re_read(
    redis_url: str, channels_prefix: str
) -> None:
    backend = RedisBackend(redis_url, channels_prefix)
    hub = Channels(backend)
    await hub.start()
    try:
        sub = hub.subscriber()
        await sub.add("a", "b")
        assert kill_reader(redis_url, backend) >= 1
        # Whatever was published during the outage is lost: each channel gets an empty hint.
        first, second = await next_message(sub), await next_message(sub)
        assert sorted([first, second]) == [("a", b""), ("b", b"")]  # type: ignore[type-var]
        assert backend.reconnects == 1
        await hub.publish("a", b"after")
        assert await next_message(sub) == ("a", b"after")
        await sub.add("c")
        await hub.publish("c", b"new")
        assert await next_message(sub) == ("c", b"new")
    finally:
        await hub.close()


async def test_an_unreachable_redis_fails_the_start_with_the_url(channels_prefix: str) -> None:
    from tests.conftest import free_port

    url = f"redis://user:secret@127.0.0.1:{free_port()}/0"
    hub = Channels(RedisBackend(url, channels_prefix))
    with pytest.raises(ChannelsUnavailable, match=r"redis://127\.0\.0\.1:\d+/0") as info:
        await hub.start()
    assert "secret" not in str(info.value)


async def test_deliveries_are_numbered_per_channel_while_listened_to() -> None:
    hub = Channels(MemoryBackend())
    await hub.start()
    try:
        sub = hub.subscriber()
        await sub.add("a", "b")
        await hub.publish("a")
        await hub.publish("nobody")  # no delivery, no number
        await hub.publish("b")
        assert (hub.delivered("a"), hub.delivered("b"), hub.sequence) == (1, 2, 2)
        await sub.remove("a")
        assert hub.delivered("a") == 0
    finally:
        await hub.close()
