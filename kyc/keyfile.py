"""The local key-encryption key file: the embedded default for development machines.

Created once at set-up with mode 0600; production deployments pass the key through
``KYC_KEK`` or a mounted file instead (see ``kyc.config``).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

__all__ = ["ensure_key_file", "read_key_file"]

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


def read_key_file(path: Path) -> bytes:
    raw = base64.b64decode(path.read_bytes().strip())
    if len(raw) != KEY_BYTES:
        raise ValueError(f"{path} does not hold a {KEY_BYTES * 8}-bit key")
    return raw
