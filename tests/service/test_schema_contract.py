"""The API contract: distinct codes for 405 / malformed bodies / validation, formats and
patterns, future times refused, unique stable model names, /docs only in development,
data files 0600. Real service, FAKE engines (fakes.py)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import stat
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from tests.service.conftest import CONSENT_TEXT_SHA


def _consent_body(**over):
    body = {
        "subject_ref": "u-1",
        "purposes": ["real_name_verification", "biometric_processing"],
        "policy_version": "2026-01",
        "locale": "zh-CN",
        "channel": "ios_app",
        "text_sha256": CONSENT_TEXT_SHA,
    }
    return {**body, **over}


def test_405_and_malformed_bodies_have_their_own_codes(api):
    r = api.http.put("/v1/consents", json=_consent_body(), headers=api.headers)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = api.http.post("/v1/consents", content=b"{not json", headers={**api.headers, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_body"
    r = api.http.post("/v1/consents", json=_consent_body(purposes=[]), headers=api.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    r = api.http.post("/v1/faces/compare", content=b"--x\r\nbroken", headers={**api.headers, "Content-Type": "multipart/form-data"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_body"


def test_text_sha256_has_a_pattern_and_future_times_are_refused(api):
    r = api.http.post("/v1/consents", json=_consent_body(text_sha256="z" * 64), headers=api.headers)
    assert r.status_code == 422
    r = api.http.post("/v1/consents", json=_consent_body(consented_at="9999-01-01T00:00:00Z"), headers=api.headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert api.http.post("/v1/consents", json=_consent_body(consented_at=soon), headers=api.headers).status_code == 422
    past = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    assert api.http.post("/v1/consents", json=_consent_body(consented_at=past), headers=api.headers).status_code == 201
    admin = {"X-API-Key": api.admin_key}
    assert api.http.post("/v1/policies", json={"version": "v9", "text_sha256": "nothex"}, headers=admin).status_code == 422
    schemas = api.http.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ConsentIn"]["properties"]["text_sha256"]["pattern"]
    assert schemas["PolicyIn"]["properties"]["text_sha256"]["pattern"]
    assert schemas["ConsentIn"]["properties"]["subject_ref"]["pattern"]


def test_documented_codes_and_non_nullable_model(api):
    spec = api.http.get("/openapi.json").json()
    verification = str(spec["paths"]["/v1/verifications"]["post"]["responses"])
    assert "liveness_result_not_found" in verification and "service_busy" in verification
    ref = spec["paths"]["/v1/faces/compare"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    model = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["model"]
    assert "null" not in str(model) and model["enum"] == ["dlib", "mobilefacenet", "fused", "cascade"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if path not in ("/v1/health", "/v1/receipts/public-key") and not path.startswith("/admin"):  # the public ones
                assert {"401", "403", "429"} <= set(op["responses"]), (method, path)
            if "requestBody" in op:
                assert {"400", "413", "422"} <= set(op["responses"]), (method, path)


def test_schema_names_are_unique_and_carry_no_module_paths(api):
    names = list(api.http.get("/openapi.json").json()["components"]["schemas"])
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", n) for n in names), [n for n in names if "__" in n or "." in n]
    # every response/request model of the API has a name no other model of the API uses
    import api as api_pkg

    seen: dict[str, str] = {}
    for mod in pkgutil.walk_packages(api_pkg.__path__, "api."):
        module = importlib.import_module(mod.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                assert seen.setdefault(obj.__name__, module.__name__) == module.__name__, (
                    f"{obj.__name__} defined in {seen[obj.__name__]} and {module.__name__}"
                )


def test_docs_only_in_development(make_api, tmp_path):
    api = make_api()
    assert api.http.get("/docs").status_code == 404
    assert api.http.get("/openapi.json").status_code == 200  # public: SDKs are generated from it
    from fastapi.testclient import TestClient

    from api.main import create_app
    from kyc.config import Settings

    dev = Settings(environment="development", data_dir=tmp_path / "dev", bootstrap_api_key=False)
    with TestClient(create_app(dev)) as http:
        assert http.get("/docs").status_code == 200


def test_database_file_is_private(svc_settings):
    if not svc_settings.resolved_database_url.startswith("sqlite"):
        return
    from kyc.storage import Database

    db = Database.from_settings(svc_settings)
    db.migrate()
    path = svc_settings.data_dir / "kyc.db"
    db.dispose()
    for f in [path, *path.parent.glob("kyc.db-*")]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
