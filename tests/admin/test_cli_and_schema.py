"""``kyc admin`` commands, and the 0002 migration on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from typer.testing import CliRunner

from kyc.config import get_settings
from kyc.storage import Base, Database

ADMIN_TABLES = {"staff_users", "staff_sessions", "webhook_secrets", "webhook_deliveries"}


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("KYC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KYC_ENVIRONMENT", "test")
    monkeypatch.delenv("KYC_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_create_user_from_stdin_then_list_unlock_disable(cli_env):
    from kyc.admin import sign_in
    from kyc.cli import app

    run = CliRunner().invoke
    r = run(app, ["admin", "create-user", "Dana", "--role", "auditor", "--password-stdin"], input="a very long password\n")
    assert r.exit_code == 0, r.output
    assert "created dana (auditor)" in r.output
    db = Database.from_settings(get_settings())
    try:
        assert sign_in(db, get_settings(), "dana", "a very long password").role == "auditor"
        hashed = db.engine.connect().exec_driver_sql("SELECT password_hash FROM staff_users").scalar()
        assert hashed.startswith("$argon2id$") and "very long" not in hashed
    finally:
        db.dispose()
    r = run(app, ["admin", "create-user", "dana", "--role", "auditor", "--password-stdin"], input="a very long password\n")
    assert r.exit_code == 1 and "staff_user_exists" in r.output
    r = run(app, ["admin", "create-user", "eve", "--role", "superuser", "--password-stdin"], input="a very long password\n")
    assert r.exit_code == 1 and "role must be one of" in r.output
    r = run(app, ["admin", "create-user", "eve", "--role", "reviewer", "--password-stdin"], input="short\n")
    assert r.exit_code == 1 and "12 to 1024" in r.output
    r = run(app, ["admin", "create-user", "eve", "--role", "reviewer"], input="prompted password\nprompted password\n")
    assert r.exit_code == 0, r.output
    r = run(app, ["admin", "users"])
    assert "dana" in r.output and "eve" in r.output and "reviewer" in r.output
    assert run(app, ["admin", "unlock", "dana"]).exit_code == 0
    assert run(app, ["admin", "disable", "dana"]).exit_code == 0
    assert "disabled" in run(app, ["admin", "users"]).output
    assert run(app, ["admin", "unlock", "nobody"]).exit_code == 1


def _check_schema(url: str) -> None:
    db = Database(url)
    try:
        db.migrate()
        db.migrate()  # idempotent
        with db.engine.connect() as conn:
            assert ADMIN_TABLES <= set(inspect(conn).get_table_names())
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        from alembic import command
        from alembic.config import Config

        from kyc.storage.db import MIGRATIONS_DIR

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        with db.engine.connect() as conn:
            assert not ADMIN_TABLES & set(inspect(conn).get_table_names())
        db.migrate()
        with db.engine.connect() as conn:
            assert ADMIN_TABLES <= set(inspect(conn).get_table_names())
    finally:
        db.dispose()


def test_migration_sqlite(tmp_path):
    _check_schema(f"sqlite:///{tmp_path / 'kyc.db'}")


@pytest.mark.postgres
def test_migration_postgres(pg_url):
    _check_schema(pg_url)
