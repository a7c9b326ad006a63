"""Capture sessions over HTTP: made with an API key, used with the token alone, single use,
expiring, rate-limited per token, ending in a stored verification and a signed webhook.

The verification engines are FAKE here (tests/service/fakes.py: a person is a colour);
the real engines drive the same routes in tests/capture/test_browser_flow.py.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from tests.capture.conftest import POLICY_SHA, POLICY_TEXT, PURPOSES, FakeActive

RED = (200, 40, 40)


def new_session(api, ref="user-cap-1", key=None, **overrides):
    body = {"subject_ref": ref, "purposes": PURPOSES, "policy_version": "2026-02", "policy_text": POLICY_TEXT, **overrides}
    return api.http.post("/v1/capture-sessions", json=body, headers={"X-API-Key": key or api.key})


def tok(token):
    return {"X-Capture-Token": token}


def consent(api, token, purposes=("real_name_verification", "biometric_processing"), sha=POLICY_SHA):
    return api.http.post("/v1/capture/consent", json={"purposes": list(purposes), "locale": "en", "text_sha256": sha}, headers=tok(token))


def test_session_needs_an_api_key_with_both_scopes(capture_api):
    from kyc.access import create_client

    assert new_session(capture_api, key="kyc_nope_nope").status_code == 401
    _, reader = create_client(capture_api.services.db, "reader", ["verifications:write"])
    r = new_session(capture_api, key=reader)
    assert r.status_code == 403 and r.json()["error"]["detail"]["required_scope"] == "consents:write"


def test_session_answers_a_single_use_url_and_token(capture_api):
    r = new_session(capture_api)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["token"].startswith("cap_") and body["url"].endswith("/capture/" + body["token"])
    # only the hash is stored
    from kyc.storage.capture_models import CaptureSession

    with capture_api.services.db.session() as s:
        row = s.get(CaptureSession, body["id"])
        assert row.token_sha256 == hashlib.sha256(body["token"].encode()).hexdigest()
        assert body["token"] not in json.dumps([row.token_sha256, row.subject_ref, row.policy_text])


def test_policy_text_must_be_the_published_one(capture_api):
    r = new_session(capture_api, policy_text=POLICY_TEXT + " (edited)")
    assert r.status_code == 422 and r.json()["error"]["code"] == "policy_text_mismatch"
    r = new_session(capture_api, policy_version="1999-01")
    assert r.status_code == 404 and r.json()["error"]["code"] == "policy_not_found"
    r = new_session(capture_api, purposes=["real_name_verification", "retain_for_review"])
    assert r.status_code == 422


def test_token_routes_take_the_token_alone(capture_api):
    token = new_session(capture_api).json()["token"]
    # the API key is not a capture token
    r = capture_api.http.get("/v1/capture/session", headers=capture_api.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "capture_session_not_found"
    assert capture_api.http.get("/v1/capture/session", headers=tok("cap_" + "x" * 43)).status_code == 404
    r = capture_api.http.get("/v1/capture/session", headers=tok(token))
    assert r.status_code == 200
    page = r.json()
    assert page["policy_text"] == POLICY_TEXT and page["state"] == "created"
    assert set(page["required_purposes"]) == {"real_name_verification", "biometric_processing"}
    assert "subject_ref" not in json.dumps(page) and "user-cap-1" not in json.dumps(page)
    assert r.headers["cache-control"] == "no-store"
    # the token opens nothing else
    assert capture_api.http.get("/v1/consents/x", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_consent_is_recorded_with_channel_capture_and_the_text_hash(capture_api):
    token = new_session(capture_api).json()["token"]
    r = consent(capture_api, token, purposes=("real_name_verification",))
    assert r.status_code == 403 and r.json()["error"]["code"] == "consent_required"
    r = consent(capture_api, token, sha=hashlib.sha256(b"other text").hexdigest())
    assert r.status_code == 422 and r.json()["error"]["code"] == "policy_text_mismatch"
    assert consent(capture_api, token, purposes=PURPOSES).status_code == 200
    assert consent(capture_api, token).json()["error"]["code"] == "capture_step_invalid"  # once
    from kyc.storage import Consent
    from kyc.storage.capture_models import CaptureSession

    with capture_api.services.db.session() as s:
        row = s.scalar(select(CaptureSession))
        c = s.get(Consent, row.consent_id)
        assert (c.channel, c.text_sha256, c.locale, c.policy_version) == ("capture", POLICY_SHA, "en", "2026-02")
        assert sorted(c.purposes) == sorted(PURPOSES)


def test_steps_out_of_order_are_refused(capture_api):
    token = new_session(capture_api).json()["token"]
    png = capture_api.fake.id_card(RED)
    r = capture_api.http.post("/v1/capture/documents/front", files={"file": ("f.png", png, "image/png")}, headers=tok(token))
    assert r.status_code == 409 and r.json()["error"]["code"] == "capture_step_invalid"
    assert capture_api.http.post("/v1/capture/liveness", headers=tok(token)).status_code == 409
    r = capture_api.http.post("/v1/capture/complete", files={"id_front": ("f.png", png, "image/png")}, headers=tok(token))
    assert r.status_code == 409


def test_liveness_attempts_are_limited_per_session(make_api):
    from kyc.consent import publish_policy

    api = make_api(capture_liveness_attempts=2)
    publish_policy(api.services.db, "2026-02", POLICY_SHA, False, actor="test")
    token = new_session(api).json()["token"]
    consent(api, token)
    first = api.http.post("/v1/capture/liveness", headers=tok(token))
    assert first.status_code == 201 and first.json()["actions"]
    assert api.http.post("/v1/capture/liveness", headers=tok(token)).status_code == 201
    r = api.http.post("/v1/capture/liveness", headers=tok(token))
    assert r.status_code == 429 and r.json()["error"]["code"] == "capture_attempts_exhausted"
    # the first challenge was replaced: its frames are refused with this token
    r = api.http.post(
        f"/v1/capture/liveness/{first.json()['id']}/frames",
        data={"timestamps": "0", "nonce": first.json()["nonce"]},
        files={"frames": ("0.jpg", b"x", "image/jpeg")},
        headers=tok(token),
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "liveness_session_not_found"


def _complete(api, token, front, back=None):
    ch = api.http.post("/v1/capture/liveness", headers=tok(token)).json()
    files = {"id_front": ("front.png", front, "image/png")}
    if back is not None:
        files["id_back"] = ("back.png", back, "image/png")
    return ch, api.http.post("/v1/capture/complete", data={"liveness_session_id": ch["id"]}, files=files, headers=tok(token))


def _selfie_frame(colour):
    return np.full((200, 160, 3), colour[::-1], np.uint8)  # BGR


def test_the_flow_ends_in_a_stored_verification_and_a_signed_webhook(capture_api):
    from kyc.admin import set_webhook
    from kyc.storage.admin_models import WebhookDelivery

    db, vault = capture_api.services.db, capture_api.services.vault
    from kyc.access import authenticate

    cid = authenticate(db, capture_api.key).client_id
    secret = set_webhook(db, vault, capture_api.app.state.settings, cid, "http://127.0.0.1:9/hook", actor="test")
    token = new_session(capture_api).json()["token"]
    assert consent(capture_api, token).status_code == 200
    ch = capture_api.http.post("/v1/capture/liveness", headers=tok(token)).json()
    capture_api.active_results[ch["id"]] = FakeActive(True, _selfie_frame(RED))
    r = capture_api.http.post(
        "/v1/capture/complete",
        data={"liveness_session_id": ch["id"]},
        files={"id_front": ("front.png", capture_api.fake.id_card(RED), "image/png"), "id_back": ("b.png", capture_api.fake.id_back(), "image/png")},
        headers=tok(token),
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["result"] == "done" and set(out) == {"result", "verification_id"}  # no scores for the page
    v = capture_api.http.get(f"/v1/verifications/{out['verification_id']}", headers=capture_api.headers).json()
    assert v["status"] == "approved" and v["subject_ref"] == "user-cap-1" and v["scores"]["liveness"]["kind"] == "active"
    with db.session() as s:
        d = s.scalar(select(WebhookDelivery).where(WebhookDelivery.verification_id == out["verification_id"]))
        body = json.loads(d.body)
    assert d.event == "verification.completed" and body["status"] == "approved" and body["capture_session_id"]
    assert secret and d.status == "pending" and d.url == "http://127.0.0.1:9/hook"  # sent and verified in test_browser_flow
    # single use: the token is spent
    r = capture_api.http.get("/v1/capture/session", headers=tok(token))
    assert r.status_code == 409 and r.json()["error"]["code"] == "capture_session_used"


def test_a_failed_challenge_is_stored_and_told_as_try_again(capture_api):
    token = new_session(capture_api, ref="user-cap-2").json()["token"]
    consent(capture_api, token)
    ch = capture_api.http.post("/v1/capture/liveness", headers=tok(token)).json()
    capture_api.active_results[ch["id"]] = FakeActive(False, _selfie_frame(RED), score=0.1, reasons=("frames_frozen",))
    r = capture_api.http.post(
        "/v1/capture/complete", data={"liveness_session_id": ch["id"]},
        files={"id_front": ("front.png", capture_api.fake.id_card(RED), "image/png")}, headers=tok(token),
    )
    assert r.status_code == 200 and r.json()["result"] == "retry"
    v = capture_api.http.get(f"/v1/verifications/{r.json()['verification_id']}", headers=capture_api.headers).json()
    assert v["status"] == "rejected"


def test_expired_sessions_are_refused(capture_api):
    from kyc.storage.capture_models import CaptureSession
    from kyc.storage.models import utcnow

    body = new_session(capture_api).json()
    with capture_api.services.db.session() as s:
        s.execute(update(CaptureSession).where(CaptureSession.id == body["id"]).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = capture_api.http.get("/v1/capture/session", headers=tok(body["token"]))
    assert r.status_code == 410 and r.json()["error"]["code"] == "capture_session_expired"


def test_rate_limit_per_token(make_api):
    from kyc.consent import publish_policy

    api = make_api(capture_rate_limit_per_minute=3)  # 3 requests in any minute
    publish_policy(api.services.db, "2026-02", POLICY_SHA, False, actor="test")
    a, b = new_session(api).json()["token"], new_session(api, ref="u2").json()["token"]
    codes = [api.http.get("/v1/capture/session", headers=tok(a)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert api.http.get("/v1/capture/session", headers=tok(b)).status_code == 200  # another token is not slowed


def test_page_headers_follow_the_clients_origins(capture_api):
    from kyc.access import authenticate
    from kyc.capture import set_frame_origins

    db = capture_api.services.db
    token = new_session(capture_api).json()["token"]
    r = capture_api.http.get(f"/capture/{token}")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    set_frame_origins(db, authenticate(db, capture_api.key).client_id, ["https://app.example/"], actor="test")
    r = capture_api.http.get(f"/capture/{token}")
    assert "frame-ancestors https://app.example" in r.headers["content-security-policy"]
    assert '"https://app.example"' in r.headers["permissions-policy"]
    # an unknown token still gets the page (it tells the person in their language), never framable
    r = capture_api.http.get("/capture/cap_unknown")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    with pytest.raises(Exception):
        set_frame_origins(db, "x", ["javascript:alert(1)"], actor="test")


def test_the_schema_names_the_token_on_the_page_routes_and_the_key_on_the_backend_route(capture_api):
    schema = capture_api.http.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["CaptureToken"] == {
        "type": "apiKey", "in": "header", "name": "X-Capture-Token",
        "description": "The capture session's token (from POST /v1/capture-sessions); the hosted page's only credential",
    }
    for path, ops in schema["paths"].items():
        for op in ops.values():
            names = {name for sec in op.get("security", []) for name in sec}
            if path.startswith("/v1/capture/"):
                assert names == {"CaptureToken"}, path
            elif path == "/v1/capture-sessions":
                assert "CaptureToken" not in names and names, path


def test_a_verification_stored_before_a_crash_closes_the_session_on_retry(capture_api):
    """The verification commits before the session closes; if the process dies in between,
    the page's retry finds it, closes the session with it and queues its webhook once."""
    import asyncio

    from kyc.access import authenticate
    from kyc.admin import set_webhook
    from kyc.capture.sessions import open_capture_session
    from kyc.storage.admin_models import WebhookDelivery
    from kyc.verification import VerificationInput

    db, vault = capture_api.services.db, capture_api.services.vault
    cid = authenticate(db, capture_api.key).client_id
    set_webhook(db, vault, capture_api.app.state.settings, cid, "http://127.0.0.1:9/hook", actor="test")
    token = new_session(capture_api, ref="user-crash").json()["token"]
    consent(capture_api, token)
    ch = capture_api.http.post("/v1/capture/liveness", headers=tok(token)).json()
    capture_api.active_results[ch["id"]] = FakeActive(True, _selfie_frame(RED))
    view = open_capture_session(db, token)
    # what the route did before "crashing": the verification, under the session's key
    stored, _ = asyncio.run(
        capture_api.services.verifications.submit(
            client_id=view.client_id, actor=view.actor, consent_id=view.consent_id,
            inp=VerificationInput(id_front=capture_api.fake.id_card(RED), liveness_session_id=ch["id"]),
            idempotency_key=f"capture:{view.id}",
        )
    )
    r = capture_api.http.post(
        "/v1/capture/complete", data={"liveness_session_id": ch["id"]},
        files={"id_front": ("front.png", capture_api.fake.id_card(RED), "image/png")}, headers=tok(token),
    )
    assert r.status_code == 200 and r.json()["verification_id"] == stored["id"]
    with db.session() as s:
        rows = s.scalars(select(WebhookDelivery).where(WebhookDelivery.verification_id == stored["id"])).all()
    assert [d.event for d in rows] == ["verification.completed"]
    assert capture_api.http.get("/v1/capture/session", headers=tok(token)).status_code == 409


