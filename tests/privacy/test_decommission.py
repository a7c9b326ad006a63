"""``kyc decommission``: after it, no field, template or image decrypts, from the
database files or from a backup copied before; the signed statement verifies with the
key published before. Data made through the service with FAKE engines (tests/service/fakes.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kyc.audit import verify_chain
from kyc.privacy import DecommissionRefused, confirmation_phrase, decommission
from kyc.storage import AuditEntry, Database, RetainedImage, Subject, VaultKey, Verification
from kyc.vault import KeyNotAvailable, Vault, VaultIntegrityError
from kyc.vault.signing import canonical_json, load_public_key, verify_document
from tests.service.fakes import png

ALICE = (200, 150, 120)
NAME, ID_NUMBER = "张三明", "11010519491231183X"
_TEXTS = [NAME, ID_NUMBER, "张*明", "1101**********183X", "北京市东城区", "alice-user-77"]
# as UTF-8 and as JSON columns store them (\\uXXXX escapes)
PLAINTEXTS = [t.encode() for t in _TEXTS] + [json.dumps(t)[1:-1].encode() for t in _TEXTS]


def _seed(api) -> list[str]:
    cid = api.consent("alice-user-77", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})  # goes to review: images kept
    vids = [api.verify(cid, front, png(ALICE)).json()["id"]]
    vids.append(api.verify(api.consent("bob-user-88"), api.fake.id_card((90, 90, 200), name="李四", id_number="110105194912310010"), png((90, 90, 200))).json()["id"])
    return vids


def _snapshot(db: Database) -> dict:
    """What a backup holds: every subject's wrapped key and every ciphertext."""
    with db.session() as s:
        return {
            "subjects": [(r.id, r.kek_id, bytes(r.wrapped_key)) for r in s.scalars(select(Subject))],
            "fields": [(v.id, v.subject_id, bytes(v.fields_ct), bytes(v.template_ct)) for v in s.scalars(select(Verification)) if v.fields_ct],
            "images": [(i.id, i.subject_id, i.kind, bytes(i.ciphertext)) for i in s.scalars(select(RetainedImage))],
        }


def _open_all(vault: Vault, snap: dict) -> int:
    """Decrypt everything in a snapshot with whatever keys ``vault`` can find; returns how many opened."""
    opened = 0
    keys = {}
    for sid, kid, wrapped in snap["subjects"]:
        fake_row = Subject(id=sid, kek_id=kid, wrapped_key=wrapped)
        try:
            keys[sid] = vault.subject_key(fake_row)
        except (KeyNotAvailable, VaultIntegrityError):
            continue
    for vid, sid, fields, template in snap["fields"]:
        if sid in keys:
            assert vault.decrypt_json(keys[sid], "verifications", vid, "fields", fields)
            vault.decrypt(keys[sid], "verifications", vid, "template", template)
            opened += 2
    for iid, sid, kind, ct in snap["images"]:
        if sid in keys:
            vault.decrypt(keys[sid], "retained_images", iid, kind, ct)
            opened += 1
    return opened


