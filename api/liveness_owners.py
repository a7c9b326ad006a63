"""Which client created which liveness session, and how many each may hold open.

The session store (``kyc.liveness``) knows sessions, not clients; this keeps the owner
beside it so that a session is only visible to the client that created it (another
client's id is ``liveness_session_not_found``, as if it did not exist) and so that one
client cannot fill the process-wide store for everyone: at most
``KYC_LIVENESS_SESSIONS_PER_CLIENT`` sessions created within one session lifetime.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kyc.errors import error

__all__ = ["SessionOwners"]


class SessionOwners:
    def __init__(self, per_client: int, ttl_s: float, keep_s: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_client = per_client
        self.ttl_s = ttl_s  # a session counts against the quota for this long
        self.keep_s = max(keep_s, ttl_s)  # ownership is remembered this long (results wait for the verification)
        self.clock = clock
        self._owner: dict[str, tuple[str, float]] = {}  # session id -> (client id, created)
        self._lock = threading.Lock()

    def _purge(self, now: float) -> None:
        for sid in [s for s, (_, t) in self._owner.items() if now - t > self.keep_s]:
            del self._owner[sid]

    def admit(self, client_id: str) -> None:
        """``liveness_quota_exceeded`` if the client already holds its quota of open sessions."""
        now = self.clock()
        with self._lock:
            self._purge(now)
            open_ = sum(1 for c, t in self._owner.values() if c == client_id and now - t < self.ttl_s)
            if open_ >= self.per_client:
                raise error("liveness_quota_exceeded", limit=self.per_client, retry_after_s=round(self.ttl_s, 1))

    def record(self, client_id: str, session_id: str) -> None:
        with self._lock:
            self._owner[session_id] = (client_id, self.clock())

    def check(self, client_id: str, session_id: str) -> None:
        """``liveness_session_not_found`` unless ``client_id`` created the session."""
        with self._lock:
            owner = self._owner.get(session_id)
        if owner is None or owner[0] != client_id:
            raise error("liveness_session_not_found")
