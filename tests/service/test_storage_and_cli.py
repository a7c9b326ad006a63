"""Migrations match the models on both databases; the operator commands work end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import update

from kyc.config import PROJECT_ROOT
from kyc.storage import AuditEntry, Base


def test_migrations_build_the_models_schema_and_are_idempotent(db):
    db.migrate()  # a second time: nothing to do
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def _kyc(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from kyc.cli import main; main()", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_operator_commands(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "KYC_DATA_DIR": str(tmp_path), "KYC_ENVIRONMENT": "test"}
    env.pop("KYC_DATABASE_URL", None)
    env.pop("KYC_KEK", None)
    r = _kyc(env, "keys", "init")
    assert r.returncode == 0 and "created" in r.stdout
    r = _kyc(env, "clients", "create", "mobile-app", "--scope", "verifications:write")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("kyc_") and key not in (tmp_path / "kyc.db").read_bytes().decode("latin-1")
    r = _kyc(env, "clients", "create", "bad", "--scope", "everything")
    assert r.returncode != 0
    r = _kyc(env, "keys", "rotate", "--grace", "0")
    assert r.returncode == 0 and "retired" in r.stdout, r.stderr
    r = _kyc(env, "purge")
    assert r.returncode == 0 and "purged 0" in r.stdout
    r = _kyc(env, "audit", "verify")
    assert r.returncode == 0 and "chain intact" in r.stdout, r.stderr
    # tamper with the second entry: the command fails and names it
    from kyc.storage import Database

    db = Database(f"sqlite:///{tmp_path / 'kyc.db'}")
    with db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="someone-else"))
    db.dispose()
    r = _kyc(env, "audit", "verify")
    assert r.returncode == 1 and "entry 2" in r.stderr
    out = tmp_path / "openapi.json"
    r = _kyc(env, "openapi", "--out", str(out))
    assert r.returncode == 0, r.stderr
    spec = json.loads(out.read_text())
    assert "/v1/verifications" in spec["paths"] and "/v1/subjects/{subject_ref}/export" in spec["paths"]
