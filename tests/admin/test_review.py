"""A verification's page, reveals, retained images (decrypted, watermarked, never cached)
and decisions, each audited under the reviewer's identity."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import numpy as np
from PIL import Image
from sqlalchemy import select, update

from kyc.audit import verify_chain
from kyc.storage import AuditEntry, RetainedImage, Verification, utcnow
from tests.admin.seed import portrait_png


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _last(con, action: str) -> AuditEntry:
    with con.db.session() as s:
        return s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc()).limit(1)).one()


def test_page_shows_reasons_in_words_scores_against_thresholds_and_masked_fields(con):
    vid = con.seed.verification(reasons=("face_mismatch_borderline", "back.validity"), images=("id_front", "selfie"))
    con.act_as("reviewer")
    r = con.http.get(f"/admin/verifications/{vid}")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = r.text
    assert "close to, but below, the match threshold" in page
    assert "Check failed: validity" in page  # unknown codes still readable
    assert "0.410" in page and "0.450" in page and "0.930" in page  # face and liveness scores vs thresholds
    assert "张*明" in page and "张三明" not in page and "北京" not in page
    assert page.count("data-show-image=") == 2 and "<img id=" in page and ' src="' not in page.split("<main>")[1]
    assert re.search(r"Deleted in <strong[^>]*>(2 d 23 h|3 d 0 h)</strong>", page)
    e = _last(con, "review.view")
    assert e.actor == "staff:reviewer1" and e.target == f"verification:{vid}" and e.detail["images"] == 2


def test_unknown_verification_is_a_404_page(con):
    con.act_as("reviewer")
    r = con.http.get("/admin/verifications/" + "0" * 32)
    assert r.status_code == 404 and 'data-code="verification_not_found"' in r.text


def test_reveal_decrypts_on_post_and_is_audited_without_values(con):
    vid = con.seed.verification()
    con.act_as("reviewer")
    page = con.http.get(f"/admin/verifications/{vid}").text
    r = con.http.post(f"/admin/verifications/{vid}/reveal", data={"csrf_token": _csrf(page), "field": "name"})
    assert r.status_code == 200 and '<span class="revealed">张三明</span>' in r.text
    assert "11010519491231002X" not in r.text  # only the field asked for
    e = _last(con, "review.reveal")
    assert e.actor == "staff:reviewer1" and e.detail["fields"] == ["name"] and "张三明" not in str(e.detail)
    r = con.http.post(f"/admin/verifications/{vid}/reveal", data={"csrf_token": _csrf(page), "field": "*"})
    assert "11010519491231002X" in r.text and "北京市朝阳区某路1号" in r.text
    assert _last(con, "review.reveal").detail["fields"] == ["address", "birth_date", "id_number", "name", "sex"]
    assert con.http.get(f"/admin/verifications/{vid}/reveal").status_code == 405  # never by GET


def test_image_is_decrypted_watermarked_uncached_and_audited(con):
    vid = con.seed.verification(images=("selfie",))
    con.act_as("reviewer")
    page = con.http.get(f"/admin/verifications/{vid}").text
    src = re.search(r'data-src="([^"]+)"', page).group(1)
    r = con.http.get(src)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    shown = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), dtype=np.int16)
    original = np.asarray(Image.open(io.BytesIO(portrait_png())).convert("RGB"), dtype=np.int16)
    assert shown.shape == original.shape
    changed = (np.abs(shown - original).max(axis=2) > 40).mean()
    assert 0.02 < changed < 0.6  # the watermark covers part of it; the photo is still there
    e = _last(con, "review.image")
    assert e.actor == "staff:reviewer1" and e.detail["kind"] == "selfie"


def test_expired_or_foreign_images_are_not_served(con):
    vid = con.seed.verification(images=("selfie",))
    other = con.seed.verification(images=("selfie",))
    with con.db.session() as s:
        rid = s.scalar(select(RetainedImage.id).where(RetainedImage.verification_id == vid))
    con.act_as("reviewer")
    assert con.http.get(f"/admin/verifications/{other}/images/{rid}").status_code == 404
    with con.db.session() as s:
        s.execute(update(RetainedImage).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = con.http.get(f"/admin/verifications/{vid}/images/{rid}")
    assert r.status_code == 404 and 'data-code="retained_image_not_found"' in r.text
    assert "No images were retained" in con.http.get(f"/admin/verifications/{vid}").text


def test_decision_needs_a_note_then_updates_deletes_images_and_audits(con):
    vid = con.seed.verification(images=("id_front", "selfie"))
    con.act_as("reviewer")
    csrf = _csrf(con.http.get(f"/admin/verifications/{vid}").text)
    r = con.http.post(f"/admin/verifications/{vid}/decision", data={"csrf_token": csrf, "decision": "approve", "note": "   "})
    assert r.status_code == 422 and "note explaining the decision is required" in r.text
    r = con.http.post(
        f"/admin/verifications/{vid}/decision",
        data={"csrf_token": csrf, "decision": "approve", "note": "Portrait matches; older photo."},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with con.db.session() as s:
        v = s.get(Verification, vid)
        assert (v.status, v.reviewed_by, v.review_note) == ("approved", "reviewer1", "Portrait matches; older photo.")
        assert s.scalar(select(RetainedImage.id).where(RetainedImage.verification_id == vid)) is None
    e = _last(con, "review.decision")
    assert e.actor == "staff:reviewer1" and e.detail["decision"] == "approve" and e.detail["images_deleted"] == 2
    assert "older photo" not in str(e.detail)
    page = con.http.get(f"/admin/verifications/{vid}").text
    assert "Decided <strong>approved</strong> by reviewer1" in page and 'id="decision"' not in page
    # The service's API shows the review to the client application.
    api = con.http.get(f"/v1/verifications/{vid}", headers={"X-API-Key": con.seed.api_key}).json()
    assert api["status"] == "approved" and api["review"]["by"] == "reviewer1"
    # A second decision is a conflict.
    r = con.http.post(f"/admin/verifications/{vid}/decision", data={"csrf_token": csrf, "decision": "reject", "note": "again"})
    assert r.status_code == 409 and 'data-code="decision_conflict"' in r.text
    assert verify_chain(con.db).ok


def test_reject_keeps_status_rejected_and_records_the_reviewer(con):
    vid = con.seed.verification(status="rejected", reasons=("liveness_failed",))
    con.act_as("reviewer")
    csrf = _csrf(con.http.get(f"/admin/verifications/{vid}").text)
    con.http.post(f"/admin/verifications/{vid}/decision", data={"csrf_token": csrf, "decision": "reject", "note": "screen replay"})
    with con.db.session() as s:
        v = s.get(Verification, vid)
        assert v.status == "rejected" and v.reviewed_at is not None


def test_auditor_reads_the_log_paged_and_filtered(con):
    vid = con.seed.verification()
    con.act_as("reviewer")
    con.http.get(f"/admin/verifications/{vid}")
    con.act_as("auditor")
    page = con.http.get("/admin/audit?action=review.").text
    assert "staff:reviewer1" in page and "review.view" in page and "verification.create" not in page
    full = con.http.get("/admin/audit").text
    assert "Page 1 of" in full and 'rel="next"' in full  # more than 5 entries: paged
    r = con.http.get("/admin/audit?verify=1")
    assert "The chain is intact" in r.text
    assert con.http.get("/admin/audit?actor=%3Cx%3E").status_code == 422


def test_deleting_the_subject_removes_its_pending_webhook_delivery(con):
    from kyc.admin.webhooks import set_webhook
    from kyc.storage.admin_models import WebhookDelivery
    from kyc.subjects import delete_subject

    set_webhook(con.db, con.services.vault, con.console.settings, con.seed.client_id, "http://127.0.0.1:9/none", actor="test")
    con.console.dispatcher.stop()  # keep the delivery pending
    vid = con.seed.verification()
    from kyc.admin import record_decision

    record_decision(con.db, vid, "approve", "ok", reviewer="r", actor="staff:r")
    with con.db.session() as s:
        assert s.scalar(select(WebhookDelivery.status)) == "pending"
        ref = s.scalar(select(Verification.subject_id).where(Verification.id == vid))
        from kyc.storage import Subject

        subject_ref = s.get(Subject, ref).ref
    delete_subject(con.db, con.seed.client_id, subject_ref, actor="test")
    with con.db.session() as s:
        assert s.scalar(select(WebhookDelivery.id).where(WebhookDelivery.verification_id == vid)) is None
        # what is left is the deletion notice to the same client (issue 15), naming no verification row
        assert s.scalars(select(WebhookDelivery.event)).all() == ["subject.deleted"]
