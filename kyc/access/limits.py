"""Rate limits: a sliding window per key (at most N requests in any 60 seconds), in memory.

A token bucket whose burst is a fraction of N lets through either less or (over a
window boundary) more than "N per minute"; a sliding log of the last N request times
says exactly what the README promises. Memory is O(N) per active key.

With a shared state (``kyc.fleet.state``, Redis when ``KYC_REDIS_URL`` is set) the same
window is kept there, so several API processes count one limit per key (issue 13).

Per-subject failure limits are counted from the database instead (see
``kyc.verification.service``), so they hold across processes and restarts.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from kyc.errors import error
from kyc.fleet.state import MemoryState, SharedState

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``per_minute`` hits per key within any ``window_s`` seconds."""

    def __init__(
        self, per_minute: int, window_s: float = 60.0, clock=time.monotonic, state: SharedState | None = None, name: str = "rate"
    ) -> None:
        self.limit = int(per_minute)
        self.window_s = float(window_s)
        self.clock = clock
        self.state = None if isinstance(state, MemoryState) else state  # memory: the code below
        self.name = name
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._hits.get(key)
        if times is None:
            times = self._hits[key] = deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _sweep(self, now: float) -> None:
        """Forget keys idle for a whole window (bounded memory under many addresses)."""
        if now - self._last_sweep < self.window_s:
            return
        self._last_sweep = now
        for key in [k for k, t in self._hits.items() if not t or t[-1] <= now - self.window_s]:
            del self._hits[key]

    def check(self, key: str) -> None:
        """Raise ``rate_limited`` if ``key`` is at its limit, without counting a hit."""
        if self.state is not None:
            wait = self.state.window_hit(f"{self.name}:{key}", self.limit, self.window_s, count=False)
            if wait is not None:
                raise error("rate_limited", retry_after_s=round(wait, 2))
            return
        now = self.clock()
        with self._lock:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                raise error("rate_limited", retry_after_s=round(times[0] + self.window_s - now, 2))

    def hit(self, key: str) -> None:
        """Count one hit for ``key`` or raise ``rate_limited`` with the seconds to wait."""
        if self.state is not None:
            wait = self.state.window_hit(f"{self.name}:{key}", self.limit, self.window_s)
            if wait is not None:
                raise error("rate_limited", retry_after_s=round(wait, 2))
            return
        now = self.clock()
        with self._lock:
            self._sweep(now)
            times = self._recent(key, now)
            if len(times) >= self.limit:
                raise error("rate_limited", retry_after_s=round(times[0] + self.window_s - now, 2))
            times.append(now)
