"""The vault: envelope encryption (KEK → per-subject data keys → AES-256-GCM fields)."""

from kyc.vault.envelope import VaultIntegrityError, blind_index, kek_id, unwrap_data_key, wrap_data_key
from kyc.vault.keyring import KeyNotAvailable, KeyRing, KeyRingSource
from kyc.vault.rotation import RotationReport, rewrap_all, rotate_key_file
from kyc.vault.vault import Vault, normalise_id_number

__all__ = [
    "Vault",
    "VaultIntegrityError",
    "KeyRing",
    "KeyRingSource",
    "KeyNotAvailable",
    "RotationReport",
    "blind_index",
    "kek_id",
    "wrap_data_key",
    "unwrap_data_key",
    "normalise_id_number",
    "rewrap_all",
    "rotate_key_file",
]
