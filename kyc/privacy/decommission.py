"""Decommissioning: when the service stops, its personal data becomes unreadable everywhere.

Every subject's data key and every service key is destroyed in the database, the plain
columns that still say something about a person (masked fields, blind indexes, subject
refs, review notes) are anonymised, the database file is compacted, and the
key-encryption keys are destroyed (the key file overwritten and removed). Ciphertext
left in any copy of the database, backups included, then has no key that opens it: a
backup holds data keys wrapped by a KEK that no longer exists.

The operator gets a statement of what was destroyed and when, signed with the service's
Ed25519 key (the last thing that key does; verify it with the public key published
before, ``kyc consents verify-receipt``). The audit log records it (``service.decommission``).
A KEK given through ``KYC_KEK`` cannot be destroyed from here: the statement says so.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, func, select, update

from kyc.audit import append_audit
from kyc.config import Settings
from kyc.storage.admin_models import WebhookDelivery, WebhookSecret
from kyc.storage.db import Database
from kyc.storage.models import Subject, VaultKey, Verification
from kyc.vault import Vault
from kyc.vault.signing import public_key_pem, sign_document, signing_key

__all__ = ["DESTROYED", "confirmation_phrase", "decommission", "DecommissionRefused"]

STATEMENT_VERSION = "kyc-decommission-statement/1"
DESTROYED = "destroyed"  # the kek_id of a subject whose data key is gone


class DecommissionRefused(Exception):
    """The typed confirmation did not match; nothing was changed."""


def _database_label(url: str) -> str:
    """The database without credentials: dialect, host and name (or the SQLite path)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return u.render_as_string(hide_password=True).replace(f"{u.username}:***@", "") if u.username else str(u)


def confirmation_phrase(db: Database) -> str:
    """What the operator must type: names this database, so a script aimed at another one fails."""
    return "DESTROY " + hashlib.sha256(_database_label(db.url).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class _Plan:
    subjects: int
    service_keys: list[str]
    kek_ids: list[str]


def plan(db: Database, vault: Vault) -> _Plan:
    with db.session() as s:
        n = s.scalar(select(func.count()).select_from(Subject).where(Subject.kek_id != DESTROYED)) or 0
        purposes = sorted(s.scalars(select(VaultKey.purpose)))
    return _Plan(n, purposes, sorted(vault.ring().by_id))


def _shred_file(path: Path) -> bool:
    """Overwrite with random bytes, sync, remove. True when there was a file."""
    if not path.exists():
        return False
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.write(secrets.token_bytes(max(size, 64)))
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()
    return True


def _compact(db: Database) -> None:
    """SQLite: fold the WAL in and rebuild the file, so no page keeps an old wrapped key."""
    if db.engine.dialect.name != "sqlite":
        return
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        cur.execute("VACUUM")
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        raw.close()


def decommission(db: Database, vault: Vault, settings: Settings, confirmation: str, *, actor: str = "cli") -> dict:
    """Destroy every key (see the module docstring); returns the signed statement."""
    expected = confirmation_phrase(db)
    if confirmation.strip() != expected:
        raise DecommissionRefused(f"type {expected!r} to confirm; nothing was changed")
    before = plan(db, vault)
    with db.session() as s:
        key = signing_key(s, vault)  # kept in memory only, to sign the statement at the end
    pem = public_key_pem(key)
    at = datetime.now(UTC)
    with db.session() as s:
        subjects = s.execute(
            update(Subject).values(wrapped_key=b"", kek_id=DESTROYED, ref="decommissioned:" + Subject.id)
        ).rowcount
        results = s.execute(
            update(Verification).values(masked_fields=None, id_number_index=None, review_note=None)
        ).rowcount
        services = [p for p in s.scalars(select(VaultKey.purpose))]
        s.execute(delete(VaultKey))
        s.execute(delete(WebhookSecret))
        s.execute(delete(WebhookDelivery))  # outbox bodies name subject refs
        entry = append_audit(
            s, actor=actor, action="service.decommission", target="service",
            detail={"subject_keys": subjects, "service_keys": services, "kek_ids": before.kek_ids, "verifications_anonymised": results},
        )
        audit_ref = {"seq": entry.seq, "hash": entry.hash}
    _compact(db)
    from_env = settings.kek is not None
    key_file = settings.resolved_key_file
    file_destroyed = False if from_env else _shred_file(key_file)
    for stale in (key_file.with_name(key_file.name + ".tmp"),):
        _shred_file(stale)
    vault.keys.forget()  # this process drops the ring it had loaded
    payload = {
        "statement": STATEMENT_VERSION,
        "decommissioned_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "database": _database_label(db.url),
        "controller": {"name": settings.controller_name, "contact": settings.controller_contact},
        "destroyed": {
            "subject_data_keys": subjects,
            "service_keys": services,
            "key_encryption_keys": before.kek_ids,
            "key_file": None if from_env else str(key_file),
            "key_file_destroyed": file_destroyed,
        },
        "anonymised": {"verifications": results, "subject_refs": subjects, "webhook_secrets": "deleted", "webhook_outbox": "deleted"},
        "not_destroyed_here": (
            ["the key-encryption key given in KYC_KEK: remove it from the secret store and every environment"] if from_env else []
        ),
        "audit_entry": audit_ref,
        "public_key_pem": pem,
    }
    statement = sign_document(key, payload)
    del key
    return statement
