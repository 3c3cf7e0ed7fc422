"""Request rate limits per app installation, answered with each API's documented 429.

Uses the ``limits`` library's sliding window counter (two counters per key: constant cost per
request, unlike a moving window that keeps one timestamp per request). The counters live in
process memory by default (:class:`LoopStorage`); a Redis storage URI shares the windows between
workers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from limits import parse
from limits.storage import Storage, storage_from_string
from limits.storage.base import SlidingWindowCounterSupport, TimestampedSlidingWindow
from limits.strategies import SlidingWindowCounterRateLimiter

from sdehub.errors import TooManyRequests

MEMORY = "sdehub-memory://"


class RateLimiter:
    def __init__(self, default: str, storage_uri: str = MEMORY) -> None:
        self.default = parse(default)
        self._limiter = SlidingWindowCounterRateLimiter(storage_from_string(storage_uri))
        self._parsed: dict[str, object] = {}

    def hit(self, key: str, limit: str | None = None, *, lp_code: int | None = None) -> None:
        """Count one request for ``key``; raise :class:`TooManyRequests` past the limit."""
        item = self.default if not limit else self._item(limit)
        if self._limiter.hit(item, key):  # type: ignore[arg-type]
            return
        reset, _remaining = self._limiter.get_window_stats(item, key)  # type: ignore[arg-type]
        retry_after = max(1, math.ceil(reset - time.time()))
        raise TooManyRequests(
            f"rate limit of {item} exceeded; retry in {retry_after} s",
            retry_after=retry_after,
            lp_code=lp_code,
        )

    def _item(self, limit: str) -> object:
        item = self._parsed.get(limit)
        if item is None:
            item = self._parsed[limit] = parse(limit)
        return item


class LoopStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """Counters in process memory for the requests of one event loop (``sdehub-memory://``).

    ``limits``' own ``memory://`` storage starts a timer thread every 10 ms while requests come,
    to drop expired counters: a thread start and a sweep of every key under the GIL, a tenth of
    the server's CPU per Connector request (docs/benchmarks.md). Here an expired counter is
    dropped when it is read, and the rest at most once per ``SWEEP_EVERY`` seconds, by the
    request that finds the sweep due. No locks: every call comes from the event loop's thread.
    """

    STORAGE_SCHEME = ["sdehub-memory"]
    SWEEP_EVERY = 10.0

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] = time.time,
        **options: Any,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._expires: dict[str, float] = {}
        self._sweep_at = clock() + self.SWEEP_EVERY

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def _live(self, key: str, now: float) -> int:
        if self._expires.get(key, 0.0) <= now:
            self._counts.pop(key, None)
            self._expires.pop(key, None)
            return 0
        return self._counts.get(key, 0)

    def _sweep(self, now: float) -> None:
        if now < self._sweep_at:
            return
        self._sweep_at = now + self.SWEEP_EVERY
        for key in [k for k, at in self._expires.items() if at <= now]:
            self._counts.pop(key, None)
            self._expires.pop(key, None)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self._clock()
        self._sweep(now)
        count = self._live(key, now) + amount
        self._counts[key] = count
        if count == amount:  # a new counter: its window starts now
            self._expires[key] = now + expiry
        return count

    def get(self, key: str) -> int:
        return self._live(key, self._clock())

    def get_expiry(self, key: str) -> float:
        return self._expires.get(key, self._clock())

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        cleared = len(self._counts)
        self._counts.clear()
        self._expires.clear()
        return cleared

    def clear(self, key: str) -> None:
        self._counts.pop(key, None)
        self._expires.pop(key, None)

    def _window(self, key: str, expiry: int, now: float) -> tuple[str, int, float, int, float]:
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous = self._live(previous_key, now)
        # What is left of the previous window weighs its count; the current window's counter
        # lives for two windows, so it is the next one's "previous".
        previous_ttl = (1 - ((now - expiry) / expiry) % 1) * expiry if previous else 0.0
        current_ttl = (1 - (now / expiry) % 1) * expiry + expiry
        return current_key, previous, previous_ttl, self._live(current_key, now), current_ttl

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = self._clock()
        current_key, previous, previous_ttl, current, _ = self._window(key, expiry, now)
        if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
            return False
        self.incr(current_key, 2 * expiry, amount)
        return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        _, previous, previous_ttl, current, current_ttl = self._window(key, expiry, self._clock())
        return previous, previous_ttl, current, current_ttl

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        for k in self.sliding_window_keys(key, expiry, self._clock()):
            self.clear(k)
