"""Token buckets: a learner may start `burst` runs at once, then `per_minute` runs a minute."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = per_minute / 60.0, float(burst), clock
        self.buckets: dict[str, Bucket] = {}

    def take(self, key: str) -> float:
        """0 when allowed (one token taken), else the seconds until the next one is there."""
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        if len(self.buckets) > 10_000:
            self._forget_full(now)
        return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [
            k for k, b in self.buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst
        ]
        for key in full:
            del self.buckets[key]
