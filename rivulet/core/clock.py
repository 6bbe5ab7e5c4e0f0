"""An injectable clock, so expiry, TTL and retention are testable without sleeping."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time in epoch seconds; tests substitute a subclass whose time they move."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock(Clock):
    def __init__(self, start: float = 1_764_158_400.0) -> None:
        self._now = start
        self._mono = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds
