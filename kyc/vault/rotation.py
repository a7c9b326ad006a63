"""Key-encryption-key rotation without downtime.

1. The key file gets the new key first and keeps the old ones (services reload it on
   their next key use, and can unwrap under both).
2. After a grace period (so transactions that wrapped a key under the old KEK have
   committed) every data key and service key is re-wrapped under the new KEK, in small
   transactions.
3. When no row refers to an old KEK any more, the old keys are removed from the file.
   Backups holding data keys wrapped under a retired KEK can no longer be read, which is
   also how a deleted subject's key is shredded in old backups.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from kyc.keyfile import read_key_ring, write_key_ring
from kyc.storage.db import Database
from kyc.storage.models import Subject, VaultKey
from kyc.vault.envelope import unwrap_data_key, wrap_data_key
from kyc.vault.keyring import KeyRing

__all__ = ["RotationReport", "rewrap_all", "rotate_key_file"]


@dataclass(frozen=True)
class RotationReport:
    new_kek_id: str
    rewrapped_subjects: int
    rewrapped_service_keys: int
    retired_kek_ids: list[str]


def _stale_count(db: Database, current_id: str) -> int:
    with db.session() as s:
        n = s.scalar(select(func.count()).select_from(Subject).where(Subject.kek_id != current_id)) or 0
        m = s.scalar(select(func.count()).select_from(VaultKey).where(VaultKey.kek_id != current_id)) or 0
    return n + m


def rewrap_all(db: Database, ring: KeyRing, batch: int = 200) -> tuple[int, int]:
    """Re-wrap every key not under ``ring.current`` (unwrapping with the older keys in the ring)."""
    subjects = 0
    while True:
        with db.session() as s:
            rows = s.scalars(select(Subject).where(Subject.kek_id != ring.current_id).limit(batch)).all()
            for row in rows:
                dek = unwrap_data_key(ring.get(row.kek_id), row.wrapped_key, "subject:" + row.id)
                row.wrapped_key = wrap_data_key(ring.current, dek, "subject:" + row.id)
                row.kek_id = ring.current_id
        subjects += len(rows)
        if len(rows) < batch:
            break
    service = 0
    with db.session() as s:
        for row in s.scalars(select(VaultKey).where(VaultKey.kek_id != ring.current_id)).all():
            key = unwrap_data_key(ring.get(row.kek_id), row.wrapped_key, "service:" + row.purpose)
            row.wrapped_key = wrap_data_key(ring.current, key, "service:" + row.purpose)
            row.kek_id = ring.current_id
            service += 1
    return subjects, service


def rotate_key_file(db: Database, path, *, grace_s: float = 5.0, new_key: bytes | None = None) -> RotationReport:
    """Rotate the KEK held in the key file ``path`` (see the module docstring for the steps)."""
    old = read_key_ring(path)
    new = new_key or secrets.token_bytes(32)
    ring = KeyRing([new, *old])
    write_key_ring(path, ring.keys)
    time.sleep(grace_s)
    subjects, service = rewrap_all(db, ring)
    # A straggler wrapped under an old key during the grace period: sweep until clean.
    for _ in range(10):
        if _stale_count(db, ring.current_id) == 0:
            break
        more = rewrap_all(db, ring)
        subjects, service = subjects + more[0], service + more[1]
    else:
        raise RuntimeError("rows still refer to an old key-encryption key; old keys kept, run rotate again")
    retired = [kid for kid in ring.by_id if kid != ring.current_id]
    write_key_ring(path, [new])
    return RotationReport(ring.current_id, subjects, service, retired)
