"""Rate limits: a token bucket per API key (requests per minute), in process memory.

Per-subject failure limits are counted from the database instead (see
``kyc.verification.service``), so they hold across processes and restarts.
"""

from __future__ import annotations

import threading
import time

from kyc.errors import error

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, clock=time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst or max(1, per_minute // 6))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Take one token for ``key`` or raise ``rate_limited`` with the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise error("rate_limited", retry_after_s=round((1.0 - tokens) / self.rate, 2))
            self._buckets[key] = (tokens - 1.0, now)
