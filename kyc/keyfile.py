"""The local key-encryption key file: the embedded default for development machines.

Created once at set-up with mode 0600; production deployments pass the key through
``KYC_KEK`` or a mounted file instead (see ``kyc.config``).

The file holds one base64 key per line, the current key first. During a key rotation
(``kyc keys rotate``) it briefly holds the new key and the previous one, so running
services can unwrap data keys under either while they are re-wrapped.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

__all__ = ["ensure_key_file", "read_key_file", "read_key_ring", "write_key_ring", "KEY_BYTES"]

KEY_BYTES = 32  # AES-256


def ensure_key_file(path: Path) -> bool:
    """Create a random 256-bit key at ``path`` (0600) unless one exists. True if created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.b64encode(secrets.token_bytes(KEY_BYTES))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    return True


def _decode(line: bytes, where: str) -> bytes:
    raw = base64.b64decode(line.strip(), validate=True)
    if len(raw) != KEY_BYTES:
        raise ValueError(f"{where} does not hold a {KEY_BYTES * 8}-bit key")
    return raw


def read_key_file(path: Path) -> bytes:
    """The current (first) key of the file."""
    return read_key_ring(path)[0]


def read_key_ring(path: Path) -> list[bytes]:
    """Every key in the file, current first."""
    lines = [ln for ln in path.read_bytes().splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"{path} holds no key")
    return [_decode(ln, str(path)) for ln in lines]


def write_key_ring(path: Path, keys: list[bytes]) -> None:
    """Replace the file atomically (write a 0600 sibling, fsync, rename)."""
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"".join(base64.b64encode(k) + b"\n" for k in keys))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
