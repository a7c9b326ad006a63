"""Staff passwords: argon2id (argon2-cffi's RFC 9106 low-memory profile), never stored in clear."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kyc.errors import error

__all__ = ["hash_password", "verify_password", "needs_rehash", "check_password_policy", "MIN_PASSWORD_CHARS"]

MIN_PASSWORD_CHARS = 12
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost one argon2 run.
_DUMMY_HASH = _hasher.hash("not a real password, only spends the same time")


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS or len(password) > 1024:
        raise error("validation_failed", f"A password needs {MIN_PASSWORD_CHARS} to 1024 characters.")


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with ``stored_hash=None`` spends the time and returns False."""
    try:
        ok = _hasher.verify(stored_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
