"""The service's lifetime: development bootstrap keys, the periodic purge, and a KEK
rotation while verifications run (FAKE engines, see fakes.py; real storage and crypto)."""

from __future__ import annotations

import importlib
import threading
import time

import pytest
from sqlalchemy import func, select

from kyc.storage import RetainedImage, Subject, Verification
from kyc.vault import rotate_key_file
from tests.service.fakes import png

ALICE = (200, 150, 120)


@pytest.mark.parametrize(
    "name", ["kyc.storage", "kyc.vault", "kyc.audit", "kyc.consent", "kyc.access", "kyc.subjects", "kyc.verification", "kyc.client"]
)
def test_public_surfaces(name):
    module = importlib.import_module(name)
    for member in module.__all__:
        assert hasattr(module, member), f"{name}.{member}"


def test_development_start_creates_first_keys(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from kyc.config import Settings

    settings = Settings(environment="development", data_dir=tmp_path / "d")
    with TestClient(create_app(settings)) as http:
        key = (tmp_path / "d" / "dev-api-key").read_text().strip()
        admin = (tmp_path / "d" / "dev-admin-key").read_text().strip()
        assert (tmp_path / "d" / "dev-api-key").stat().st_mode & 0o777 == 0o600
        assert http.get("/v1/policies", headers={"X-API-Key": key}).status_code == 200
        assert http.post("/v1/policies", json={"version": "1", "text_sha256": "a" * 64}, headers={"X-API-Key": admin}).status_code == 201
    # a second start keeps them
    with TestClient(create_app(settings)):
        assert (tmp_path / "d" / "dev-api-key").read_text().strip() == key
    prod = Settings(environment="test", data_dir=tmp_path / "t")
    with TestClient(create_app(prod)):
        assert not (tmp_path / "t" / "dev-api-key").exists()


def test_periodic_purge_removes_expired_images(make_api):
    api = make_api(retention_hours=0.0002, purge_interval_s=0.2)  # images live 0.72 s
    cid = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})
    assert api.verify(cid, front, png(ALICE)).json()["status"] == "review"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with api.services.db.session() as s:
            if s.scalar(select(func.count()).select_from(RetainedImage)) == 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail("expired images were not purged by the service")


@pytest.mark.slow
def test_rotation_while_serving(api):
    settings = api.app.state.settings
    consents = [api.consent(f"user-{i}") for i in range(6)]
    errors: list[BaseException] = []
    reports = []

    def rotate():
        try:
            reports.append(rotate_key_file(api.services.db, settings.resolved_key_file, grace_s=0.3))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=rotate)
    t.start()
    statuses = []
    for i, cid in enumerate(consents * 2):
        r = api.verify(cid, api.fake.id_card(ALICE, marker=i, id_number=f"1101051949123{i:04d}X"), png(ALICE, marker=i))
        statuses.append(r.status_code)
        api.consent(f"late-{i}")  # new subjects get keys during the rotation
    t.join()
    assert not errors and statuses == [201] * 12
    with api.services.db.session() as s:
        assert {sub.kek_id for sub in s.scalars(select(Subject))} == {reports[0].new_kek_id}
        for v in s.scalars(select(Verification)):
            dek = api.services.vault.subject_key(s.get(Subject, v.subject_id))
            assert api.services.vault.decrypt_json(dek, "verifications", v.id, "fields", v.fields_ct)["name"] == "张三明"
