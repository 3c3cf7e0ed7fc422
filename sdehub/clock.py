"""Time is a parameter: domain code asks a clock, tests and the emulator move one by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the epoch."""
        ...


class SystemClock:
    """Wall-clock time, optionally shifted forward (emulator mode can advance time)."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("time only moves forward")
        self.offset_ms += ms


class ManualClock:
    """A clock that stands still until told to move: for tests."""

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:  # 2026-01-01T00:00:00Z
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += ms

    def tick(self, ms: int = 1) -> int:
        """Advance and return the new time (handy for strictly increasing timestamps)."""
        self.advance(ms)
        return self.now_ms()
