"""Human review of verifications (used by the admin console): the queue, revealing fields,
retained images, and a reviewer's decision. Every access to personal data is audited
with the reviewer's identity (``actor``, e.g. ``staff:alice``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kyc.audit import append_audit
from kyc.errors import error
from kyc.storage.db import Database
from kyc.storage.models import RetainedImage, Subject, Verification, utcnow
from kyc.vault import Vault

__all__ = ["QueueFilter", "RetainedImageData", "review_queue", "reveal_fields", "retained_images", "record_review"]


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[str, ...] = ("review", "rejected")
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    verification_id: str | None = None
    id_number: str | None = None  # matched through the blind index, never stored or logged
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class RetainedImageData:
    kind: str
    data: bytes
    expires_at: datetime


def review_queue(db: Database, vault: Vault, f: QueueFilter) -> list[Verification]:
    """Verifications to review, newest first (masked fields only)."""
    with db.session() as s:
        q = select(Verification).where(Verification.status.in_(f.statuses))
        if f.verification_id:
            q = q.where(Verification.id == f.verification_id)
        if f.id_number:
            q = q.where(Verification.id_number_index == vault.id_number_index(s, f.id_number))
        if f.since:
            q = q.where(Verification.created_at >= f.since)
        if f.until:
            q = q.where(Verification.created_at < f.until)
        rows = list(s.scalars(q.order_by(Verification.created_at.desc())).all())
    if f.reason:  # reasons are a JSON list: filtered here to stay portable across databases
        rows = [r for r in rows if f.reason in (r.reasons or [])]
    return rows[f.offset : f.offset + f.limit]


def _load(s, verification_id: str) -> tuple[Verification, Subject]:
    v = s.get(Verification, verification_id)
    if v is None:
        raise error("verification_not_found")
    return v, s.get(Subject, v.subject_id)


def reveal_fields(db: Database, vault: Vault, verification_id: str, *, actor: str) -> dict[str, str | None]:
    with db.session() as s:
        v, subject = _load(s, verification_id)
        if v.fields_ct is None:
            raise error("subject_not_found", "The fields were deleted (consent withdrawn).")
        fields = vault.decrypt_json(vault.subject_key(subject), "verifications", v.id, "fields", v.fields_ct)
        append_audit(s, actor=actor, action="verification.reveal", target=f"verification:{v.id}")
    return fields


def retained_images(db: Database, vault: Vault, verification_id: str, *, actor: str) -> list[RetainedImageData]:
    now = utcnow()
    with db.session() as s:
        v, subject = _load(s, verification_id)
        rows = s.scalars(
            select(RetainedImage).where(RetainedImage.verification_id == v.id, RetainedImage.expires_at > now)
        ).all()
        if not rows:
            return []
        dek = vault.subject_key(subject)
        out = [
            RetainedImageData(r.kind, vault.decrypt(dek, "retained_images", r.id, r.kind, r.ciphertext), r.expires_at)
            for r in rows
        ]
        append_audit(s, actor=actor, action="verification.view_images", target=f"verification:{v.id}", detail={"images": len(out)})
    return out


def record_review(db: Database, verification_id: str, *, decision: str, note: str, actor: str) -> Verification:
    """A reviewer approves or rejects a verification in review (or overturns a rejection)."""
    if decision not in ("approved", "rejected"):
        raise error("validation_failed", "decision must be approved or rejected")
    if not note.strip():
        raise error("validation_failed", "a note is required")
    with db.session() as s:
        v, _ = _load(s, verification_id)
        if v.status not in ("review", "rejected") or v.reviewed_at is not None:
            raise error("validation_failed", "only a verification in review or rejected can be decided, once")
        previous = v.status
        v.status, v.reviewed_by, v.reviewed_at, v.review_note = decision, actor, utcnow(), note.strip()
        append_audit(
            s,
            actor=actor,
            action="verification.review",
            target=f"verification:{v.id}",
            detail={"from": previous, "to": decision},
        )
    return v
