"""Single-use active liveness sessions and where they live until used.

A session is a random challenge: an unguessable id and nonce and a random sequence of
two or three distinct actions, at least one of which moves the head (so the 3-D motion
check always has something to measure). It expires after :data:`SESSION_TTL_S`.
It is claimed once by the upload of the frames; its result is then kept, in memory
only, until the verification service takes it once (:meth:`SessionStore.take_result`).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from kyc.errors import error

if TYPE_CHECKING:
    from kyc.liveness._active import ActiveResult

__all__ = [
    "Action",
    "ACTIONS",
    "HEAD_ACTIONS",
    "LivenessSession",
    "SessionStore",
    "InMemorySessionStore",
    "random_actions",
    "new_session",
    "SESSION_TTL_S",
]

Action = Literal["blink", "turn_left", "turn_right", "nod", "open_mouth"]
ACTIONS: tuple[str, ...] = ("blink", "turn_left", "turn_right", "nod", "open_mouth")
HEAD_ACTIONS: frozenset[str] = frozenset({"turn_left", "turn_right", "nod"})
SESSION_TTL_S = 120.0  # seconds a session may wait for its frames
RESULT_TTL_S = 600.0  # seconds a finished session's result waits to be taken

SessionState = Literal["created", "claimed", "finished"]


def random_actions(rng: secrets.SystemRandom | None = None) -> list[str]:
    """Two or three distinct actions in random order, at least one moving the head."""
    rng = rng or secrets.SystemRandom()
    while True:
        n = rng.choice((2, 3))
        actions = rng.sample(ACTIONS, n)
        if HEAD_ACTIONS.intersection(actions):
            return actions


def new_session(actions: list[str] | None, now: datetime, ttl_s: float) -> LivenessSession:
    """A fresh session (unguessable id and nonce, the given or random actions) for every
    store, in memory or shared, so that they issue the same challenges."""
    if actions is not None and (not actions or any(a not in ACTIONS for a in actions)):
        raise ValueError(f"actions must be from {ACTIONS}")
    return LivenessSession(
        id=secrets.token_urlsafe(18),
        nonce=secrets.token_urlsafe(16),
        actions=list(actions) if actions is not None else random_actions(),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )


@dataclass(frozen=True)
class LivenessSession:
    id: str
    nonce: str
    actions: list[str]
    created_at: datetime
    expires_at: datetime
    state: SessionState = "created"

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.expires_at

    def public(self) -> dict[str, object]:
        """What the client is told: never the result, never internal state."""
        return {
            "id": self.id,
            "nonce": self.nonce,
            "actions": list(self.actions),
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


class SessionStore(Protocol):
    """Where sessions live. Implementations must make :meth:`claim` and
    :meth:`take_result` atomic: two concurrent calls, one winner."""

    def create_session(self, actions: list[str] | None = None) -> LivenessSession: ...

    def get(self, session_id: str) -> LivenessSession: ...

    def claim(self, session_id: str) -> LivenessSession: ...

    def finish(self, session_id: str, result: "ActiveResult") -> None: ...

    def take_result(self, session_id: str) -> "ActiveResult": ...


@dataclass
class _Entry:
    session: LivenessSession
    result: "ActiveResult | None" = None
    finished_at: datetime | None = None


@dataclass
class InMemorySessionStore:
    """Thread-safe, process-local store; nothing is ever written to disk.

    Expired sessions and untaken results are dropped lazily on each call. Several
    service processes need a shared store (e.g. Redis) behind the same protocol.
    """

    ttl_s: float = SESSION_TTL_S
    result_ttl_s: float = RESULT_TTL_S
    max_sessions: int = 10_000
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _purge(self, now: datetime) -> None:
        grace = timedelta(seconds=self.result_ttl_s)
        dead = [
            k
            for k, e in self._entries.items()
            if (e.session.state == "created" and now >= e.session.expires_at + grace)
            or (e.finished_at is not None and now >= e.finished_at + grace)
            or (e.session.state == "claimed" and now >= e.session.expires_at + grace)
        ]
        for k in dead:
            del self._entries[k]

    def create_session(self, actions: list[str] | None = None) -> LivenessSession:
        now = self._now()
        session = new_session(actions, now, self.ttl_s)
        with self._lock:
            self._purge(now)
            if len(self._entries) >= self.max_sessions:
                raise error("rate_limited", "Too many open liveness sessions.")
            self._entries[session.id] = _Entry(session)
        return session

    def _live_entry(self, session_id: str, now: datetime) -> _Entry:
        entry = self._entries.get(session_id)
        if entry is None:
            raise error("liveness_session_not_found")
        if entry.session.state != "created":
            raise error("liveness_session_used")
        if entry.session.expired(now):
            raise error("liveness_session_expired")
        return entry

    def get(self, session_id: str) -> LivenessSession:
        """The session if it can still be used (else the same errors as :meth:`claim`)."""
        with self._lock:
            return self._live_entry(session_id, self._now()).session

    def claim(self, session_id: str) -> LivenessSession:
        """Mark the session used and return it; a second claim gets ``liveness_session_used``."""
        now = self._now()
        with self._lock:
            self._purge(now)
            entry = self._live_entry(session_id, now)
            entry.session = replace(entry.session, state="claimed")
            return entry.session

    def finish(self, session_id: str, result: "ActiveResult") -> None:
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is None:
                raise error("liveness_session_not_found")
            if entry.session.state != "claimed":
                raise error("liveness_session_used")
            entry.session = replace(entry.session, state="finished")
            entry.result = result
            entry.finished_at = self._now()

    def take_result(self, session_id: str) -> "ActiveResult":
        """The finished session's result, once; then it is gone from memory."""
        with self._lock:
            self._purge(self._now())
            entry = self._entries.get(session_id)
            if entry is None or entry.result is None:
                raise error("liveness_result_not_found")
            result = entry.result
            entry.result = None
            return result
