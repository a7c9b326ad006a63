"""Decisions reach the client application's webhook: signed with HMAC-SHA256, retried with
exponential backoff from a background thread. The receiver is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from kyc.admin import sign_body, verify_signature
from kyc.storage import AuditEntry
from kyc.storage.admin_models import WebhookDelivery, WebhookSecret


class Receiver:
    """Answers with the given statuses in turn (the last one repeats) and records requests."""

    def __init__(self, statuses: list[int], host: str = "127.0.0.1") -> None:
        self.statuses = statuses
        self.requests: list[tuple[float, dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((time.monotonic(), dict(self.headers), body))
                status = receiver.statuses[min(len(receiver.requests) - 1, len(receiver.statuses) - 1)]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/kyc-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made = []

    def make(statuses, host="127.0.0.1"):
        r = Receiver(statuses, host)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _set_webhook_in_console(con, url: str) -> str:
    con.act_as("admin")
    csrf = _csrf(con.http.get("/admin/settings").text)
    r = con.http.post(f"/admin/settings/webhooks/{con.seed.client_id}", data={"csrf_token": csrf, "url": url})
    assert r.status_code == 200
    return re.search(r'<code id="new-secret">([^<]+)</code>', r.text).group(1)


def _decide(con, vid: str, decision: str = "approve") -> None:
    con.act_as("reviewer")
    csrf = _csrf(con.http.get(f"/admin/verifications/{vid}").text)
    r = con.http.post(
        f"/admin/verifications/{vid}/decision", data={"csrf_token": csrf, "decision": decision, "note": "checked"}, follow_redirects=False
    )
    assert r.status_code == 303


def _wait(con, vid: str, status: str, timeout_s: float = 15.0) -> WebhookDelivery:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with con.db.session() as s:
            d = s.scalar(select(WebhookDelivery).where(WebhookDelivery.verification_id == vid))
        if d is not None and d.status == status:
            return d
        time.sleep(0.05)
    raise AssertionError(f"delivery not {status} in {timeout_s} s: {d and (d.status, d.attempts, d.last_error)}")


def test_decision_is_delivered_signed_after_retries_with_backoff(con, receiver_factory):
    rx = receiver_factory([500, 503, 200])
    secret = _set_webhook_in_console(con, rx.url)
    assert secret.startswith("whsec_")
    with con.db.session() as s:  # stored encrypted, never in clear
        assert secret.encode() not in s.get(WebhookSecret, con.seed.client_id).secret_ct
    vid = con.seed.verification()
    _decide(con, vid)
    d = _wait(con, vid, "delivered")
    assert d.attempts == 3 and d.last_status_code == 200
    assert len(rx.requests) == 3
    times = [t for t, _, _ in rx.requests]
    gap1, gap2 = times[1] - times[0], times[2] - times[1]
    assert gap1 >= 0.05 and gap2 >= 0.1 and gap2 > gap1 * 1.3  # backoff 0.05 s, then 0.1 s (doubling)
    for _, headers, body in rx.requests:
        assert verify_signature(secret, body, headers["X-KYC-Signature"])
        assert not verify_signature("whsec_wrong", body, headers["X-KYC-Signature"])
        assert headers["X-KYC-Event"] == "verification.reviewed"
    payload = json.loads(rx.requests[-1][2])
    assert payload["verification_id"] == vid and payload["status"] == "approved" and payload["previous_status"] == "review"
    assert "张" not in rx.requests[-1][2].decode() and "1101" not in rx.requests[-1][2].decode()  # no personal data
    with con.db.session() as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "webhook.delivered")) == "system:webhooks"
    con.act_as("reviewer")
    assert "Webhook: delivered after 3 attempts" in con.http.get(f"/admin/verifications/{vid}").text


def test_delivery_gives_up_after_max_attempts(con, receiver_factory):
    rx = receiver_factory([500])
    _set_webhook_in_console(con, rx.url)
    vid = con.seed.verification()
    _decide(con, vid, "reject")
    d = _wait(con, vid, "failed")
    assert d.attempts == 4 and len(rx.requests) == 4 and d.last_error == "http_500"
    with con.db.session() as s:
        e = s.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.failed"))
    assert e.detail["attempts"] == 4


def test_no_webhook_no_delivery(con):
    vid = con.seed.verification()
    _decide(con, vid)
    with con.db.session() as s:
        assert s.scalar(select(WebhookDelivery.id)) is None


def test_webhook_url_is_validated_and_can_be_cleared(con):
    con.act_as("admin")
    csrf = _csrf(con.http.get("/admin/settings").text)
    url = f"/admin/settings/webhooks/{con.seed.client_id}"
    r = con.http.post(url, data={"csrf_token": csrf, "url": "file:///etc/passwd"})
    assert r.status_code == 422 and "absolute http(s) URL" in r.text
    assert con.http.post(url, data={"csrf_token": csrf, "url": "https://hooks.example/a"}).status_code == 200
    again = con.http.post(url, data={"csrf_token": csrf, "url": "https://hooks.example/b"})
    assert 'id="new-secret"' not in again.text  # the secret is kept unless asked
    rotated = con.http.post(url, data={"csrf_token": csrf, "url": "https://hooks.example/b", "new_secret": "true"})
    assert 'id="new-secret"' in rotated.text
    con.http.post(url, data={"csrf_token": csrf, "url": ""})
    with con.db.session() as s:
        assert s.get(WebhookSecret, con.seed.client_id) is None
    assert con.http.post("/admin/settings/webhooks/" + "0" * 32, data={"csrf_token": csrf, "url": "https://x.example"}).status_code == 404


def test_signature_checks():
    body = b'{"a":1}'
    now = 1_800_000_000
    header = sign_body("s3cret", body, now)
    assert verify_signature("s3cret", body, header, now=now + 10)
    assert not verify_signature("s3cret", body + b" ", header, now=now)
    assert not verify_signature("s3cret", body, header, now=now + 3600)  # replayed later
    assert not verify_signature("s3cret", body, "t=x,v1=y", now=now)
    assert not verify_signature("s3cret", body, None)


def test_key_rotation_rewraps_the_webhook_key(con):
    """The secret's service key sits in vault_keys, so a KEK rotation re-wraps it too."""
    import secrets as pysecrets

    from kyc.admin.webhooks import _secret
    from kyc.vault import KeyRing, rewrap_all

    con.act_as("admin")
    secret = _set_webhook_in_console(con, "https://hooks.example/kyc")
    vault = con.services.vault
    old = vault.ring()
    ring = KeyRing([pysecrets.token_bytes(32), *old.keys])
    rewrap_all(con.db, ring)
    vault.keys._ring, vault.keys.from_env = KeyRing([ring.current]), True  # only the new KEK is left
    with con.db.session() as s:
        assert _secret(s, vault, con.seed.client_id) == secret


def test_webhook_outside_the_jurisdiction_is_refused_on_the_page(con):
    """Residency (issue 15): a host not declared inside the jurisdiction is refused, saying why."""
    con.act_as("admin")
    csrf = _csrf(con.http.get("/admin/settings").text)
    r = con.http.post(f"/admin/settings/webhooks/{con.seed.client_id}", data={"csrf_token": csrf, "url": "https://hooks.elsewhere.test/a"})
    assert r.status_code == 422 and "not declared inside the jurisdiction CN" in r.text
