"""The edge policy (api/edge.py): every route needs a key unless marked public, engine
routes need their scopes and leave an audit entry, rate limits mean what they say.

Runs the real service with FAKE verification engines (tests/service/fakes.py); the
documents route's reader is replaced by a fake reading where noted.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from api.edge import access_of
from kyc.access import DEFAULT_SCOPES, RateLimiter, create_client, revoke_client
from kyc.errors import KycError
from kyc.storage import AuditEntry
from tests.service.fakes import png

PUBLIC = {("GET", "/v1/health"), ("GET", "/v1/receipts/public-key"), ("GET", "/admin/login"), ("POST", "/admin/login")}


def _routes(app):
    for route in iter_route_contexts(app.routes):
        if route.endpoint is not None and route.path not in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route


def test_only_marked_routes_are_public(api):
    public = {(m, r.path) for m, r in _routes(api.app) if access_of(r) == "public"}
    assert public == PUBLIC
    # every other route is either API-key (default) or the admin console's staff session
    for _, r in _routes(api.app):
        assert access_of(r) in ("api_key", "public", "staff")
        assert (access_of(r) == "staff") == (r.path.startswith("/admin") and access_of(r) != "public")


def test_every_api_key_route_refuses_a_missing_key(api):
    checked = 0
    for method, route in _routes(api.app):
        if access_of(route) != "api_key":
            continue
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        r = api.http.request(method, path)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated", (method, path, r.text)
        checked += 1
    assert checked >= 15  # documents, faces, liveness, consents, verifications, subjects, clients, policies


def test_engine_routes_need_their_scopes(api):
    img = png((200, 100, 50), (200, 200))
    db = api.services.db
    _, narrow = create_client(db, "narrow", ["consents:write"])
    h = {"X-API-Key": narrow}
    calls = [
        ("/v1/documents/read", {"files": {"file": ("a.png", img, "image/png")}}, "documents:read"),
        ("/v1/faces/compare", {"files": {"image_a": ("a.png", img, "image/png"), "image_b": ("b.png", img, "image/png")}}, "faces:compare"),
        ("/v1/liveness/sessions", {}, "liveness:write"),
    ]
    for path, kw, scope in calls:
        r = api.http.post(path, headers=h, **kw)
        assert r.status_code == 403 and r.json()["error"]["detail"]["required_scope"] == scope, r.text
    assert {"documents:read", "faces:compare", "liveness:write"} <= set(DEFAULT_SCOPES)
    assert "documents:read_plain" not in DEFAULT_SCOPES


def test_revoked_key_cannot_create_liveness_sessions(api):
    client, key = create_client(api.services.db, "gone")
    assert api.http.post("/v1/liveness/sessions", headers={"X-API-Key": key}).status_code == 201
    revoke_client(api.services.db, client.id)
    r = api.http.post("/v1/liveness/sessions", headers={"X-API-Key": key})
    assert r.status_code == 401


def test_engine_calls_are_audited(api):
    r = api.http.post("/v1/liveness/sessions", headers=api.headers)
    assert r.status_code == 201
    with api.services.db.session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "liveness.session.create")).all()
    assert len(entries) == 1 and entries[0].detail["session"] == r.json()["id"] and entries[0].detail["outcome"] == "ok"
    # a refused call is audited too, with its error code
    files = {"image_a": ("a.txt", b"not an image", "text/plain"), "image_b": ("b.txt", b"nor this", "text/plain")}
    assert api.http.post("/v1/faces/compare", files=files, headers=api.headers).status_code == 415
    with api.services.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "faces.compare")).one()
    assert entry.detail["outcome"] == "image_unsupported_type" and entry.actor.startswith("client:")


@pytest.fixture
def fake_reader(monkeypatch):
    """A FAKE document reader (the route's masking is under test, not the OCR)."""
    from kyc.ocr.reading import Document, DocumentReading

    fields = {"name": "张三明", "id_number": "11010519491231002X", "address": "北京市东城区某街1号", "sex": "男"}

    def read(data, **_):
        return DocumentReading([Document(type="cn_id_front", fields=dict(fields), checks={}, confidence={}, mrz_lines=["P<CHN"])])

    monkeypatch.setattr("api.routes.documents.read_document", read)
    return fields


def test_documents_read_masks_fields_without_the_plain_scope(api, fake_reader):
    img = png((10, 20, 30), (200, 200))
    files = {"file": ("a.png", img, "image/png")}
    body = api.http.post("/v1/documents/read", files=files, headers=api.headers).json()
    doc = body["documents"][0]
    assert body["fields_masked"] is True
    assert doc["fields"]["name"] == "张*明" and "address" not in doc["fields"] and doc.get("mrz_lines") is None
    assert fake_reader["id_number"] not in str(body)
    _, plain = create_client(api.services.db, "plain", ["documents:read", "documents:read_plain"])
    body = api.http.post("/v1/documents/read", files=files, headers={"X-API-Key": plain}).json()
    assert body["fields_masked"] is False and body["documents"][0]["fields"]["id_number"] == fake_reader["id_number"]
    schema = api.http.get("/openapi.json").json()["components"]["schemas"]
    assert "documents:read_plain" in schema["DocumentsOut"]["properties"]["fields_masked"]["description"]


def test_rate_limit_is_n_per_minute_not_a_burst():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    for _ in range(60):
        limiter.hit("k")  # the old token bucket refused the 11th of a burst
        now[0] += 0.01
    with pytest.raises(KycError) as exc:
        limiter.hit("k")
    assert exc.value.code == "rate_limited" and exc.value.detail["retry_after_s"] > 59
    now[0] = 30.0
    with pytest.raises(KycError):
        limiter.hit("k")  # still 60 within the last minute (the old bucket refilled 30 by now)
    now[0] = 60.5
    limiter.hit("k")  # the oldest hits left the window


def test_wrong_keys_are_limited_per_address(make_api):
    api = make_api(auth_failures_per_minute=5)
    codes = [api.http.get("/v1/policies", headers={"X-API-Key": f"kyc_nope_{i}"}).status_code for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    anonymous = api.http.get("/v1/policies")
    assert anonymous.status_code == 429 and "Retry-After" in anonymous.headers


def test_public_routes_are_limited_per_address(make_api):
    api = make_api(anonymous_per_minute=3)
    codes = [api.http.get("/v1/health").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
