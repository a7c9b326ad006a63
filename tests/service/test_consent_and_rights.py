"""Consent rules (pure), withdrawal, policies, export, deletion and retention, with FAKE
engines (tests/service/fakes.py) standing in for the models."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kyc.consent.rules import ConsentView, PolicyView, check_consent
from kyc.errors import KycError
from kyc.storage import Consent, RetainedImage, Subject, Verification
from kyc.vault import VaultIntegrityError
from kyc.verification import purge_expired
from tests.service.fakes import png

ALICE = (200, 150, 120)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
BOTH = frozenset({"real_name_verification", "biometric_processing"})


@pytest.mark.parametrize(
    "consent,policies,code",
    [
        (ConsentView(BOTH, "v1", False), [PolicyView("v1", False, T0)], None),
        (ConsentView(BOTH, "v1", True), [PolicyView("v1", False, T0)], "consent_withdrawn"),
        (ConsentView(frozenset({"real_name_verification"}), "v1", False), [PolicyView("v1", False, T0)], "consent_required"),
        (ConsentView(BOTH, "v1", False), [PolicyView("v1", False, T0), PolicyView("v2", False, T0 + timedelta(1))], None),
        (ConsentView(BOTH, "v1", False), [PolicyView("v1", False, T0), PolicyView("v2", True, T0 + timedelta(1))], "consent_outdated"),
        (ConsentView(BOTH, "v2", False), [PolicyView("v1", True, T0), PolicyView("v2", False, T0 + timedelta(1))], None),
    ],
)
def test_consent_rules(consent, policies, code):
    if code is None:
        check_consent(consent, policies)
    else:
        with pytest.raises(KycError) as exc:
            check_consent(consent, policies)
        assert exc.value.code == code and exc.value.status == 403


def test_policies_and_significant_change_need_new_consent(api):
    cid = api.consent("alice")
    admin = {"X-API-Key": api.admin_key}
    sha = hashlib.sha256(b"v2").hexdigest()
    r = api.http.post("/v1/policies", json={"version": "2026-06", "text_sha256": sha, "significant": True}, headers=admin)
    assert r.status_code == 201
    assert api.http.post("/v1/policies", json={"version": "2026-06", "text_sha256": sha}, headers=admin).status_code == 409
    versions = [p["version"] for p in api.http.get("/v1/policies", headers=api.headers).json()]
    assert versions == ["2026-01", "2026-06"]
    r = api.verify(cid, api.fake.id_card(ALICE), png(ALICE))
    assert r.status_code == 403 and r.json()["error"]["code"] == "consent_outdated"
    r = api.http.post(
        "/v1/consents",
        json={"subject_ref": "a", "purposes": ["real_name_verification"], "policy_version": "nope", "locale": "zh-CN", "channel": "web", "text_sha256": sha},
        headers=api.headers,
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "policy_not_found"
    r = api.http.post(
        "/v1/consents",
        json={"subject_ref": "a", "purposes": ["marketing"], "policy_version": "2026-06", "locale": "zh-CN", "channel": "web", "text_sha256": sha},
        headers=api.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"


def test_withdrawal_deletes_what_was_kept_and_stops_processing(api):
    cid = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})
    vid = api.verify(cid, front, png(ALICE)).json()["id"]
    r = api.http.post(f"/v1/consents/{cid}/withdraw", headers=api.headers)
    assert r.status_code == 200 and r.json() == {"id": cid, "withdrawn": True, "verifications_cleared": 1, "images_deleted": 2}
    with api.services.db.session() as s:
        v = s.get(Verification, vid)
        assert v.fields_ct is None and v.template_ct is None and v.id_number_index is None and v.masked_fields is None
        assert s.scalar(select(func.count()).select_from(RetainedImage)) == 0
    r = api.verify(cid, api.fake.id_card(ALICE, marker=1), png(ALICE))
    assert r.status_code == 403 and r.json()["error"]["code"] == "consent_withdrawn"
    assert api.http.get(f"/v1/consents/{cid}", headers=api.headers).json()["withdrawn_at"]


def test_export_holds_everything_decrypted(api):
    cid = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})
    api.verify(cid, front, png(ALICE), back=api.fake.id_back())
    r = api.http.get("/v1/subjects/alice/export", headers=api.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["subject_ref"] == "alice" and body["consents"][0]["id"] == cid
    v = body["verifications"][0]
    assert v["fields"]["name"] == "张三明" and v["fields"]["id_number"] == "11010519491231183X"
    assert v["fields"]["issuing_authority"] == "北京市公安局东城分局"
    assert v["face_template"] and len(v["retained_images"]) == 3
    assert api.http.get("/v1/subjects/nobody/export", headers=api.headers).json()["error"]["code"] == "subject_not_found"
    # another client's key cannot export this subject
    assert api.http.get("/v1/subjects/alice/export", headers={"X-API-Key": api.other_key}).status_code == 404


def test_delete_shreds_the_subject(api):
    cid = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})
    vid = api.verify(cid, front, png(ALICE)).json()["id"]
    with api.services.db.session() as s:  # a "backup" of the ciphertext before deletion
        backup_ct = s.get(Verification, vid).fields_ct
        subject = s.scalar(select(Subject).where(Subject.ref == "alice"))
        old_key = api.services.vault.subject_key(subject)
    r = api.http.delete("/v1/subjects/alice", headers=api.headers)
    assert r.status_code == 200 and r.json()["verifications"] == 1 and r.json()["retained_images"] == 2
    with api.services.db.session() as s:
        for table in (Subject, Consent, Verification, RetainedImage):
            assert s.scalar(select(func.count()).select_from(table)) == 0
    # with the old key the backup still opens (proves the test), with any new key it does not
    assert api.services.vault.decrypt_json(old_key, "verifications", vid, "fields", backup_ct)["name"] == "张三明"
    api.consent("alice")  # same ref again: a new subject with a new key
    with api.services.db.session() as s:
        new_key = api.services.vault.subject_key(s.scalar(select(Subject).where(Subject.ref == "alice")))
    with pytest.raises(VaultIntegrityError):
        api.services.vault.decrypt(new_key, "verifications", vid, "fields", backup_ct)
    assert api.http.delete("/v1/subjects/alice", headers={"X-API-Key": api.other_key}).status_code == 404


def test_purge_removes_expired_images_only(api):
    cid = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})
    api.verify(cid, front, png(ALICE))
    db = api.services.db
    assert purge_expired(db) == 0
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RetainedImage)) == 2
    later = datetime.now(UTC) + timedelta(hours=api.app.state.settings.retention_hours, minutes=1)
    assert purge_expired(db, now=later) == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RetainedImage)) == 0
