"""Fixtures for the verification service: a database parametrised over SQLite and
PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema per test), and an API
client running the real service with FAKE engines (see fakes.py)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from kyc.config import Settings
from tests.service.fakes import FakeEngines

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POLICY_TEXT_SHA = hashlib.sha256(b"privacy policy v1").hexdigest()
CONSENT_TEXT_SHA = hashlib.sha256(b"I agree to real-name verification").hexdigest()

_pg_state: dict[str, object] = {}


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason (checked once)."""
    if "reason" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=3):
                pass
            _pg_state["reason"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
            _pg_state["reason"] = f"PostgreSQL at 127.0.0.1:5432 not reachable ({type(exc).__name__})"
    return _pg_state["reason"]  # type: ignore[return-value]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'kyc.db'}"
        return
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = "kyc_t_" + uuid.uuid4().hex[:12]
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def svc_settings(tmp_path: Path, db_url: str) -> Settings:
    # The fake engines' selfies stand for a passive "live" at the operating point; these
    # tests are about the service, so they let passive evidence approve (the default,
    # active only, is tested in test_liveness_rules.py).
    rules = tmp_path / "rules.toml"
    rules.write_text('liveness_evidence = "either"\n')
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=db_url,
        verification_deadline_s=10,
        purge_interval_s=3600,
        decision_rules_file=rules,
    )


@pytest.fixture
def db(svc_settings):
    from kyc.storage import Database

    d = Database.from_settings(svc_settings)
    d.migrate()
    yield d
    d.dispose()


@dataclass
class Api:
    """The running service (TestClient), its fake engines and two client keys."""

    http: object
    app: object
    fake: FakeEngines
    key: str
    admin_key: str
    other_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    @property
    def services(self):
        return self.app.state.services

    def consent(self, ref: str = "user-1", purposes=("real_name_verification", "biometric_processing"), key=None) -> str:
        r = self.http.post(
            "/v1/consents",
            json={
                "subject_ref": ref,
                "purposes": list(purposes),
                "policy_version": "2026-01",
                "locale": "zh-CN",
                "channel": "ios_app",
                "text_sha256": CONSENT_TEXT_SHA,
            },
            headers={"X-API-Key": key or self.key},
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def verify(self, consent_id: str, front: bytes, selfie: bytes | None, back: bytes | None = None, key=None, idem=None, **extra):
        files = {"id_front": ("front.png", front, "image/png")}
        if selfie is not None:
            files["selfie"] = ("selfie.png", selfie, "image/png")
        if back is not None:
            files["id_back"] = ("back.png", back, "image/png")
        headers = {"X-API-Key": key or self.key}
        if idem:
            headers["Idempotency-Key"] = idem
        return self.http.post("/v1/verifications", data={"consent_id": consent_id, **extra}, files=files, headers=headers)


@pytest.fixture
def make_api(svc_settings):
    """Start the service (with FAKE engines) under given settings overrides."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from kyc.access import create_client
    from kyc.consent import publish_policy

    stack = []

    def start(**overrides) -> Api:
        settings = svc_settings.model_copy(update=overrides)
        fake = FakeEngines()
        app = create_app(settings)
        app.state.engines = fake.engines()
        http = TestClient(app)
        http.__enter__()
        stack.append(http)
        db = app.state.services.db
        _, key = create_client(db, "app-one")
        _, other = create_client(db, "app-two")
        _, admin = create_client(db, "ops", [], is_admin=True)
        publish_policy(db, "2026-01", POLICY_TEXT_SHA, False, actor="test")
        return Api(http, app, fake, key, admin, other)

    yield start
    for http in stack:
        http.__exit__(None, None, None)


@pytest.fixture
def api(make_api) -> Api:
    return make_api()
