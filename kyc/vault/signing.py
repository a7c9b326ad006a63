"""The service's signing key: Ed25519, its 32-byte seed a vault service key.

Receipts and statements the service issues (consent receipts, the decommissioning
statement) are signed with it, so a person or auditor can check them offline with the
published public key (``GET /v1/receipts/public-key``, ``kyc consents public-key``).
The seed is wrapped by the key-encryption key like every service key, so key rotation
re-wraps it and decommissioning destroys it.

Signed documents are ``{"payload": {...}, "signature": {"alg", "key_id", "value"}}``; the
signature covers the canonical JSON of ``payload`` (:func:`canonical_json`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

__all__ = [
    "SIGNING_KEY_PURPOSE",
    "SignatureCheck",
    "canonical_json",
    "signing_key",
    "public_key_pem",
    "load_public_key",
    "public_key_id",
    "sign_document",
    "verify_document",
]

SIGNING_KEY_PURPOSE = "statement_signing"
ALG = "Ed25519"


def canonical_json(value: object) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace.

    For the value types signed documents hold (strings, integers, booleans, null, lists,
    objects with ASCII keys; never floats) this is the RFC 8785 (JCS) serialisation.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def signing_key(session: Session, vault) -> Ed25519PrivateKey:
    """The service's private signing key (created on start by ``vault.ensure_service_key``)."""
    return Ed25519PrivateKey.from_private_bytes(vault.service_key(session, SIGNING_KEY_PURPOSE))


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def public_key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """16 hex of SHA-256 over the raw public key: names the key in every signature."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_document(key: Ed25519PrivateKey, payload: dict) -> dict:
    """``{"payload", "signature"}``; Ed25519 is deterministic, so the same payload signs the same."""
    sig = key.sign(canonical_json(payload))
    return {
        "payload": payload,
        "signature": {"alg": ALG, "key_id": public_key_id(key), "value": base64.b64encode(sig).decode()},
    }


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    reason: str | None = None


def verify_document(document: object, public_key: Ed25519PublicKey) -> SignatureCheck:
    """Check a signed document against the published key; any change to the payload fails."""
    if not isinstance(document, dict) or not isinstance(document.get("payload"), dict):
        return SignatureCheck(False, "not a signed document (no payload object)")
    sig = document.get("signature")
    if not isinstance(sig, dict) or sig.get("alg") != ALG:
        return SignatureCheck(False, f"signature missing or not {ALG}")
    if sig.get("key_id") != public_key_id(public_key):
        return SignatureCheck(False, "signed by another key than the one given")
    try:
        raw = base64.b64decode(str(sig.get("value", "")), validate=True)
        public_key.verify(raw, canonical_json(document["payload"]))
    except (InvalidSignature, ValueError):
        return SignatureCheck(False, "signature does not match the payload")
    return SignatureCheck(True)
