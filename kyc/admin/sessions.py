"""Server-side staff sessions: the cookie holds a random token, the table its SHA-256.

A session ends at sign-out, after ``admin_session_idle_minutes`` without a request, after
``admin_session_max_hours`` in any case, and when its account is disabled or its role
or password changes. Each session has its own CSRF token for the forms it renders.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from kyc.audit import append_audit
from kyc.config import Settings
from kyc.storage.admin_models import StaffSession, StaffUser
from kyc.storage.db import Database
from kyc.storage.models import utcnow

__all__ = ["Staff", "open_session", "load_session", "close_session", "purge_sessions", "csrf_matches"]

# last_seen_at is written at most this often, so reading pages does not write every time.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member behind a request."""

    user_id: str
    username: str
    role: str
    session_id: str
    csrf_token: str

    @property
    def actor(self) -> str:
        return f"staff:{self.username}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Database, settings: Settings, user_id: str) -> tuple[str, Staff]:
    """A new session for the user: (cookie token, staff). The token is returned once, never stored."""
    purge_sessions(db, settings)  # sign-ins are rare: a good moment to drop abandoned sessions
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        u = s.get(StaffUser, user_id)
        row = StaffSession(
            id=_digest(token),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.admin_session_max_hours),
        )
        s.add(row)
        return token, Staff(u.id, u.username, u.role, row.id, row.csrf_token)


def load_session(db: Database, settings: Settings, token: str | None) -> Staff | None:
    """The staff member for a cookie token, or None when it is unknown, expired or disabled."""
    if not token or len(token) > 200:
        return None
    now = utcnow()
    with db.session() as s:
        row = s.get(StaffSession, _digest(token))
        if row is None:
            return None
        idle_limit = row.last_seen_at + timedelta(minutes=settings.admin_session_idle_minutes)
        u = s.get(StaffUser, row.user_id)
        if row.expires_at <= now or idle_limit <= now or u is None or u.disabled:
            s.delete(row)
            return None
        if now - row.last_seen_at >= _TOUCH_EVERY:
            row.last_seen_at = now
        return Staff(u.id, u.username, u.role, row.id, row.csrf_token)


def close_session(db: Database, staff: Staff) -> None:
    with db.session() as s:
        s.execute(delete(StaffSession).where(StaffSession.id == staff.session_id))
        append_audit(s, actor=staff.actor, action="staff.sign_out", target=f"staff:{staff.user_id}")


def purge_sessions(db: Database, settings: Settings) -> int:
    """Delete sessions past their absolute or idle limit; returns how many."""
    now = utcnow()
    idle_cut = now - timedelta(minutes=settings.admin_session_idle_minutes)
    with db.session() as s:
        return (
            s.execute(delete(StaffSession).where((StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= idle_cut))).rowcount
            or 0
        )


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())