def test_the_page_uploads_are_parsed_in_memory_and_checked(capture_api):
    """The card photo and the frames go through the in-memory form parser: a body over the
    limit is refused, a missing part is named, and nothing is spooled to a temporary file."""
    token = new_session(capture_api, ref="user-forms").json()["token"]
    consent(capture_api, token)
    r = capture_api.http.post("/v1/capture/documents/front", data={"x": "1"}, files={"other": ("a.png", b"x", "image/png")}, headers=tok(token))
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"  # an unexpected file field
    r = capture_api.http.post("/v1/capture/documents/front", files={"x": (None, "1")}, headers=tok(token))
    assert r.status_code == 422 and r.json()["error"]["code"] == "upload_missing"
    big = b"\xff" * (capture_api.app.state.settings.max_upload_bytes * 2 + 100_000)
    r = capture_api.http.post("/v1/capture/documents/front", files={"file": ("a.jpg", big, "image/jpeg")}, headers=tok(token))
    assert r.status_code == 413
    ch = capture_api.http.post("/v1/capture/liveness", headers=tok(token)).json()
    url = f"/v1/capture/liveness/{ch['id']}/frames"
    r = capture_api.http.post(url, files={"timestamps": (None, "0"), "nonce": (None, ch["nonce"])}, headers=tok(token))
    assert r.status_code == 422 and r.json()["error"]["code"] == "upload_missing"
    import cv2

    jpeg = cv2.imencode(".jpg", np.zeros((64, 64, 3), np.uint8))[1].tobytes()
    r = capture_api.http.post(url, data={"nonce": ch["nonce"]}, files={"frames": ("0.jpg", jpeg, "image/jpeg")}, headers=tok(token))
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"  # no timestamps
    r = capture_api.http.post(url, data={"nonce": ch["nonce"], "timestamps": "0"}, files={"frames": ("0.jpg", b"x", "image/jpeg")}, headers=tok(token))
    assert r.status_code == 415 and r.json()["error"]["code"] == "image_unsupported_type"  # checked from the header
