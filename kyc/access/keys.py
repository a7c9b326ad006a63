"""API keys per client application.

A key looks like ``kyc_<key id>_<secret>``; only the key id (for lookup) and the SHA-256
of the whole key are stored. Keys are 256-bit random, so a fast hash is enough (no
password stretching needed). Admin keys are separate clients with ``is_admin``; they
manage clients and policies but hold no client scopes unless given.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from kyc.audit import append_audit
from kyc.errors import error
from kyc.storage.db import Database
from kyc.storage.models import ApiClient, utcnow

__all__ = ["SCOPES", "DEFAULT_SCOPES", "ADMIN_SCOPE", "Principal", "create_client", "authenticate", "revoke_client"]

SCOPES = (
    "consents:write",  # record and withdraw consents
    "verifications:write",  # run verifications
    "verifications:read",  # read verifications back
    "subjects:export",  # data-subject access (decrypted export)
    "subjects:delete",  # data-subject deletion
    "documents:read",  # POST /v1/documents/read (fields masked)
    "documents:read_plain",  # ... with the fields unmasked (never granted by default)
    "faces:compare",  # POST /v1/faces/compare
    "liveness:write",  # active-liveness sessions and their uploads
)
# What a new client gets when no scopes are named: everything but the plain-fields scope,
# which a client must ask for explicitly (minimum collection).
DEFAULT_SCOPES = tuple(s for s in SCOPES if s != "documents:read_plain")
ADMIN_SCOPE = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the client application behind an API key."""

    client_id: str
    name: str
    scopes: frozenset[str]
    is_admin: bool

    @property
    def actor(self) -> str:
        return f"client:{self.client_id}"

    def require(self, scope: str) -> None:
        if scope == ADMIN_SCOPE:
            if not self.is_admin:
                raise error("forbidden", required_scope=scope)
        elif scope not in self.scopes:
            raise error("forbidden", required_scope=scope)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(
    db: Database, name: str, scopes: list[str] | None = None, *, is_admin: bool = False, actor: str = "cli"
) -> tuple[ApiClient, str]:
    """Create a client and return it with its key (shown once, never stored)."""
    scopes = list(DEFAULT_SCOPES) if scopes is None else scopes
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise error("validation_failed", f"unknown scopes: {', '.join(unknown)}", allowed=list(SCOPES))
    key_id = secrets.token_hex(6)
    key = f"kyc_{key_id}_{secrets.token_urlsafe(32)}"
    with db.session() as s:
        client = ApiClient(name=name, key_id=key_id, key_hash=_hash(key), scopes=scopes, is_admin=is_admin)
        s.add(client)
        s.flush()
        append_audit(
            s, actor=actor, action="client.create", target=f"client:{client.id}", detail={"scopes": scopes, "admin": is_admin}
        )
    return client, key


def revoke_client(db: Database, client_id: str, *, actor: str = "cli") -> None:
    with db.session() as s:
        client = s.get(ApiClient, client_id)
        if client is None:
            raise error("not_found")
        client.revoked_at = utcnow()
        append_audit(s, actor=actor, action="client.revoke", target=f"client:{client_id}")


def authenticate(db: Database, key: str | None) -> Principal:
    """The principal for a key, or ``unauthenticated``."""
    if not key or not key.startswith("kyc_") or key.count("_") < 2:
        raise error("unauthenticated")
    key_id = key.split("_", 2)[1]
    with db.session() as s:
        client = s.scalar(select(ApiClient).where(ApiClient.key_id == key_id))
    if client is None or client.revoked_at is not None or not hmac.compare_digest(client.key_hash, _hash(key)):
        raise error("unauthenticated")
    return Principal(client.id, client.name, frozenset(client.scopes or ()), client.is_admin)
