"""Staff accounts: creation, sign-in with lock-out, and the admin's account actions.

Failed sign-ins are throttled with backoff (``kyc.admin.throttle``), never answered with
a lock: unknown and real usernames get the same answer at the same cost (one argon2
run). An account an admin locked (``locked_until``) is refused with that same answer.
Every outcome is audited under the staff member's identity (an unknown username is
audited as ``anonymous`` without the name typed, which may be a mistyped password).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from kyc.admin.passwords import hash_password, needs_rehash, verify_password
from kyc.admin.throttle import SignInThrottle
from kyc.audit import append_audit
from kyc.config import Settings
from kyc.errors import error
from kyc.storage.admin_models import ROLES, StaffSession, StaffUser
from kyc.storage.db import Database
from kyc.storage.models import utcnow

__all__ = [
    "StaffAccount",
    "create_user",
    "sign_in",
    "list_users",
    "find_user",
    "unlock_user",
    "set_disabled",
    "set_role",
    "set_password",
    "staff_actor",
]

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def staff_actor(username: str) -> str:
    """The audit log's actor string for a staff member."""
    return f"staff:{username}"


@dataclass(frozen=True)
class StaffAccount:
    id: str
    username: str
    role: str
    disabled: bool
    locked_until: datetime | None
    failed_sign_ins: int
    created_at: datetime
    last_sign_in_at: datetime | None

    def locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())


def _account(u: StaffUser) -> StaffAccount:
    return StaffAccount(u.id, u.username, u.role, u.disabled, u.locked_until, u.failed_sign_ins, u.created_at, u.last_sign_in_at)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise error("validation_failed", f"role must be one of {', '.join(ROLES)}")


def create_user(db: Database, username: str, password: str, role: str, *, actor: str) -> StaffAccount:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise error("validation_failed", "A username is 2 to 64 characters: a-z, 0-9, dot, dash, underscore.")
    _check_role(role)
    hashed = hash_password(password)
    with db.session() as s:
        if s.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
            raise error("staff_user_exists")
        u = StaffUser(username=username, password_hash=hashed, role=role, disabled=False, failed_sign_ins=0)
        s.add(u)
        s.flush()
        append_audit(s, actor=actor, action="staff.create", target=f"staff:{u.id}", detail={"username": username, "role": role})
        return _account(u)


def sign_in(
    db: Database, settings: Settings, username: str, password: str, *, throttle: SignInThrottle | None = None, address: str = "unknown"
) -> StaffAccount:
    """The account for these credentials, or ``staff_sign_in_failed`` (the same for unknown
    users, wrong passwords, disabled and locked accounts) or ``staff_sign_in_throttled``
    (checked before the password hash runs)."""
    username = username.strip().lower()
    throttle_key = username[:64]
    if throttle is not None:
        throttle.admit(address, throttle_key)
    with db.session() as s:
        u = s.scalar(select(StaffUser).where(StaffUser.username == username)) if _USERNAME.match(username) else None
        stored = u.password_hash if u is not None else None
    ok = verify_password(stored, password)  # outside the transaction; unknown users verify a dummy hash
    now = utcnow()
    with db.session() as s:
        u = s.scalar(select(StaffUser).where(StaffUser.username == username)) if u is not None else None
        if u is None:
            append_audit(s, actor="anonymous", action="staff.sign_in_failed", detail={"reason": "unknown_user"})
        elif u.locked_until is not None and u.locked_until > now:
            append_audit(
                s, actor=staff_actor(u.username), action="staff.sign_in_refused", target=f"staff:{u.id}", detail={"reason": "locked"}
            )
        elif not ok or u.disabled:
            u.failed_sign_ins = (u.failed_sign_ins or 0) + (0 if ok else 1)
            detail: dict[str, object] = {"reason": "disabled" if ok else "bad_password", "failures": u.failed_sign_ins}
            append_audit(s, actor=staff_actor(u.username), action="staff.sign_in_failed", target=f"staff:{u.id}", detail=detail)
        else:
            u.failed_sign_ins = 0
            u.last_sign_in_at = now
            if needs_rehash(u.password_hash):
                u.password_hash = hash_password(password)
            append_audit(s, actor=staff_actor(u.username), action="staff.sign_in", target=f"staff:{u.id}", detail={"role": u.role})
            if throttle is not None:
                throttle.succeeded(throttle_key)
            return _account(u)
    # Raised after the commit, so the failure count and the audit entry are kept.
    if throttle is not None and not ok:
        throttle.failed(throttle_key)
    raise error("staff_sign_in_failed")


def list_users(db: Database) -> list[StaffAccount]:
    with db.session() as s:
        return [_account(u) for u in s.scalars(select(StaffUser).order_by(StaffUser.username)).all()]


def find_user(db: Database, username: str) -> StaffAccount:
    with db.session() as s:
        u = s.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
        if u is None:
            raise error("staff_user_not_found")
        return _account(u)


def _get(s, user_id: str) -> StaffUser:
    u = s.get(StaffUser, user_id)
    if u is None:
        raise error("staff_user_not_found")
    return u


def unlock_user(db: Database, user_id: str, *, actor: str) -> None:
    with db.session() as s:
        u = _get(s, user_id)
        u.locked_until, u.failed_sign_ins = None, 0
        append_audit(s, actor=actor, action="staff.unlock", target=f"staff:{u.id}")


def set_disabled(db: Database, user_id: str, disabled: bool, *, actor: str) -> None:
    """Disable (ending every session of the account) or re-enable an account."""
    with db.session() as s:
        u = _get(s, user_id)
        if actor == staff_actor(u.username) and disabled:
            raise error("validation_failed", "You cannot disable your own account.")
        u.disabled = disabled
        if disabled:
            s.execute(delete(StaffSession).where(StaffSession.user_id == u.id))
        append_audit(s, actor=actor, action="staff.disable" if disabled else "staff.enable", target=f"staff:{u.id}")


def set_role(db: Database, user_id: str, role: str, *, actor: str) -> None:
    """Change a role; the account's sessions end, so the new role applies from its next sign-in."""
    _check_role(role)
    with db.session() as s:
        u = _get(s, user_id)
        if actor == staff_actor(u.username):
            raise error("validation_failed", "You cannot change your own role.")
        old, u.role = u.role, role
        s.execute(delete(StaffSession).where(StaffSession.user_id == u.id))
        append_audit(s, actor=actor, action="staff.role", target=f"staff:{u.id}", detail={"from": old, "to": role})


def set_password(db: Database, user_id: str, password: str, *, actor: str) -> None:
    hashed = hash_password(password)
    with db.session() as s:
        u = _get(s, user_id)
        u.password_hash = hashed
        s.execute(delete(StaffSession).where(StaffSession.user_id == u.id))
        append_audit(s, actor=actor, action="staff.password", target=f"staff:{u.id}")
