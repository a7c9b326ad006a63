"""Deletion notices: tell each client application that received a subject's results.

The privacy policy promises that parties who received personal data are told when it is
deleted, so they can delete their copies. When a subject is deleted, a consent is
withdrawn or a result reaches its retention limit, every client application that received
a verification result about the subject gets a signed webhook (``subject.deleted`` or
``consent.withdrawn``) through the admin console's outbox (same signing, retries and
audit as the review webhook). The notice is enqueued in the transaction that deletes,
so a deletion never commits without its notices. A recipient without a webhook is
recorded in the audit log (``notice.no_webhook``), so the operator can tell it otherwise.

Body: ``{"id", "event", "subject_ref", "verification_ids", "reason", "at"}`` plus
``"consent_id"`` for a withdrawal: the client's own user id and the verification ids it
was given, nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyc.audit import append_audit
from kyc.storage.models import ApiClient, Verification

__all__ = ["recipients_of", "enqueue_notices", "SUBJECT_DELETED", "CONSENT_WITHDRAWN"]

SUBJECT_DELETED = "subject.deleted"
CONSENT_WITHDRAWN = "consent.withdrawn"


def recipients_of(s: Session, *conditions) -> dict[str, list[str]]:
    """Client id -> ids of the verifications (matching ``conditions``) whose results it received."""
    out: dict[str, list[str]] = defaultdict(list)
    for client_id, vid in s.execute(select(Verification.client_id, Verification.id).where(*conditions).order_by(Verification.created_at)):
        out[client_id].append(vid)
    return dict(out)


def _cross_border_consented(s: Session, verification_ids: list[str]) -> bool:
    """Every consent the results were given under names ``cross_border_transfer``."""
    from kyc.consent.rules import CROSS_BORDER_PURPOSE
    from kyc.storage.models import Consent

    rows = s.scalars(select(Consent.purposes).join(Verification, Verification.consent_id == Consent.id).where(Verification.id.in_(verification_ids))).all()
    return bool(rows) and all(CROSS_BORDER_PURPOSE in p for p in rows)


def enqueue_notices(
    s: Session,
    recipients: dict[str, list[str]],
    *,
    event: str,
    subject_id: str,
    subject_ref: str,
    reason: str,
    at: datetime,
    extra: dict | None = None,
) -> int:
    """One notice per recipient with a webhook, in the caller's transaction; returns how many."""
    from kyc.admin.webhooks import enqueue_delivery  # the one outbox (kyc.admin imports kyc.subjects)

    n = 0
    for client_id, vids in sorted(recipients.items()):
        client = s.get(ApiClient, client_id)
        if client is None or client.revoked_at is not None:
            continue
        payload = {
            "subject_ref": subject_ref,
            "verification_ids": vids,
            "reason": reason,
            "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **(extra or {}),
        }
        abroad_ok = _cross_border_consented(s, vids)
        if enqueue_delivery(s, client, None, event, payload, subject_id=subject_id, cross_border_consent=abroad_ok) is not None:
            n += 1
        else:  # the promise cannot be kept by us: say so where the operator will look
            append_audit(
                s, actor="system:notices", action="notice.no_webhook", target=f"client:{client_id}",
                detail={"event": event, "subject": subject_id, "verifications": len(vids)},
            )
    return n
