"""The in-process rate limit counters (sdehub.ratelimit.LoopStorage) decide as ``limits``' own
memory storage does, without its timer thread."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from sdehub.errors import TooManyRequests
from sdehub.ratelimit import LoopStorage, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 6),
    per=st.sampled_from(["second", "10 seconds", "minute"]),
    steps=st.lists(st.tuples(st.floats(0, 25), st.integers(1, 3), st.sampled_from("ab")),
                   max_size=40),
)  # fmt: skip
def test_decisions_and_window_stats_match_the_library_memory_storage(
    limit: int, per: str, steps: list[tuple[float, int, str]]
) -> None:
    clock = Clock()
    item = parse(f"{limit}/{per}")
    ours = SlidingWindowCounterRateLimiter(LoopStorage(clock=clock))
    library = MemoryStorage()
    theirs = SlidingWindowCounterRateLimiter(library)
    real_time = time.time
    time.time = clock  # the library storage and strategy read the wall clock
    try:
        for dt, amount, key in steps:
            clock.now += dt
            assert ours.hit(item, key, cost=amount) == theirs.hit(item, key, cost=amount)
            assert ours.get_window_stats(item, key) == theirs.get_window_stats(item, key)
    finally:
        time.time = real_time
        library.timer.cancel()


def test_expired_counters_are_swept_without_a_thread() -> None:
    clock = Clock()
    storage = LoopStorage(clock=clock)
    threads = threading.active_count()
    for i in range(100):
        storage.incr(f"k{i}", 1)
    assert storage.get("k0") == 1 and threading.active_count() == threads
    clock.now += 2
    assert storage.get("k0") == 0  # expired: dropped when read ...
    assert len(storage._counts) == 99  # ... the others stay until the sweep is due
    clock.now += LoopStorage.SWEEP_EVERY
    storage.incr("fresh", 5)
    assert storage._counts == {"fresh": 1}


def test_the_limiter_answers_429_with_retry_after() -> None:
    limiter = RateLimiter("2/minute")
    limiter.hit("acct:app")
    limiter.hit("acct:app")
    with pytest.raises(TooManyRequests) as raised:
        limiter.hit("acct:app")
    assert 1 <= raised.value.retry_after <= 120
    limiter.hit("acct:other")  # keys are counted apart
