"""The vault: per-subject data keys wrapped by the KEK, field encryption, blind indexes.

Callers hold plaintext only in memory; what reaches the database is ciphertext whose
associated data binds it to its table, record id and field.
"""

from __future__ import annotations

import json
import threading

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kyc.config import Settings
from kyc.storage.db import Database
from kyc.storage.models import Subject, VaultKey
from kyc.vault.envelope import (
    blind_index,
    field_aad,
    new_data_key,
    open_sealed,
    seal,
    unwrap_data_key,
    wrap_data_key,
)
from kyc.vault.keyring import KeyRing, KeyRingSource

__all__ = ["Vault", "normalise_id_number"]

BLIND_INDEX_PURPOSE = "blind_index"


def normalise_id_number(value: str) -> str:
    """Upper-case, no spaces: the form the blind index is computed on."""
    return "".join(value.split()).upper()


class Vault:
    def __init__(self, settings: Settings, keys: KeyRingSource | None = None) -> None:
        self.keys = keys or KeyRingSource(settings)
        self._index_key: tuple[str, bytes] | None = None  # (kek id it was unwrapped under, key)
        self._lock = threading.Lock()

    def ring(self) -> KeyRing:
        return self.keys.ring()

    # --- subject data keys ---
    def new_subject_key(self, subject_id: str) -> tuple[bytes, bytes, str]:
        """A fresh data key: (plaintext key, wrapped key, KEK id)."""
        ring = self.ring()
        dek = new_data_key()
        return dek, wrap_data_key(ring.current, dek, "subject:" + subject_id), ring.current_id

    def subject_key(self, subject: Subject) -> bytes:
        return unwrap_data_key(self.ring().get(subject.kek_id), subject.wrapped_key, "subject:" + subject.id)

    # --- fields ---
    @staticmethod
    def encrypt(dek: bytes, table: str, record_id: str, field: str, plaintext: bytes) -> bytes:
        return seal(dek, plaintext, field_aad(table, record_id, field))

    @staticmethod
    def decrypt(dek: bytes, table: str, record_id: str, field: str, blob: bytes) -> bytes:
        return open_sealed(dek, blob, field_aad(table, record_id, field))

    @classmethod
    def encrypt_json(cls, dek: bytes, table: str, record_id: str, field: str, value: object) -> bytes:
        return cls.encrypt(dek, table, record_id, field, json.dumps(value, ensure_ascii=False).encode())

    @classmethod
    def decrypt_json(cls, dek: bytes, table: str, record_id: str, field: str, blob: bytes) -> object:
        return json.loads(cls.decrypt(dek, table, record_id, field, blob))

    # --- blind index ---
    def ensure_service_keys(self, db: Database) -> None:
        """Create the blind-index and signing keys once (wrapped by the KEK) if the database has none."""
        from kyc.vault.signing import SIGNING_KEY_PURPOSE

        self.ensure_service_key(db, BLIND_INDEX_PURPOSE)
        self.ensure_service_key(db, SIGNING_KEY_PURPOSE)

    def ensure_service_key(self, db: Database, purpose: str) -> None:
        """Create the service key for ``purpose`` once, wrapped by the current KEK.

        Service keys (blind index, webhook signing secrets) belong to no subject; they are
        re-wrapped by ``kyc keys rotate`` like the subjects' data keys.
        """
        with db.session() as s:
            if s.get(VaultKey, purpose) is not None:
                return
        ring = self.ring()
        try:
            with db.session() as s:
                s.add(
                    VaultKey(
                        purpose=purpose,
                        wrapped_key=wrap_data_key(ring.current, new_data_key(), "service:" + purpose),
                        kek_id=ring.current_id,
                    )
                )
        except IntegrityError:
            pass  # another process created it first

    def service_key(self, session: Session, purpose: str) -> bytes:
        """The unwrapped service key for ``purpose`` (see :meth:`ensure_service_key`)."""
        row = session.get(VaultKey, purpose)
        if row is None:
            raise RuntimeError(f"the {purpose} service key is missing; the service creates it on start")
        return unwrap_data_key(self.ring().get(row.kek_id), row.wrapped_key, "service:" + purpose)

    def index_key(self, session: Session) -> bytes:
        row = session.get(VaultKey, BLIND_INDEX_PURPOSE)
        if row is None:
            raise RuntimeError("vault service keys are missing; the service creates them on start")
        with self._lock:
            if self._index_key is None or self._index_key[0] != row.kek_id:
                self._index_key = (row.kek_id, self.service_key(session, BLIND_INDEX_PURPOSE))
            return self._index_key[1]

    def id_number_index(self, session: Session, id_number: str) -> str:
        return blind_index(self.index_key(session), normalise_id_number(id_number))