def test_nothing_decrypts_afterwards_from_the_files_or_a_backup(api, tmp_path):
    db, vault, settings = api.services.db, api.services.vault, api.app.state.settings
    _seed(api)
    pem = api.http.get("/v1/receipts/public-key").text  # published before
    backup = _snapshot(db)  # rows as a backup holds them (PostgreSQL and SQLite)
    backup_file = None
    if db.engine.dialect.name == "sqlite":  # and a real backup of the SQLite file
        backup_file = tmp_path / "backup.db"
        src = sqlite3.connect(db.url.split("///", 1)[1])
        with sqlite3.connect(backup_file) as dst:
            src.backup(dst)
        src.close()
    assert len(backup["fields"]) == 2 and len(backup["images"]) >= 2
    assert _open_all(vault, backup) == 4 + len(backup["images"])  # the check can succeed: before, all opens

    with pytest.raises(DecommissionRefused):
        decommission(db, vault, settings, "yes")
    assert _open_all(vault, backup) > 0  # a refused confirmation changed nothing

    statement = decommission(db, vault, settings, confirmation_phrase(db))

    assert not settings.resolved_key_file.exists()
    with pytest.raises(KeyNotAvailable):
        vault.ring()
    fresh = Vault(settings)  # a new process: it finds no key, makes a new (useless) one in development
    assert _open_all(fresh, backup) == 0
    assert _open_all(fresh, _snapshot(db)) == 0
    if backup_file is not None:
        b = Database(f"sqlite:///{backup_file}")
        assert _open_all(fresh, _snapshot(b)) == 0
        b.dispose()
        for f in Path(db.url.split("///", 1)[1]).parent.glob("kyc.db*"):  # the database files hold no plaintext
            data = f.read_bytes()
            for p in PLAINTEXTS:
                assert p not in data, (f.name, p)
    with db.session() as s:
        assert s.scalars(select(VaultKey)).all() == []
        assert all(r.kek_id == "destroyed" and r.wrapped_key == b"" for r in s.scalars(select(Subject)))
        e = s.scalars(select(AuditEntry).where(AuditEntry.action == "service.decommission")).one()
        assert e.detail["subject_keys"] == 2
    assert verify_chain(db).ok

    key = load_public_key(pem)
    assert verify_document(statement, key).ok
    p = statement["payload"]
    assert p["destroyed"]["subject_data_keys"] == 2 and p["destroyed"]["key_file_destroyed"] is True
    assert set(p["destroyed"]["service_keys"]) >= {"blind_index", "statement_signing"}
    assert p["audit_entry"]["seq"] == e.seq
    altered = json.loads(canonical_json(p).replace(b'"subject_data_keys":2', b'"subject_data_keys":3'))
    assert not verify_document({"payload": altered, "signature": statement["signature"]}, key).ok


def test_cli_asks_for_the_typed_phrase(api, tmp_path, monkeypatch):
    from kyc.cli import app
    from kyc.config import get_settings

    _seed(api)
    settings = api.app.state.settings
    monkeypatch.setenv("KYC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KYC_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    out = tmp_path / "statement.json"
    try:
        res = CliRunner().invoke(app, ["decommission", "--statement-out", str(out)], input="no\n")
        assert res.exit_code == 1 and "refused" in res.output and not out.exists()
        assert settings.resolved_key_file.exists()
        phrase = confirmation_phrase(api.services.db)
        pem = tmp_path / "k.pem"
        pem.write_text(api.http.get("/v1/receipts/public-key").text)
        res = CliRunner().invoke(app, ["decommission", "--statement-out", str(out)], input=phrase + "\n")
        assert res.exit_code == 0, res.output
        assert "destroyed 2 subject keys" in res.output and not settings.resolved_key_file.exists()
        res = CliRunner().invoke(app, ["consents", "verify-receipt", str(out), "--public-key", str(pem)])
        assert res.exit_code == 0 and "kyc-decommission-statement/1" in res.output, res.output
    finally:
        get_settings.cache_clear()


def test_service_refuses_a_decommissioned_database(api):
    from fastapi.testclient import TestClient

    from api.main import create_app

    decommission(api.services.db, api.services.vault, api.app.state.settings, confirmation_phrase(api.services.db))
    with pytest.raises(RuntimeError, match="decommissioned"):
        with TestClient(create_app(api.app.state.settings)):
            pass


def test_a_kek_from_the_environment_is_named_as_still_to_destroy(make_api):
    import base64
    import os

    from pydantic import SecretStr

    api = make_api(kek=SecretStr(base64.b64encode(os.urandom(32)).decode()))
    _seed(api)
    st = decommission(api.services.db, api.services.vault, api.app.state.settings, confirmation_phrase(api.services.db))
    assert st["payload"]["destroyed"]["key_file_destroyed"] is False
    assert any("KYC_KEK" in line for line in st["payload"]["not_destroyed_here"])
    with api.services.db.session() as s:
        assert all(r.kek_id == "destroyed" for r in s.scalars(select(Subject)))
