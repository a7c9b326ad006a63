"""Verification API end to end through the real service, storage and vault, with FAKE
engines (tests/service/fakes.py) in place of the document, face and liveness models."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kyc.storage import AuditEntry, RetainedImage, Verification
from tests.service.fakes import SPOOF_SIZE, png

ALICE = (200, 150, 120)
BOB = (40, 90, 200)


def test_approved_verification_is_masked_and_readable_back(api):
    cid = api.consent("alice")
    r = api.verify(cid, api.fake.id_card(ALICE), png(ALICE), back=api.fake.id_back())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "approved" and body["reasons"] == []
    assert body["document"]["fields"]["name"] == "张*明"
    assert body["document"]["fields"]["id_number"] == "1101**********183X"
    assert body["scores"]["face"]["similarity"] > 0.9 and body["scores"]["face"]["threshold"] == 0.9
    assert body["scores"]["face"]["operating_point"] == "fmr_1e-3"
    assert body["scores"]["liveness"]["kind"] == "passive"
    got = api.http.get(f"/v1/verifications/{body['id']}", headers=api.headers)
    assert got.status_code == 200 and got.json()["status"] == "approved"
    # another client cannot see it
    other = api.http.get(f"/v1/verifications/{body['id']}", headers={"X-API-Key": api.other_key})
    assert other.status_code == 404 and other.json()["error"]["code"] == "verification_not_found"
    # the plain name never reaches the database row
    with api.services.db.session() as s:
        row = s.get(Verification, body["id"])
        assert "张三明".encode() not in row.fields_ct and b"183X" not in row.fields_ct
        assert row.id_number_index and "183X" not in row.id_number_index
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "verification.create")) == 1


def test_face_mismatch_rejects_and_spoof_fails_liveness(api):
    cid = api.consent("alice")
    r = api.verify(cid, api.fake.id_card(ALICE), png(BOB))
    assert r.status_code == 201 and r.json()["status"] == "rejected"
    assert "face_mismatch" in r.json()["reasons"]
    r = api.verify(cid, api.fake.id_card(ALICE, marker=1), png(ALICE, SPOOF_SIZE))
    assert r.json()["status"] == "rejected" and r.json()["reasons"] == ["liveness_failed"]


def test_failed_document_check_goes_to_review_and_retains_images_only_with_consent(api):
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})
    no_retain = api.consent("alice")
    r = api.verify(no_retain, front, png(ALICE))
    assert r.json()["status"] == "review" and r.json()["reasons"] == ["id_region_unknown"]
    retain = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    r2 = api.verify(retain, front, png(ALICE, marker=2), back=api.fake.id_back())
    assert r2.json()["status"] == "review"
    with api.services.db.session() as s:
        images = s.scalars(select(RetainedImage)).all()
        assert {i.verification_id for i in images} == {r2.json()["id"]}
        assert sorted(i.kind for i in images) == ["id_back", "id_front", "selfie"]
        assert all(front not in i.ciphertext for i in images)


def test_idempotency_key_replays_and_detects_a_different_request(api):
    cid = api.consent("alice")
    front, selfie = api.fake.id_card(ALICE), png(ALICE)
    first = api.verify(cid, front, selfie, idem="req-1")
    again = api.verify(cid, front, selfie, idem="req-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    different = api.verify(cid, front, png(ALICE, marker=9), idem="req-1")
    assert different.status_code == 409 and different.json()["error"]["code"] == "idempotency_conflict"
    with api.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Verification)) == 1


def test_duplicate_id_number_for_another_subject_is_flagged(api):
    a = api.consent("alice")
    assert api.verify(a, api.fake.id_card(ALICE), png(ALICE)).json()["status"] == "approved"
    b = api.consent("mallory")
    r = api.verify(b, api.fake.id_card(ALICE, marker=3), png(ALICE, marker=3))
    assert r.json()["status"] == "review" and "duplicate_identity" in r.json()["reasons"]
    # the same subject verifying again is not a duplicate
    r = api.verify(a, api.fake.id_card(ALICE, marker=4), png(ALICE, marker=4))
    assert r.json()["status"] == "approved"


def test_consent_gates_processing(api):
    only_ocr = api.consent("alice", purposes=("real_name_verification",))
    api.fake.calls = 0
    r = api.verify(only_ocr, api.fake.id_card(ALICE), png(ALICE))
    assert r.status_code == 403 and r.json()["error"]["code"] == "consent_required"
    assert api.fake.calls == 0  # nothing was read
    r = api.verify("0" * 32, api.fake.id_card(ALICE), png(ALICE))
    assert r.status_code == 404 and r.json()["error"]["code"] == "consent_not_found"
    # a consent of another client is not found either
    theirs = api.consent("alice", key=api.other_key)
    assert api.verify(theirs, api.fake.id_card(ALICE), png(ALICE)).json()["error"]["code"] == "consent_not_found"


def test_bad_input_has_stable_codes(api):
    cid = api.consent("alice")
    r = api.verify(cid, b"%PDF-1.4 not an image", png(ALICE))  # refused by the upload path, before any engine
    assert r.status_code == 415 and r.json()["error"]["code"] == "image_unsupported_type"
    r = api.verify(cid, api.fake.id_card(ALICE), b"not an image")
    assert r.status_code == 415 and r.json()["error"]["code"] == "image_unsupported_type"
    r = api.verify(cid, api.fake.id_card(ALICE), None)
    assert r.status_code == 422 and r.json()["error"]["code"] == "upload_missing"
    r = api.verify(cid, api.fake.id_card(ALICE), png(ALICE), liveness_session_id="abc")
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    r = api.http.post("/v1/verifications", json={"consent_id": cid}, headers=api.headers)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    r = api.verify(cid, api.fake.id_card(ALICE), png((0, 0, 0)))
    assert r.status_code == 422 and r.json()["error"]["code"] == "face_not_found"
    r = api.verify(cid, api.fake.id_card(ALICE), None, liveness_session_id="nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "liveness_session_not_found"


def test_keys_scopes_and_rate_limits(make_api):
    api = make_api(rate_limit_per_minute=60, subject_failure_limit=3)
    assert api.http.get("/v1/policies").json()["error"]["code"] == "unauthenticated"
    assert api.http.get("/v1/policies", headers={"X-API-Key": "kyc_abc_wrong"}).status_code == 401
    assert api.http.get("/v1/policies", headers={"Authorization": f"Bearer {api.key}"}).status_code == 200
    # a client key cannot publish policies; an admin key has no client scopes
    r = api.http.post("/v1/policies", json={"version": "x", "text_sha256": "0" * 64}, headers=api.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = api.http.post("/v1/verifications", headers={"X-API-Key": api.admin_key})
    assert r.status_code == 403
    # per-subject failures: three rejected attempts, then rate_limited
    cid = api.consent("alice")
    for i in range(3):
        assert api.verify(cid, api.fake.id_card(ALICE, marker=10 + i), png(BOB)).json()["status"] == "rejected"
    r = api.verify(cid, api.fake.id_card(ALICE, marker=20), png(ALICE))
    assert r.status_code == 429 and r.json()["error"]["detail"]["scope"] == "subject"
    # per key: exactly 60 in a minute, the 61st is refused
    answers = [api.http.get("/v1/policies", headers={"X-API-Key": api.other_key}) for _ in range(61)]
    codes = [a.status_code for a in answers]
    assert codes[:60] == [200] * 60 and codes[60] == 429
    limited = answers[codes.index(429)]
    assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1


def test_deadline_exceeded_stores_nothing(make_api):
    api = make_api(verification_deadline_s=0.3)
    api.fake.delay_s = 1.0
    cid = api.consent("alice")
    r = api.verify(cid, api.fake.id_card(ALICE), png(ALICE))
    assert r.status_code == 504 and r.json()["error"]["code"] == "deadline_exceeded"
    api.services.verifications._pool.shutdown(wait=True)  # let the abandoned worker finish
    with api.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Verification)) == 0


@pytest.mark.parametrize("path,method", [("/v1/verifications", "post"), ("/v1/consents", "post"), ("/v1/subjects/{subject_ref}", "delete")])
def test_openapi_documents_the_error_codes(api, path, method):
    spec = api.http.get("/openapi.json").json()
    op = spec["paths"][path][method]
    text = str(op["responses"])
    assert "unauthenticated" in text and "rate_limited" in text
    if path == "/v1/verifications":
        assert "consent_required" in text and "idempotency_conflict" in text and "multipart/form-data" in op["requestBody"]["content"]


def test_every_service_route_documents_auth_errors(api):
    spec = api.http.get("/openapi.json").json()
    mine = [p for p in spec["paths"] if p.split("/")[2] in ("policies", "consents", "verifications", "subjects", "clients")]
    assert len(mine) >= 8
    for path in mine:
        for method, op in spec["paths"][path].items():
            assert "401" in op["responses"] and "429" in op["responses"], (method, path)
            assert all("Error codes" in r["description"] for s, r in op["responses"].items() if s[0] in "45"), (method, path)


def test_concurrent_retries_with_one_key_make_one_verification(api):
    from concurrent.futures import ThreadPoolExecutor

    api.fake.delay_s = 0.3
    cid = api.consent("alice")
    front, selfie = api.fake.id_card(ALICE), png(ALICE)
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: api.verify(cid, front, selfie, idem="same"), range(3)))
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    with api.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Verification)) == 1
