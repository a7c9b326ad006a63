"""A verification as a reviewer sees it, field reveals, retained images, and decisions.

Personal data is decrypted only on request and only in memory, and every access is
audited under the reviewer's identity before the data is returned: opening the page
(masked fields), revealing fields (which ones, never their values), viewing an image,
and deciding. A decision removes the retained images (review done: nothing left to
keep them for) and queues a signed webhook to the client application if it has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select

from kyc.admin.reasons import describe_reason
from kyc.admin.watermark import watermark_image
from kyc.admin.webhooks import enqueue_delivery
from kyc.audit import append_audit
from kyc.errors import error
from kyc.ocr.layouts import field_labels
from kyc.storage.admin_models import WebhookDelivery
from kyc.storage.db import Database
from kyc.storage.models import ApiClient, RetainedImage, Subject, Verification, utcnow
from kyc.vault import Vault

__all__ = [
    "ScoreRow",
    "ImageInfo",
    "ReviewView",
    "DecisionOutcome",
    "open_verification",
    "reveal_fields",
    "retained_image",
    "record_decision",
    "FIELD_LABELS",
]

# Labels of every field name a registered layout (or the common names) uses.
FIELD_LABELS = field_labels()


@dataclass(frozen=True)
class ScoreRow:
    check: str
    score: float | None
    threshold: float | None
    passed: bool | None
    comparison: str  # how score and threshold relate, e.g. ">=" (higher is better)
    note: str = ""


@dataclass(frozen=True)
class ImageInfo:
    id: str
    kind: str
    expires_at: datetime
    seconds_left: float


@dataclass
class ReviewView:
    id: str
    status: str
    reasons: list[tuple[str, str]]
    scores: list[ScoreRow]
    document_type: str | None
    masked_fields: dict[str, str]
    client_name: str
    client_has_webhook: bool
    subject_id: str
    created_at: datetime
    duration_ms: float
    models: dict
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    images: list[ImageInfo] = field(default_factory=list)
    has_encrypted_fields: bool = False
    deliveries: list[tuple[str, int, str | None]] = field(default_factory=list)  # status, attempts, error

    @property
    def decidable(self) -> bool:
        return self.status in ("review", "rejected") and self.reviewed_at is None

    @property
    def images_seconds_left(self) -> float | None:
        return min((i.seconds_left for i in self.images), default=None)


def _f(v) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def score_rows(scores: dict) -> list[ScoreRow]:
    """Scores against their thresholds, from the verification's ``scores`` (pure)."""
    rows: list[ScoreRow] = []
    face = scores.get("face") if isinstance(scores, dict) else None
    if isinstance(face, dict):
        rows.append(
            ScoreRow(
                "Face match (similarity)",
                _f(face.get("similarity")),
                _f(face.get("threshold")),
                bool(face.get("match")),
                "≥",
                f"{face.get('model', '?')}, operating point {face.get('operating_point', '?')}",
            )
        )
    else:
        rows.append(ScoreRow("Face match (similarity)", None, None, None, "≥", "no comparison was made"))
    live = scores.get("liveness") if isinstance(scores, dict) else None
    if isinstance(live, dict):
        rows.append(
            ScoreRow(
                f"Liveness ({live.get('kind', '?')})",
                _f(live.get("score")),
                _f(live.get("threshold")),
                bool(live.get("live")),
                "≥",
                str(live.get("model") or ""),
            )
        )
    else:
        rows.append(ScoreRow("Liveness", None, None, None, "≥", "no liveness result"))
    doc = scores.get("document") if isinstance(scores, dict) else None
    if isinstance(doc, dict):
        minimum = _f(doc.get("min_field_confidence"))
        for name, conf in sorted((doc.get("confidence") or {}).items()):
            c = _f(conf)
            rows.append(
                ScoreRow(
                    f"Reading confidence: {FIELD_LABELS.get(name, name)}",
                    c,
                    minimum,
                    None if c is None or minimum is None else c >= minimum,
                    "≥",
                )
            )
    return rows


def _load(s, vid: str, *, for_update: bool = False) -> Verification:
    ok = isinstance(vid, str) and len(vid) <= 64
    v = s.get(Verification, vid, with_for_update=for_update) if ok else None
    if v is None:
        raise error("verification_not_found")
    return v


