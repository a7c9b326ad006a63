"""The vault with real AES-256-GCM: envelopes, associated data, key rings and rotation."""

from __future__ import annotations

import base64
import os
import secrets
import stat

import pytest

from kyc.config import Settings
from kyc.keyfile import read_key_ring
from kyc.storage import Subject
from kyc.subjects import get_or_create_subject
from kyc.vault import KeyNotAvailable, KeyRing, KeyRingSource, Vault, VaultIntegrityError, rotate_key_file, unwrap_data_key
from kyc.vault.envelope import field_aad, open_sealed, seal


def test_sealed_fields_are_bound_to_record_and_field():
    key = secrets.token_bytes(32)
    blob = seal(key, "张三明".encode(), field_aad("verifications", "r1", "fields"))
    assert "张三明".encode() not in blob
    assert open_sealed(key, blob, field_aad("verifications", "r1", "fields")).decode() == "张三明"
    for aad in (field_aad("verifications", "r2", "fields"), field_aad("verifications", "r1", "template")):
        with pytest.raises(VaultIntegrityError):
            open_sealed(key, blob, aad)
    with pytest.raises(VaultIntegrityError):
        open_sealed(secrets.token_bytes(32), blob, field_aad("verifications", "r1", "fields"))
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(VaultIntegrityError):
        open_sealed(key, tampered, field_aad("verifications", "r1", "fields"))


def test_key_file_is_created_private_and_env_keys_take_precedence(tmp_path):
    s = Settings(environment="test", data_dir=tmp_path)
    ring = KeyRingSource(s).ring()
    mode = stat.S_IMODE(os.stat(s.resolved_key_file).st_mode)
    assert mode == 0o600 and len(ring.current) == 32
    k1, k2 = secrets.token_bytes(32), secrets.token_bytes(32)
    env = Settings(environment="test", data_dir=tmp_path / "e", kek=",".join(base64.b64encode(k).decode() for k in (k1, k2)))
    ring = KeyRingSource(env).ring()
    assert ring.current == k1 and len(ring.by_id) == 2
    assert not (tmp_path / "e" / "kek.key").exists()
    with pytest.raises(ValueError):
        KeyRingSource(Settings(environment="test", data_dir=tmp_path, kek="c2hvcnQ=")).ring()


def test_subject_keys_swapped_between_subjects_do_not_unwrap(svc_settings, db):
    vault = Vault(svc_settings)
    a = get_or_create_subject(db, vault, _client(db), "a")
    b = get_or_create_subject(db, vault, _client(db, "c2"), "b")
    with db.session() as s:
        sa, sb = s.get(Subject, a), s.get(Subject, b)
        ka = vault.subject_key(sa)
        with pytest.raises(VaultIntegrityError):
            unwrap_data_key(vault.ring().current, sa.wrapped_key, "subject:" + sb.id)
    assert len(ka) == 32


def _client(db, name="c1") -> str:
    from kyc.access import create_client

    return create_client(db, name)[0].id


def test_rotation_rewraps_every_key_and_retires_the_old_kek(svc_settings, db):
    vault = Vault(svc_settings)
    vault.ensure_service_keys(db)
    cid = _client(db)
    ids = [get_or_create_subject(db, vault, cid, f"user-{i}") for i in range(5)]
    with db.session() as s:
        before = {i: vault.subject_key(s.get(Subject, i)) for i in ids}
        index_before = vault.id_number_index(s, "11010519491231183x")
    old_ring = vault.ring()
    report = rotate_key_file(db, svc_settings.resolved_key_file, grace_s=0)
    assert report.rewrapped_subjects == 5 and report.rewrapped_service_keys == 2  # blind index and the signing key (issue 15)
    assert report.retired_kek_ids == [old_ring.current_id]
    assert len(read_key_ring(svc_settings.resolved_key_file)) == 1
    # the running vault reloads the key file and reads every key, the blind index is unchanged
    with db.session() as s:
        assert {i: vault.subject_key(s.get(Subject, i)) for i in ids} == before
        assert all(s.get(Subject, i).kek_id == report.new_kek_id for i in ids)
        assert vault.id_number_index(s, "11010519491231183X") == index_before
        # a copy of a row from before the rotation (a backup) needs the retired KEK
        with pytest.raises(KeyNotAvailable):
            vault.ring().get(old_ring.current_id)


def test_key_ring_rejects_wrong_sizes():
    with pytest.raises(ValueError):
        KeyRing([b"short"])
