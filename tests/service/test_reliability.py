"""Crashes and plaintext: a worker killed mid-verification leaves whole verifications or
none, and nothing on disk holds a name, ID number or template in plaintext.

The verifications run with FAKE engines (tests/service/fakes.py); storage, vault and
audit are real. On PostgreSQL the "disk" is read back through SQL (every row as text).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kyc.audit import verify_chain
from kyc.config import PROJECT_ROOT
from kyc.storage import AuditEntry, RetainedImage, Subject, Verification
from tests.service.crash_child import ID_NUMBER, NAME
from tests.service.fakes import png

ALICE = (200, 150, 120)
SECRETS = [NAME.encode(), ID_NUMBER.encode(), ID_NUMBER[:-1].encode(), b"FAKETPL1", "北京市东城区".encode()]
TABLES = ("api_clients", "policies", "subjects", "consents", "verifications", "retained_images", "vault_keys", "audit_log")


def _scan_files(root: Path) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.name}: {s!r}" for s in SECRETS if s in data]
    return hits


def _scan_database(db) -> list[str]:
    if db.engine.dialect.name == "sqlite":
        return _scan_files(Path(db.url.split("///", 1)[1]).parent)
    hits = []
    with db.engine.connect() as conn:
        for table in TABLES:
            for (row,) in conn.execute(text(f"SELECT t::text FROM {table} t")):
                # bytea renders as \x hex: check hex forms too
                hits += [f"{table}: {s!r}" for s in SECRETS if s.decode() in row or s.hex() in row]
    return hits


def _check_whole(db, vault) -> int:
    """Every stored verification is complete, decryptable and audited; returns how many."""
    with db.session() as s:
        rows = s.scalars(select(Verification)).all()
        audited = {e.target for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "verification.create"))}
        for v in rows:
            assert v.status in ("approved", "rejected", "review") and v.fields_ct and v.template_ct
            dek = vault.subject_key(s.get(Subject, v.subject_id))
            assert vault.decrypt_json(dek, "verifications", v.id, "fields", v.fields_ct)["name"] == NAME
            assert f"verification:{v.id}" in audited
        assert len(audited) == len(rows)
        images = s.scalars(select(RetainedImage)).all()
        assert {i.verification_id for i in images} <= {v.id for v in rows}
    assert verify_chain(db).ok
    return len(rows)


@pytest.mark.slow
def test_killed_worker_leaves_no_half_written_verification_or_plaintext(api, tmp_path):
    cid = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    services = api.services
    with services.db.session() as s:
        client_id = s.scalar(select(Verification.client_id).limit(1)) or s.scalar(
            select(Subject.client_id).where(Subject.ref == "alice")
        )
    tmpdir = tmp_path / "child-tmp"
    tmpdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TMPDIR": str(tmpdir)}
    rng = random.Random(5)
    stored = 0
    for round_ in range(3):
        marker = tmp_path / f"started-{round_}"
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.service.crash_child", services.db.url, str(api.app.state.settings.data_dir), client_id, cid, str(marker)],
            env=env,
            cwd=PROJECT_ROOT,
        )
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the child died before it started"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(rng.uniform(0.05, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL
        n = _check_whole(services.db, services.vault)
        assert n > stored  # it made progress between kills
        stored = n
    assert _scan_database(services.db) == []
    assert _scan_files(tmpdir) == [] and not any(tmpdir.iterdir())


def test_database_holds_no_plaintext_personal_data(api):
    cid = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    for i in range(3):
        front = api.fake.id_card(ALICE, name=NAME, id_number=ID_NUMBER, checks={"region_code": (False, "id_region_unknown")}, marker=i)
        r = api.verify(cid, front, png(ALICE, marker=i))
        assert r.json()["status"] == "review"
    with api.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(RetainedImage)) == 6
    # the scan can find what it looks for: the export holds the same data in plaintext
    export = api.http.get("/v1/subjects/alice/export", headers=api.headers).content
    assert NAME.encode() in export and ID_NUMBER.encode() in export
    assert _scan_database(api.services.db) == []


def test_large_uploads_are_never_spooled_to_disk(api, monkeypatch):
    """Starlette spools parts over 1 MiB to a temporary file; our parser must not."""
    import io
    import tempfile

    import numpy as np
    from PIL import Image

    spooled = []
    real = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *a, **k: spooled.append(1) or real(*a, **k))
    noise = np.random.default_rng(0).integers(0, 255, (900, 900, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    big = buf.getvalue()
    assert len(big) > 2 * 2**20
    cid = api.consent("alice")
    r = api.verify(cid, api.fake.id_card(ALICE), big)
    assert r.status_code == 201 and spooled == []
    # the control: the same size through a plain SpooledTemporaryFile does roll over
    with tempfile.SpooledTemporaryFile(max_size=2**20) as f:
        f.write(big)
    assert spooled == [1]