def open_verification(db: Database, vid: str, *, actor: str) -> ReviewView:
    """The reviewer's page data (masked fields only); audited as ``review.view``."""
    now = utcnow()
    with db.session() as s:
        v = _load(s, vid)
        client = s.get(ApiClient, v.client_id)
        images = s.scalars(
            select(RetainedImage).where(RetainedImage.verification_id == v.id, RetainedImage.expires_at > now).order_by(RetainedImage.kind)
        ).all()
        deliveries = s.execute(
            select(WebhookDelivery.status, WebhookDelivery.attempts, WebhookDelivery.last_error)
            .where(WebhookDelivery.verification_id == v.id)
            .order_by(WebhookDelivery.created_at)
        ).all()
        view = ReviewView(
            id=v.id,
            status=v.status,
            reasons=[(code, describe_reason(code)) for code in (v.reasons or [])],
            scores=score_rows(v.scores or {}),
            document_type=v.document_type,
            masked_fields={k: val for k, val in (v.masked_fields or {}).items() if val is not None},
            client_name=client.name if client else "?",
            client_has_webhook=bool(client and client.webhook_url),
            subject_id=v.subject_id,
            created_at=v.created_at,
            duration_ms=v.duration_ms,
            models=dict(v.models or {}),
            reviewed_by=v.reviewed_by,
            reviewed_at=v.reviewed_at,
            review_note=v.review_note,
            images=[ImageInfo(i.id, i.kind, i.expires_at, (i.expires_at - now).total_seconds()) for i in images],
            has_encrypted_fields=v.fields_ct is not None,
            deliveries=[(st, n, err) for st, n, err in deliveries],
        )
        append_audit(
            s,
            actor=actor,
            action="review.view",
            target=f"verification:{v.id}",
            detail={"subject": v.subject_id, "masked_fields": sorted(view.masked_fields), "images": len(images)},
        )
    return view


def reveal_fields(db: Database, vault: Vault, vid: str, names: list[str] | None, *, actor: str) -> dict[str, str]:
    """Decrypt document fields (``names``, or all with None); audited with the field names only."""
    with db.session() as s:
        v = _load(s, vid)
        if v.fields_ct is None:
            return {}
        subject = s.get(Subject, v.subject_id)
        dek = vault.subject_key(subject)
        fields = vault.decrypt_json(dek, "verifications", v.id, "fields", v.fields_ct)
        shown = {k: str(val) for k, val in dict(fields).items() if val is not None and (names is None or k in names)}
        append_audit(
            s,
            actor=actor,
            action="review.reveal",
            target=f"verification:{v.id}",
            detail={"subject": v.subject_id, "fields": sorted(shown)},
        )
    return shown


def retained_image(db: Database, vault: Vault, vid: str, image_id: str, *, actor: str, watermark: str) -> bytes:
    """A retained image, decrypted and watermarked (JPEG); audited as ``review.image``."""
    with db.session() as s:
        v = _load(s, vid)
        img = s.get(RetainedImage, image_id) if len(image_id) <= 64 else None
        if img is None or img.verification_id != v.id or img.expires_at <= utcnow():
            raise error("retained_image_not_found")
        subject = s.get(Subject, v.subject_id)
        data = vault.decrypt(vault.subject_key(subject), "retained_images", img.id, img.kind, img.ciphertext)
        append_audit(
            s,
            actor=actor,
            action="review.image",
            target=f"verification:{v.id}",
            detail={"subject": v.subject_id, "image": img.id, "kind": img.kind},
        )
    return watermark_image(data, watermark)


@dataclass(frozen=True)
class DecisionOutcome:
    verification_id: str
    status: str
    previous_status: str
    webhook_queued: bool
    images_deleted: int


def record_decision(
    db: Database, vid: str, decision: Literal["approve", "reject"], note: str, *, reviewer: str, actor: str
) -> DecisionOutcome:
    """Approve or reject a verification awaiting review, with a required note."""
    if decision not in ("approve", "reject"):
        raise error("validation_failed", "The decision must be approve or reject.")
    note = (note or "").strip()
    if not note:
        raise error("validation_failed", "A note explaining the decision is required.")
    if len(note) > 2000:
        raise error("validation_failed", "The note is at most 2000 characters.")
    with db.session() as s:
        v = _load(s, vid, for_update=True)  # two reviewers deciding at once: the second waits, then conflicts
        if v.status not in ("review", "rejected") or v.reviewed_at is not None:
            raise error("decision_conflict")
        previous = v.status
        v.status = "approved" if decision == "approve" else "rejected"
        v.reviewed_by, v.reviewed_at, v.review_note = reviewer, utcnow(), note
        deleted = s.execute(delete(RetainedImage).where(RetainedImage.verification_id == v.id)).rowcount or 0
        client = s.get(ApiClient, v.client_id)
        delivery = enqueue_delivery(
            s,
            client,
            v.id,
            "verification.reviewed",
            {
                "verification_id": v.id,
                "status": v.status,
                "previous_status": previous,
                "reasons": list(v.reasons or []),
                "reviewed_at": v.reviewed_at.isoformat(),
            },
        )
        append_audit(
            s,
            actor=actor,
            action="review.decision",
            target=f"verification:{v.id}",
            detail={
                "subject": v.subject_id,
                "decision": decision,
                "from": previous,
                "to": v.status,
                "note_chars": len(note),
                "images_deleted": deleted,
                "webhook": delivery is not None,
            },
        )
        outcome = DecisionOutcome(v.id, v.status, previous, delivery is not None, deleted)
    if deleted:
        from kyc.subjects.rights import checkpoint

        checkpoint(db)  # SQLite: the freed image pages leave the WAL too, as after a purge
    return outcome
