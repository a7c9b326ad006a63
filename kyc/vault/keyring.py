"""The key-encryption keys a process may use: from ``KYC_KEK`` or the key file.

The ring is re-read when the key file changes (checked by its modification time on
every use), so a rotation needs no restart: services see the new key at once and can
still unwrap data keys under the previous one until the rotation retires it.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

from kyc.config import Settings
from kyc.keyfile import KEY_BYTES, ensure_key_file, read_key_ring
from kyc.vault.envelope import kek_id

__all__ = ["KeyRing", "KeyRingSource", "KeyNotAvailable"]


class KeyNotAvailable(Exception):
    """A data key was wrapped by a key-encryption key this process does not have."""


class KeyRing:
    """Immutable: the current KEK and every KEK still accepted, by id."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        for k in keys:
            if len(k) != KEY_BYTES:
                raise ValueError("key-encryption keys are 256 bits")
        self.keys = list(keys)
        self.by_id = {kek_id(k): k for k in keys}
        self.current_id = kek_id(keys[0])
        self.current = keys[0]

    def get(self, kid: str) -> bytes:
        try:
            return self.by_id[kid]
        except KeyError:
            raise KeyNotAvailable(f"key-encryption key {kid} is not available") from None


def _env_keys(value: str) -> list[bytes]:
    keys = [base64.b64decode(p.strip(), validate=True) for p in value.split(",") if p.strip()]
    if not keys or any(len(k) != KEY_BYTES for k in keys):
        raise ValueError("KYC_KEK must hold base64 256-bit keys, comma-separated, current first")
    return keys


class KeyRingSource:
    """Loads the ring from the settings and reloads it when the key file changes."""

    def __init__(self, settings: Settings, *, create: bool = True) -> None:
        self.settings = settings
        self.from_env = settings.kek is not None
        self.path: Path = settings.resolved_key_file
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._ring: KeyRing | None = None
        if not self.from_env and create and settings.environment != "production":
            ensure_key_file(self.path)

    def forget(self) -> None:
        """Drop the loaded ring (after decommissioning destroyed the keys it came from)."""
        with self._lock:
            self._ring, self._mtime = None, None

    def ring(self) -> KeyRing:
        if self.from_env:
            if self._ring is None:
                self._ring = KeyRing(_env_keys(self.settings.kek.get_secret_value()))
            return self._ring
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            raise KeyNotAvailable(
                f"no key-encryption key: set KYC_KEK or create the key file {self.path} (`kyc keys init`)"
            ) from None
        with self._lock:
            if self._ring is None or mtime != self._mtime:
                self._ring = KeyRing(read_key_ring(self.path))
                self._mtime = mtime
            return self._ring
