"""Encryption of what passes through the broker and shared state.

A queued job's uploads are sealed (AES-256-GCM) under a fresh per-job key; the message
carries only the ciphertext. The job key itself goes to shared state wrapped by the
key-encryption key (KEK), and is deleted once the job is stored: a copy of the message
left in the broker's persistence, or of Redis's memory on disk, decrypts to nothing
without the KEK, and to nothing at all after the key is deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

from kyc.vault.envelope import new_data_key, open_sealed, seal, unwrap_data_key, wrap_data_key
from kyc.vault.keyring import KeyRing
from kyc.verification.pipeline import VerificationInput

__all__ = ["pack_input", "unpack_input", "seal_job", "open_job", "wrap_job_key", "unwrap_job_key", "state_key"]

_ABSENT = 0xFFFFFFFF


def pack_input(inp: VerificationInput) -> bytes:
    """Length-prefixed parts (front, back, selfie, liveness session id)."""
    out = bytearray(b"KYCJ1")
    for part in (inp.id_front, inp.id_back, inp.selfie, inp.liveness_session_id.encode() if inp.liveness_session_id else None):
        if part is None:
            out += struct.pack(">I", _ABSENT)
        else:
            out += struct.pack(">I", len(part)) + part
    return bytes(out)


def unpack_input(data: bytes) -> VerificationInput:
    if data[:5] != b"KYCJ1":
        raise ValueError("not a packed verification input")
    pos, parts = 5, []
    for _ in range(4):
        (n,) = struct.unpack_from(">I", data, pos)
        pos += 4
        if n == _ABSENT:
            parts.append(None)
        else:
            parts.append(data[pos : pos + n])
            pos += n
    front, back, selfie, session = parts
    return VerificationInput(front, back, selfie, session.decode() if session is not None else None)


def _aad(job_id: str) -> bytes:
    return b"kyc/job-input/v1|" + job_id.encode()


def seal_job(job_id: str, inp: VerificationInput) -> tuple[bytes, bytes]:
    """(job key, sealed uploads) for one job."""
    key = new_data_key()
    return key, seal(key, pack_input(inp), _aad(job_id))


def open_job(key: bytes, job_id: str, blob: bytes) -> VerificationInput:
    return unpack_input(open_sealed(key, blob, _aad(job_id)))


def wrap_job_key(ring: KeyRing, job_id: str, key: bytes) -> bytes:
    """``kek id | wrapped key``: what shared state holds for the job."""
    return ring.current_id.encode() + b"|" + wrap_data_key(ring.current, key, "job:" + job_id)


def unwrap_job_key(ring: KeyRing, job_id: str, blob: bytes) -> bytes:
    kid, wrapped = blob.split(b"|", 1)
    return unwrap_data_key(ring.get(kid.decode()), wrapped, "job:" + job_id)


def state_key(ring: KeyRing) -> bytes:
    """A key for sealing values kept in shared state (liveness results), derived from the KEK."""
    return hmac.new(ring.current, b"kyc/shared-state/v1", hashlib.sha256).digest()
