"""The whole service with the REAL engines (PP-OCR, MTCNN/dlib/MobileFaceNet, the passive
liveness classifier): a synthetic Chinese ID card that carries a real person's face, a
selfie of the same person, and a selfie of somebody else."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from benchmarks.synthetic_cards import photograph, random_identity, render_back, render_front
from kyc.config import Settings, get_settings
from kyc.verification import mask_fields

pytestmark = [pytest.mark.models, pytest.mark.slow]

POLICY_SHA = "a" * 64
CONSENT_SHA = "b" * 64
PURPOSES = ["real_name_verification", "biometric_processing"]


def _png_bytes(path) -> bytes:
    buf = io.BytesIO()
    Image.open(path).convert("RGB").save(buf, format="JPEG", quality=92)
    return buf.getvalue()


@pytest.fixture(scope="module")
def faces(shared_data):
    root = shared_data / "faces" / "deepface_tests"
    # master.csv lists img1/img2 as the same person and img20/img1 as different people.
    return {"holder": root / "img1.jpg", "holder_selfie": root / "img2.jpg", "other": root / "img20.jpg"}


@pytest.fixture(scope="module")
def card(faces):
    rng = random.Random("e2e-card")
    ident = random_identity(rng)
    holder = Image.open(faces["holder"]).convert("RGB")
    w, h = holder.size
    portrait = holder.crop((int(w * 0.15), int(h * 0.1), int(w * 0.85), int(h * 0.75)))
    front = photograph(render_front(ident, rng, portrait=portrait), seed=1)
    back = photograph(render_back(ident, rng), seed=2)
    return ident, front, back


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from kyc.access import create_client
    from kyc.consent import publish_policy

    settings = Settings(
        environment="test",
        data_dir=tmp_path_factory.mktemp("e2e"),
        models_dir=get_settings().resolved_models_dir,
        verification_deadline_s=120,
        purge_interval_s=3600,
    )
    app = create_app(settings)
    with TestClient(app) as http:
        db = app.state.services.db
        _, key = create_client(db, "e2e-app")
        publish_policy(db, "2026-01", POLICY_SHA, False, actor="test")
        yield http, {"X-API-Key": key}


def _consent(http, headers, ref: str) -> str:
    r = http.post(
        "/v1/consents",
        json={"subject_ref": ref, "purposes": PURPOSES, "policy_version": "2026-01", "locale": "zh-CN", "channel": "test", "text_sha256": CONSENT_SHA},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _verify(http, headers, consent_id: str, front: bytes, back: bytes, selfie: bytes):
    files = {
        "id_front": ("front.jpg", front, "image/jpeg"),
        "id_back": ("back.jpg", back, "image/jpeg"),
        "selfie": ("selfie.jpg", selfie, "image/jpeg"),
    }
    r = http.post("/v1/verifications", data={"consent_id": consent_id}, files=files, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_holder_matches_card_and_document_is_read(service, card, faces):
    http, headers = service
    ident, front, back = card
    body = _verify(http, headers, _consent(http, headers, "holder"), front, back, _png_bytes(faces["holder_selfie"]))

    truth = mask_fields({"name": ident.name, "id_number": ident.id_number})
    assert body["document"]["fields"]["name"] == truth["name"]
    assert body["document"]["fields"]["id_number"] == truth["id_number"]
    face = body["scores"]["face"]
    assert face["match"] is True and face["similarity"] >= face["threshold"]
    assert "face_mismatch" not in body["reasons"]
    # The decision follows from the reasons: none means approved, any means not approved.
    assert (body["status"] == "approved") == (body["reasons"] == [])


def test_someone_else_is_rejected_as_a_face_mismatch(service, card, faces):
    http, headers = service
    _, front, back = card
    body = _verify(http, headers, _consent(http, headers, "impostor"), front, back, _png_bytes(faces["other"]))
    assert body["scores"]["face"]["match"] is False
    assert "face_mismatch" in body["reasons"] and body["status"] == "rejected"


def test_selfie_without_a_face_is_a_clear_4xx(service, card):
    http, headers = service
    _, front, back = card
    blank = io.BytesIO()
    Image.new("RGB", (400, 400), (200, 180, 160)).save(blank, format="PNG")
    files = {"id_front": ("front.jpg", front, "image/jpeg"), "selfie": ("selfie.png", blank.getvalue(), "image/png")}
    r = http.post("/v1/verifications", data={"consent_id": _consent(http, headers, "noface")}, files=files, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "face_not_found"


def test_card_with_its_mrz_on_the_back(service, shared_data):
    """The shared US permanent-resident mock: no layout we parse on the front, a TD1 MRZ on
    the back. The MRZ is the document and the front photo's face is the portrait."""
    http, headers = service
    root = shared_data / "faces" / "kyc_sets" / "mock-documents"
    front, back, selfie = (_png_bytes(root / f"set_3_{p}.png") for p in ("doc_front", "doc_back", "selfie"))
    body = _verify(http, headers, _consent(http, headers, "set3"), front, back, selfie)
    assert body["document"]["type"] == "mrz_td1", body
    fields = body["document"]["fields"]
    # the MRZ's document number and names under the common, masked field names
    assert fields["id_number"] == "*******23" and fields["name"] == "D**********E", fields
    assert body["scores"]["face"]["match"] is True
