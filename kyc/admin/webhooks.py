"""Webhooks to client applications: signed with HMAC-SHA256, sent from an outbox with backoff.

A reviewer's decision and its delivery row commit in one transaction; a background
thread (:class:`WebhookDispatcher`) sends due deliveries and retries failures after
``webhook_backoff_s * 2**(attempt-1)`` seconds (with up to 10 % jitter) until
``webhook_max_attempts``. Several processes may run dispatchers: each claims a row
by moving its ``next_attempt_at`` forward in a conditional update first.

Signature header (each attempt is signed afresh)::

    X-KYC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

A receiver recomputes the HMAC over the raw body with its secret, compares in constant
time, and refuses timestamps older than a few minutes (see :func:`verify_signature`).
The secret is shown once to the admin who sets the webhook; it is stored encrypted
under a service key wrapped by the key-encryption key (so key rotation covers it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kyc.audit import append_audit
from kyc.config import Settings
from kyc.errors import error
from kyc.storage.admin_models import WebhookDelivery, WebhookSecret
from kyc.storage.db import Database
from kyc.storage.models import ApiClient, new_id, utcnow
from kyc.vault import Vault
from kyc.vault.envelope import field_aad, open_sealed, seal

__all__ = [
    "SIGNATURE_HEADER",
    "sign_body",
    "verify_signature",
    "set_webhook",
    "clear_webhook",
    "enqueue_delivery",
    "WebhookDispatcher",
    "DeliveryResult",
    "ensure_webhook_key",
]

log = logging.getLogger("kyc.admin.webhooks")

SIGNATURE_HEADER = "X-KYC-Signature"
WEBHOOK_KEY_PURPOSE = "webhook_signing"


def sign_body(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str | None, *, tolerance_s: int = 300, now: float | None = None) -> bool:
    """What a receiver does: recompute the HMAC over the raw body and check the timestamp."""
    if not header:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - t) > tolerance_s:
        return False
    expected = sign_body(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- the secret, under a service key wrapped by the KEK ---
def ensure_webhook_key(db: Database, vault: Vault) -> None:
    vault.ensure_service_key(db, WEBHOOK_KEY_PURPOSE)


def _service_key(s: Session, vault: Vault) -> bytes:
    return vault.service_key(s, WEBHOOK_KEY_PURPOSE)


def _secret(s: Session, vault: Vault, client_id: str) -> str | None:
    row = s.get(WebhookSecret, client_id)
    if row is None:
        return None
    return open_sealed(_service_key(s, vault), row.secret_ct, field_aad("webhook_secrets", client_id, "secret")).decode()


def _check_url(url: str, settings: Settings) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise error("validation_failed", "The webhook URL must be an absolute http(s) URL of at most 2000 characters.")
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "http" and settings.environment == "production" and not local:
        raise error("validation_failed", "In production a webhook URL must use https.")
    from kyc.privacy.residency import check_target  # residency (issue 15)

    if (problem := check_target("The webhook URL", url, settings, cross_border_ok=True)) is not None:
        raise error("residency_violation", problem + ".")
    return url


def set_webhook(db: Database, vault: Vault, settings: Settings, client_id: str, url: str, *, actor: str, new_secret: bool = False) -> str | None:
    """Set a client's webhook URL; returns a new signing secret (shown once) when one was made."""
    url = _check_url(url, settings)
    ensure_webhook_key(db, vault)
    made: str | None = None
    with db.session() as s:
        client = s.get(ApiClient, client_id)
        if client is None:
            raise error("client_not_found")
        client.webhook_url = url
        row = s.get(WebhookSecret, client_id)
        if row is None or new_secret:
            made = "whsec_" + secrets.token_urlsafe(32)
            ct = seal(_service_key(s, vault), made.encode(), field_aad("webhook_secrets", client_id, "secret"))
            if row is None:
                s.add(WebhookSecret(client_id=client_id, secret_ct=ct))
            else:
                row.secret_ct, row.created_at = ct, utcnow()
        append_audit(s, actor=actor, action="webhook.set", target=f"client:{client_id}", detail={"new_secret": made is not None})
    return made


def clear_webhook(db: Database, client_id: str, *, actor: str) -> None:
    with db.session() as s:
        client = s.get(ApiClient, client_id)
        if client is None:
            raise error("client_not_found")
        client.webhook_url = None
        row = s.get(WebhookSecret, client_id)
        if row is not None:
            s.delete(row)
        append_audit(s, actor=actor, action="webhook.clear", target=f"client:{client_id}")


