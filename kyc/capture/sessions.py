"""Capture sessions: a client's backend invites one person to the hosted page.

The session's token is the only credential the page holds: 256-bit random, handed out
once, stored as its SHA-256. It is bound to the client that made it, lives
``capture_session_ttl_s`` seconds, and is single use: it carries one consent and ends
with one verification, after which every call with it gets ``capture_session_used``.

States::

    created --record_consent--> consented --complete--> completed

Each step is a conditional update on the state, so two tabs racing with one token
get one winner, and a step out of order gets ``capture_step_invalid``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from kyc.audit import append_audit
from kyc.config import Settings
from kyc.consent.records import ConsentInput, record_consent
from kyc.consent.rules import VERIFICATION_PURPOSES, check_purposes
from kyc.errors import error
from kyc.storage.capture_models import CaptureClient, CaptureSession
from kyc.storage.db import Database
from kyc.storage.models import Policy, utcnow
from kyc.vault import Vault

__all__ = [
    "CHANNEL",
    "CaptureView",
    "NewCaptureSession",
    "create_capture_session",
    "open_capture_session",
    "record_capture_consent",
    "start_liveness",
    "check_liveness_session",
    "finish_capture_session",
    "stored_capture_verification",
    "idempotency_key_of",
    "set_frame_origins",
    "frame_origins",
    "token_hash",
]

CHANNEL = "capture"  # the consent channel of every consent given on the hosted page
TOKEN_PREFIX = "cap_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewCaptureSession:
    id: str
    token: str  # shown once
    expires_at: datetime


@dataclass(frozen=True)
class CaptureView:
    """What the page may know of its session: never the subject_ref, never a result score."""

    id: str
    client_id: str
    state: str
    purposes: list[str]
    required_purposes: list[str]
    policy_version: str
    policy_text: str
    expires_at: datetime
    consent_id: str | None
    liveness_session_id: str | None
    liveness_attempts: int
    verification_id: str | None
    frame_origins: list[str]

    @property
    def actor(self) -> str:
        return f"capture:{self.id}"


def _check_origin(origin: str) -> str:
    origin = origin.strip().rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        raise error("validation_failed", "An origin is scheme://host[:port], nothing more.", origin=origin[:200])
    return origin


def set_frame_origins(db: Database, client_id: str, origins: list[str], *, actor: str) -> list[str]:
    """The origins allowed to show the client's capture page in an iframe (none: no framing)."""
    clean = sorted({_check_origin(o) for o in origins})
    with db.session() as s:
        row = s.get(CaptureClient, client_id)
        if row is None:
            s.add(CaptureClient(client_id=client_id, frame_origins=clean, updated_at=utcnow()))
        else:
            row.frame_origins, row.updated_at = clean, utcnow()
        append_audit(s, actor=actor, action="capture.origins", target=f"client:{client_id}", detail={"origins": clean})
    return clean


def frame_origins(db: Database, client_id: str) -> list[str]:
    with db.session() as s:
        row = s.get(CaptureClient, client_id)
        return list(row.frame_origins) if row else []


def create_capture_session(
    db: Database,
    settings: Settings,
    client_id: str,
    *,
    subject_ref: str,
    purposes: list[str],
    policy_version: str,
    policy_text: str,
    actor: str,
) -> NewCaptureSession:
    """A new session for one person; ``policy_text`` must hash to the published policy's SHA-256."""
    subject_ref = subject_ref.strip()
    if not subject_ref or len(subject_ref) > 200:
        raise error("validation_failed", "subject_ref must be 1 to 200 characters.")
    offered = check_purposes(purposes)
    missing = sorted(VERIFICATION_PURPOSES - set(offered))
    if missing:
        raise error("validation_failed", "A capture session must offer the purposes a verification needs.", missing=missing)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        policy = s.get(Policy, policy_version)
        if policy is None:
            raise error("policy_not_found")
        if not hmac.compare_digest(hashlib.sha256(policy_text.encode()).hexdigest(), policy.text_sha256):
            raise error("policy_text_mismatch")
        row = CaptureSession(
            token_sha256=token_hash(token),
            client_id=client_id,
            subject_ref=subject_ref,
            purposes=offered,
            policy_version=policy_version,
            policy_text=policy_text,
            state="created",
            liveness_attempts=0,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.capture_session_ttl_s),
        )
        s.add(row)
        s.flush()
        append_audit(s, actor=actor, action="capture.create", target=f"capture:{row.id}", detail={"policy_version": policy_version})
        return NewCaptureSession(row.id, token, row.expires_at)


def _view(s, row: CaptureSession) -> CaptureView:
    origins = s.get(CaptureClient, row.client_id)
    return CaptureView(
        id=row.id,
        client_id=row.client_id,
        state=row.state,
        purposes=list(row.purposes),
        required_purposes=sorted(VERIFICATION_PURPOSES),
        policy_version=row.policy_version,
        policy_text=row.policy_text,
        expires_at=row.expires_at,
        consent_id=row.consent_id,
        liveness_session_id=row.liveness_session_id,
        liveness_attempts=row.liveness_attempts,
        verification_id=row.verification_id,
        frame_origins=list(origins.frame_origins) if origins else [],
    )


