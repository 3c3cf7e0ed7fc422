"""The channels contract: every backend passes the same suite (only memory for now)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from sdehub.channels import BUFFER, Backend, Channels, MemoryBackend

pytestmark = pytest.mark.anyio

BACKENDS: dict[str, Callable[[], Backend]] = {"memory": MemoryBackend}


@pytest.fixture(params=sorted(BACKENDS))
async def channels(request: pytest.FixtureRequest) -> AsyncIterator[Channels]:
    hub = Channels(BACKENDS[request.param]())
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
    await sub.close()
    await channels.publish("a", b"after")
    assert [m async for m in sub] == [("a", b"1")]


async def test_a_slow_subscriber_loses_messages_not_memory(channels: Channels) -> None:
    sub = channels.subscriber()
    await sub.add("a")
    for i in range(BUFFER + 10):
        await channels.publish("a", str(i).encode())
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
    assert sub.pending() == [("a", b""), ("b", b""), ("a", b"")]
    await channels.publish("a", b"1")
    await sub.close()
    assert sub.pending() == [("a", b"1")]
    assert await next_message(sub) is None