def enqueue_delivery(
    s: Session,
    client: ApiClient,
    verification_id: str | None,
    event: str,
    payload: dict,
    *,
    subject_id: str | None = None,
    cross_border_consent: bool | None = None,
) -> WebhookDelivery | None:
    """Add a delivery inside the caller's transaction when the client has a webhook.

    A notice about a subject (``subject.deleted``, ``consent.withdrawn``) has no
    verification (its rows are being deleted) and names the ``subject_id`` instead, with
    ``cross_border_consent`` (whether the subject's consents allow sending it abroad),
    decided while the consents still exist.
    """
    if not client.webhook_url:
        return None
    did = new_id()
    body = json.dumps({"id": did, "event": event, **payload}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    d = WebhookDelivery(
        id=did,
        client_id=client.id,
        verification_id=verification_id,
        subject_id=subject_id,
        cross_border_consent=cross_border_consent,
        event=event,
        url=client.webhook_url,
        body=body,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    s.add(d)
    return d


def _erase_notice_body(d: WebhookDelivery) -> None:
    """A deletion notice names a deleted subject's ref: once sent (or given up), keep no copy."""
    if d.verification_id is None and d.subject_id is not None:
        d.body = ""


# --- sending ---
@dataclass(frozen=True)
class DeliveryResult:
    delivery_id: str
    ok: bool
    status_code: int | None
    error: str | None


class WebhookDispatcher:
    """Sends due deliveries in a background thread; ``wake()`` after enqueuing sends at once."""

    def __init__(self, db: Database, vault: Vault, settings: Settings) -> None:
        self.db = db
        self.vault = vault
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=settings.webhook_timeout_s, follow_redirects=False)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._http.close()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                wait = self._seconds_to_next_due()
            except Exception as exc:  # keep the thread alive; log the kind only
                log.error("webhook dispatch failed: %s", type(exc).__name__)
                wait = self.settings.webhook_poll_s
            self._wake.wait(wait)
            self._wake.clear()

    def _seconds_to_next_due(self) -> float:
        with self.db.session() as s:
            nxt = s.scalar(select(func.min(WebhookDelivery.next_attempt_at)).where(WebhookDelivery.status == "pending"))
        if nxt is None:
            return self.settings.webhook_poll_s
        return max(0.01, min(self.settings.webhook_poll_s, (nxt - utcnow()).total_seconds()))

    def backoff_s(self, attempts: int) -> float:
        """Delay after the ``attempts``-th failed attempt: base * 2**(attempts-1), plus jitter."""
        base = self.settings.webhook_backoff_s * 2 ** (attempts - 1)
        return base * (1 + random.random() * 0.1)

    def run_once(self, limit: int = 20) -> list[DeliveryResult]:
        now = utcnow()
        with self.db.session() as s:
            due = s.execute(
                select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
            ).all()
        return [r for r in (self._attempt(did, at) for did, at in due) if r is not None]

    def _claim(self, delivery_id: str, seen_at: datetime) -> bool:
        lease = utcnow() + timedelta(seconds=self.settings.webhook_timeout_s * 2 + 5)
        with self.db.session() as s:
            n = s.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at == seen_at,
                )
                .values(next_attempt_at=lease)
            ).rowcount
        return bool(n)

    def _withheld_abroad(self, s: Session, d: WebhookDelivery) -> bool:
        """Residency (issue 15): a delivery to a host outside the jurisdiction needs the
        subject's consent to ``cross_border_transfer``."""
        from kyc.consent.rules import CROSS_BORDER_PURPOSE
        from kyc.privacy.residency import is_cross_border
        from kyc.storage.models import Consent, Verification

        if not is_cross_border(d.url, self.settings):
            return False
        if d.verification_id is None:
            return not d.cross_border_consent
        purposes = s.scalar(select(Consent.purposes).join(Verification, Verification.consent_id == Consent.id).where(Verification.id == d.verification_id))
        return CROSS_BORDER_PURPOSE not in (purposes or [])

    def _withhold(self, delivery_id: str, target: str, event: str) -> DeliveryResult:
        with self.db.session() as s:
            d = s.get(WebhookDelivery, delivery_id)
            d.status, d.last_error = "withheld", "cross_border_without_consent"
            _erase_notice_body(d)
            append_audit(
                s, actor="system:webhooks", action="webhook.withheld", target=target,
                detail={"delivery": d.id, "event": event, "reason": "cross_border_without_consent"},
            )
        return DeliveryResult(delivery_id, False, None, "cross_border_without_consent")

    def _attempt(self, delivery_id: str, seen_at: datetime) -> DeliveryResult | None:
        if not self._claim(delivery_id, seen_at):
            return None  # another dispatcher has it
        with self.db.session() as s:
            d = s.get(WebhookDelivery, delivery_id)
            secret = _secret(s, self.vault, d.client_id)
            url, body, event = d.url, d.body.encode(), d.event
            target = f"verification:{d.verification_id}" if d.verification_id else f"subject:{d.subject_id}"
            withheld = self._withheld_abroad(s, d)
        if withheld:
            return self._withhold(delivery_id, target, event)
        code: int | None = None
        problem: str | None = None
        if secret is None:
            problem = "no_secret"
        else:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "kyc-webhooks/1",
                "X-KYC-Event": event,
                "X-KYC-Delivery": delivery_id,
                SIGNATURE_HEADER: sign_body(secret, body, int(time.time())),
            }
            try:
                r = self._http.post(url, content=body, headers=headers)
                code = r.status_code
                if not 200 <= code < 300:
                    problem = f"http_{code}"
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
        ok = problem is None
        with self.db.session() as s:
            d = s.get(WebhookDelivery, delivery_id)
            d.attempts += 1
            d.last_status_code = code
            d.last_error = problem
            if ok:
                d.status, d.delivered_at = "delivered", utcnow()
                _erase_notice_body(d)
                append_audit(
                    s, actor="system:webhooks", action="webhook.delivered", target=target,
                    detail={"delivery": d.id, "event": event, "attempts": d.attempts},
                )
            elif d.attempts >= self.settings.webhook_max_attempts:
                d.status = "failed"
                _erase_notice_body(d)
                append_audit(
                    s, actor="system:webhooks", action="webhook.failed", target=target,
                    detail={"delivery": d.id, "event": event, "attempts": d.attempts, "error": problem},
                )
            else:
                d.next_attempt_at = utcnow() + timedelta(seconds=self.backoff_s(d.attempts))
        return DeliveryResult(delivery_id, ok, code, problem)
