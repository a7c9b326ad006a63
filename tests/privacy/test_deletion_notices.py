"""Deletion notices: each client application that received a subject's results gets a
signed ``subject.deleted`` / ``consent.withdrawn`` webhook (the review webhook's outbox,
signing and retries), audited. FAKE engines (tests/service/fakes.py) make the results;
the receiver is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from kyc.admin import verify_signature
from kyc.admin.webhooks import set_webhook
from kyc.storage import ApiClient, AuditEntry, Verification, utcnow
from kyc.storage.admin_models import WebhookDelivery
from kyc.verification import purge_expired
from tests.admin.test_webhooks import receiver_factory  # noqa: F401  (fixture)
from tests.service.fakes import png

ALICE = (200, 150, 120)
FAST = {"webhook_backoff_s": 0.05, "webhook_poll_s": 0.05}


def _client_id(api, name: str) -> str:
    with api.services.db.session() as s:
        return s.scalar(select(ApiClient.id).where(ApiClient.name == name))


def _hook(api, name: str, url: str) -> str:
    return set_webhook(api.services.db, api.services.vault, api.app.state.settings, _client_id(api, name), url, actor="test")


def _verified(api, ref: str, purposes=("real_name_verification", "biometric_processing")) -> tuple[str, str]:
    cid = api.consent(ref, purposes=purposes)
    r = api.verify(cid, api.fake.id_card(ALICE), png(ALICE))
    assert r.status_code in (200, 201), r.text
    return cid, r.json()["id"]


def _wait_requests(rx, n: int, timeout_s: float = 15.0) -> None:
    end = time.monotonic() + timeout_s
    while len(rx.requests) < n and time.monotonic() < end:
        time.sleep(0.05)
    assert len(rx.requests) >= n, f"{len(rx.requests)} requests, wanted {n}"


def _audit(api, action: str) -> list[AuditEntry]:
    with api.services.db.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).all())


def test_subject_deletion_notifies_the_recipient_signed_with_retries_and_audited(make_api, receiver_factory):
    api = make_api(**FAST)
    rx = receiver_factory([503, 200])
    secret = _hook(api, "app-one", rx.url)
    _, vid = _verified(api, "alice")
    assert api.http.delete("/v1/subjects/alice", headers=api.headers).status_code == 200
    _wait_requests(rx, 2)
    for _, headers, body in rx.requests:
        assert headers["X-KYC-Event"] == "subject.deleted"
        assert verify_signature(secret, body, headers["X-KYC-Signature"])
    body = json.loads(rx.requests[-1][2])
    assert body["event"] == "subject.deleted" and body["subject_ref"] == "alice"
    assert body["verification_ids"] == [vid] and body["reason"] == "subject_request"
    assert "张" not in rx.requests[-1][2].decode()  # the client's own ref and ids, no document data
    end = time.monotonic() + 10
    while not _audit(api, "webhook.delivered") and time.monotonic() < end:
        time.sleep(0.05)
    delivered = _audit(api, "webhook.delivered")
    assert delivered and delivered[-1].detail["event"] == "subject.deleted" and delivered[-1].detail["attempts"] == 2
    assert delivered[-1].target.startswith("subject:")
    assert _audit(api, "subject.delete")[-1].detail["notices"] == 1
    with api.services.db.session() as s:  # once delivered, the outbox keeps no copy of the deleted subject's ref
        d = s.scalar(select(WebhookDelivery).where(WebhookDelivery.event == "subject.deleted"))
        assert d.status == "delivered" and d.body == ""


def test_only_clients_that_received_results_are_told(make_api, receiver_factory):
    api = make_api(**FAST)
    rx_one, rx_two = receiver_factory([200]), receiver_factory([200])
    _hook(api, "app-one", rx_one.url)
    _hook(api, "app-two", rx_two.url)
    api.consent("bob")  # consent only: no result was ever sent to anyone
    assert api.http.delete("/v1/subjects/bob", headers=api.headers).status_code == 200
    _verified(api, "carol")
    assert api.http.delete("/v1/subjects/carol", headers=api.headers).status_code == 200
    _wait_requests(rx_one, 1)
    time.sleep(0.3)
    assert len(rx_one.requests) == 1 and json.loads(rx_one.requests[0][2])["subject_ref"] == "carol"
    assert rx_two.requests == []  # app-two never received carol's results


def test_withdrawal_sends_consent_withdrawn(make_api, receiver_factory):
    api = make_api(**FAST)
    rx = receiver_factory([200])
    secret = _hook(api, "app-one", rx.url)
    cid, vid = _verified(api, "dave")
    assert api.http.post(f"/v1/consents/{cid}/withdraw", headers=api.headers).status_code == 200
    assert api.http.post(f"/v1/consents/{cid}/withdraw", headers=api.headers).status_code == 200  # again: no second notice
    _wait_requests(rx, 1)
    time.sleep(0.3)
    assert len(rx.requests) == 1
    _, headers, raw = rx.requests[0]
    assert headers["X-KYC-Event"] == "consent.withdrawn" and verify_signature(secret, raw, headers["X-KYC-Signature"])
    body = json.loads(raw)
    assert body["consent_id"] == cid and body["verification_ids"] == [vid] and body["subject_ref"] == "dave"


def test_expired_results_are_erased_and_the_recipient_told(make_api, receiver_factory):
    api = make_api(**FAST)
    rx = receiver_factory([200])
    _hook(api, "app-one", rx.url)
    _, vid = _verified(api, "erin")
    db = api.services.db
    assert purge_expired(db, result_retention_days=30) == 0  # not yet expired
    time.sleep(0.3)
    assert rx.requests == []
    purge_expired(db, now=utcnow() + timedelta(days=31), result_retention_days=30)
    with db.session() as s:
        v = s.get(Verification, vid)
        assert v.fields_ct is None and v.template_ct is None and v.masked_fields is None
    _wait_requests(rx, 1)
    body = json.loads(rx.requests[0][2])
    assert body["event"] == "subject.deleted" and body["reason"] == "retention_expired" and body["verification_ids"] == [vid]
    assert _audit(api, "retention.purge")[-1].detail["results_erased"] == 1


@pytest.mark.parametrize("event", ["subject.deleted"])
def test_failed_notice_is_audited(make_api, receiver_factory, event):
    api = make_api(webhook_max_attempts=2, **FAST)
    rx = receiver_factory([500])
    _hook(api, "app-one", rx.url)
    _verified(api, "frank")
    assert api.http.delete("/v1/subjects/frank", headers=api.headers).status_code == 200
    end = time.monotonic() + 10
    while not _audit(api, "webhook.failed") and time.monotonic() < end:
        time.sleep(0.05)
    failed = _audit(api, "webhook.failed")
    assert failed and failed[-1].detail["event"] == event and failed[-1].detail["error"] == "http_500"
    with api.services.db.session() as s:
        assert s.scalar(select(WebhookDelivery.status).where(WebhookDelivery.event == event)) == "failed"


def test_a_recipient_without_webhook_is_audited(api):
    _verified(api, "gina")
    assert api.http.delete("/v1/subjects/gina", headers=api.headers).status_code == 200
    e = _audit(api, "notice.no_webhook")
    assert len(e) == 1 and e[0].detail["event"] == "subject.deleted" and e[0].target == f"client:{_client_id(api, 'app-one')}"
