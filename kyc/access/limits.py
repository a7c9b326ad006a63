"""Rate limits: a token bucket per API key (requests per minute), in shared state
(process memory by default, Redis when ``KYC_REDIS_URL`` is set: see ``kyc.fleet.state``).

Per-subject failure limits are counted from the database instead (see
``kyc.verification.service``), so they hold across processes and restarts.
"""

from __future__ import annotations

import time

from kyc.errors import error
from kyc.fleet.state import MemoryState, SharedState

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, clock=time.monotonic, state: SharedState | None = None) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst or max(1, per_minute // 6))
        self.state = state if state is not None else MemoryState(clock=clock)

    def hit(self, key: str) -> None:
        """Take one token for ``key`` or raise ``rate_limited`` with the seconds to wait."""
        wait = self.state.token_bucket("rate:" + key, self.capacity, self.rate)
        if wait is not None:
            raise error("rate_limited", retry_after_s=round(wait, 2))
