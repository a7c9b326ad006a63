"""Envelope encryption primitives: AES-256-GCM with associated data.

Every ciphertext is ``version(1) | nonce(12) | ciphertext+tag``. The associated data
names what the plaintext is (record id and field), so a ciphertext copied to another
row or column fails authentication instead of decrypting as someone else's data.
Pure functions over bytes; keys are 32 bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "VaultIntegrityError",
    "seal",
    "open_sealed",
    "new_data_key",
    "wrap_data_key",
    "unwrap_data_key",
    "kek_id",
    "field_aad",
    "blind_index",
]

FORMAT = b"\x01"
NONCE_BYTES = 12


class VaultIntegrityError(Exception):
    """A ciphertext does not authenticate under this key and associated data."""


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, FORMAT + aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != FORMAT:
        raise VaultIntegrityError("unknown ciphertext format")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], FORMAT + aad)
    except InvalidTag:
        raise VaultIntegrityError("ciphertext does not authenticate") from None


def new_data_key() -> bytes:
    return secrets.token_bytes(32)


def kek_id(kek: bytes) -> str:
    """A public fingerprint of a key-encryption key (16 hex), to know which KEK wrapped a key."""
    return hashlib.sha256(b"kyc/kek-id/v1" + kek).hexdigest()[:16]


def _wrap_aad(owner: str) -> bytes:
    return b"kyc/data-key/v1|" + owner.encode()


def wrap_data_key(kek: bytes, data_key: bytes, owner: str) -> bytes:
    """Encrypt a data key under the KEK, bound to its owner (subject id or key purpose)."""
    return seal(kek, data_key, _wrap_aad(owner))


def unwrap_data_key(kek: bytes, wrapped: bytes, owner: str) -> bytes:
    return open_sealed(kek, wrapped, _wrap_aad(owner))


def field_aad(table: str, record_id: str, field: str) -> bytes:
    return f"kyc/field/v1|{table}|{record_id}|{field}".encode()


def blind_index(index_key: bytes, value: str) -> str:
    """HMAC-SHA256 of a normalised value: equal values match, the value is not recoverable."""
    return hmac.new(index_key, value.encode(), hashlib.sha256).hexdigest()
