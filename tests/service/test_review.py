"""Review helpers for the admin console: queue, reveal, retained images, decisions, audit
(FAKE engines, see fakes.py; real storage, vault and audit)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kyc.errors import KycError
from kyc.storage import AuditEntry
from kyc.verification import QueueFilter, record_review, retained_images, reveal_fields, review_queue
from tests.service.fakes import png

ALICE = (200, 150, 120)
BOB = (40, 90, 200)


def test_review_flow(api):
    db, vault = api.services.db, api.services.vault
    cid = api.consent("alice", purposes=("real_name_verification", "biometric_processing", "retain_for_review"))
    front = api.fake.id_card(ALICE, checks={"region_code": (False, "id_region_unknown")})
    in_review = api.verify(cid, front, png(ALICE)).json()["id"]
    rejected = api.verify(cid, api.fake.id_card(ALICE, marker=1, id_number="110105194912310000"), png(BOB)).json()["id"]
    approved = api.verify(cid, api.fake.id_card(ALICE, marker=2, id_number="110105194912311111"), png(ALICE)).json()["id"]

    assert [v.id for v in review_queue(db, vault, QueueFilter())] == [rejected, in_review]
    assert [v.id for v in review_queue(db, vault, QueueFilter(statuses=("review",)))] == [in_review]
    assert [v.id for v in review_queue(db, vault, QueueFilter(reason="face_mismatch"))] == [rejected]
    assert [v.id for v in review_queue(db, vault, QueueFilter(id_number="11010519491231183x"))] == [in_review]
    assert approved not in [v.id for v in review_queue(db, vault, QueueFilter(limit=10))]

    assert reveal_fields(db, vault, in_review, actor="staff:rita")["name"] == "张三明"
    images = retained_images(db, vault, in_review, actor="staff:rita")
    assert sorted(i.kind for i in images) == ["id_front", "selfie"] and any(i.data == front for i in images)

    with pytest.raises(KycError):
        record_review(db, in_review, decision="approved", note=" ", actor="staff:rita")
    v = record_review(db, in_review, decision="approved", note="region code list outdated", actor="staff:rita")
    assert v.status == "approved" and v.reviewed_by == "staff:rita"
    with pytest.raises(KycError):
        record_review(db, in_review, decision="rejected", note="again", actor="staff:rita")
    got = api.http.get(f"/v1/verifications/{in_review}", headers=api.headers).json()
    assert got["status"] == "approved" and got["review"]["note"] == "region code list outdated"
    with db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "staff:rita"))]
    assert actions == ["verification.reveal", "verification.view_images", "verification.review"]