def open_capture_session(db: Database, token: str, *, allow_completed: bool = False) -> CaptureView:
    """The session a token names, or ``capture_session_not_found`` / ``_expired`` / ``_used``."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise error("capture_session_not_found")
    with db.session() as s:
        row = s.scalar(select(CaptureSession).where(CaptureSession.token_sha256 == token_hash(token)))
        if row is None:
            raise error("capture_session_not_found")
        if row.state == "completed" and not allow_completed:
            raise error("capture_session_used")
        if row.state != "completed" and utcnow() >= row.expires_at:
            raise error("capture_session_expired")
        return _view(s, row)


def _advance(s, session_id: str, from_state: str, *, live: bool = True, **values) -> None:
    """Move the state on if it still is ``from_state`` (and, when ``live``, unexpired)."""
    cond = [CaptureSession.id == session_id, CaptureSession.state == from_state]
    if live:
        cond.append(CaptureSession.expires_at > utcnow())
    n = s.execute(update(CaptureSession).where(*cond).values(**values)).rowcount
    if not n:
        raise error("capture_step_invalid")


def record_capture_consent(
    db: Database, vault: Vault, view: CaptureView, *, purposes: list[str], locale: str, text_sha256: str
) -> str:
    """Record the person's consent (channel ``capture``) for the purposes they chose."""
    if view.state != "created":
        raise error("capture_step_invalid")
    chosen = check_purposes(purposes)
    if not set(chosen) <= set(view.purposes):
        raise error("validation_failed", "Only the purposes this session offers can be chosen.")
    if not VERIFICATION_PURPOSES <= set(chosen):
        raise error("consent_required", "The required purposes must be accepted to continue.", required=sorted(VERIFICATION_PURPOSES))
    expected = hashlib.sha256(view.policy_text.encode()).hexdigest()
    if not hmac.compare_digest(text_sha256.lower(), expected):
        raise error("policy_text_mismatch", "The text shown is not the policy text of this session.")
    with db.session() as s:
        ref = s.get(CaptureSession, view.id).subject_ref
    consent = record_consent(
        db,
        vault,
        view.client_id,
        ConsentInput(
            subject_ref=ref, purposes=chosen, policy_version=view.policy_version,
            locale=locale, channel=CHANNEL, text_sha256=expected,
        ),
        actor=view.actor,
    )
    with db.session() as s:
        _advance(s, view.id, "created", state="consented", consent_id=consent.id)
    return consent.id


def start_liveness(db: Database, settings: Settings, view: CaptureView, liveness_session_id: str) -> None:
    """Bind a new liveness challenge to the session (the previous one, if any, is dropped)."""
    if view.state != "consented":
        raise error("capture_step_invalid")
    if view.liveness_attempts >= settings.capture_liveness_attempts:
        raise error("capture_attempts_exhausted", attempts=view.liveness_attempts)
    with db.session() as s:
        n = s.execute(
            update(CaptureSession)
            .where(
                CaptureSession.id == view.id,
                CaptureSession.state == "consented",
                CaptureSession.liveness_attempts == view.liveness_attempts,
            )
            .values(liveness_session_id=liveness_session_id, liveness_attempts=view.liveness_attempts + 1)
        ).rowcount
    if not n:
        raise error("capture_step_invalid")


def check_liveness_session(view: CaptureView, liveness_session_id: str) -> None:
    """Only the challenge this session started may be answered or used with its token."""
    if view.state != "consented" or view.liveness_session_id is None:
        raise error("capture_step_invalid")
    if not hmac.compare_digest(view.liveness_session_id.encode(), liveness_session_id.encode()):
        raise error("liveness_session_not_found")


def idempotency_key_of(view: CaptureView) -> str:
    """The one Idempotency-Key of a session's verification: one session, at most one verification."""
    return f"capture:{view.id}"


def stored_capture_verification(db: Database, view: CaptureView) -> tuple[str, str, list[str]] | None:
    """(id, status, reasons) of a verification this session already stored, if any.

    The verification commits before the session is closed (two transactions); after a
    crash in between, the page's retry finds it here and closes the session with it,
    so its webhook is still sent once.
    """
    from kyc.storage.models import Verification

    with db.session() as s:
        v = s.scalar(
            select(Verification).where(Verification.client_id == view.client_id, Verification.idempotency_key == idempotency_key_of(view))
        )
        return (v.id, v.status, list(v.reasons or [])) if v is not None else None


def finish_capture_session(db: Database, view: CaptureView, verification_id: str, status: str, reasons: list[str]) -> None:
    """Close the session on its verification, and queue the ``verification.completed`` webhook
    in the same transaction (so a completed session always has its delivery row)."""
    from kyc.admin.webhooks import enqueue_verification_completed
    from kyc.storage.models import ApiClient

    with db.session() as s:
        _advance(s, view.id, "consented", live=False, state="completed", verification_id=verification_id, completed_at=utcnow())
        client = s.get(ApiClient, view.client_id)
        enqueue_verification_completed(s, client, verification_id, status=status, reasons=reasons, capture_session_id=view.id)
        append_audit(s, actor=view.actor, action="capture.complete", target=f"verification:{verification_id}")
