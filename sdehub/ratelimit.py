"""Request rate limits per app installation, answered with each API's documented 429.

Uses the ``limits`` library's sliding window counter (two counters per key: constant cost per
request, unlike a moving window that keeps one timestamp per request), in process memory by
default; a Redis storage URI shares the windows between workers.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from sdehub.errors import TooManyRequests


class RateLimiter:
    def __init__(self, default: str, storage_uri: str = "memory://") -> None:
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
