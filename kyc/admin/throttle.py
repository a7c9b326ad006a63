"""Sign-in throttling: per client address and per account, with backoff, before the hash.

Why not a hard lock: a lock that N wrong passwords trigger is a lock anyone can put on
any staff account, and answering it differently (423) from an unknown username tells
an attacker which usernames exist. Instead:

- per address: at most ``admin_sign_in_per_address_per_minute`` attempts in any minute;
- per username (existing or not, the same bookkeeping): after
  ``admin_lockout_threshold`` failures in a row, each further attempt must wait
  ``admin_backoff_base_s * 2**k`` seconds (k = failures past the threshold), at most
  ``admin_backoff_max_s``; a success resets it.

Both are checked before the password hash runs, so a refused attempt costs no argon2
run, and both answer the same ``staff_sign_in_throttled`` (429) for real and unknown
usernames. The worst an attacker can do to a colleague is make them wait
``admin_backoff_max_s`` between tries. In process memory (one service process).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kyc.access.limits import RateLimiter
from kyc.errors import KycError, error

__all__ = ["SignInThrottle"]


@dataclass
class _Failures:
    count: int
    last: float


class SignInThrottle:
    def __init__(
        self,
        *,
        per_address_per_minute: int,
        threshold: int,
        base_s: float,
        max_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.base_s = base_s
        self.max_s = max_s
        self.clock = clock
        self._addresses = RateLimiter(per_address_per_minute, clock=lambda: self.clock())
        self._accounts: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def wait_s(self, username: str) -> float:
        """Seconds until ``username`` may try again (0: now)."""
        with self._lock:
            f = self._accounts.get(username)
        if f is None or f.count < self.threshold:
            return 0.0
        delay = min(self.max_s, self.base_s * 2 ** (f.count - self.threshold))
        return max(0.0, f.last + delay - self.clock())

    def admit(self, address: str, username: str) -> None:
        """Count an attempt from ``address``; ``staff_sign_in_throttled`` if it must wait."""
        try:
            self._addresses.hit(address)
        except KycError as exc:
            raise error("staff_sign_in_throttled", retry_after_s=exc.detail["retry_after_s"]) from None
        wait = self.wait_s(username)
        if wait > 0:
            raise error("staff_sign_in_throttled", retry_after_s=round(wait, 2))

    def failed(self, username: str) -> None:
        with self._lock:
            f = self._accounts.get(username)
            self._accounts[username] = _Failures((f.count if f else 0) + 1, self.clock())
            if len(self._accounts) > 100_000:  # bounded: forget the oldest half
                for key in sorted(self._accounts, key=lambda k: self._accounts[k].last)[:50_000]:
                    del self._accounts[key]

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._accounts.pop(username, None)
