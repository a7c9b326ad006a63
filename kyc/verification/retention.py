"""Retention: what expires is removed (``kyc purge`` and a service task).

Retained review images go at their ``expires_at``. With ``result_retention_days`` set,
a verification's results (encrypted fields and template, masked fields, blind index)
are erased that many days after it, and each client application that received them is
sent a ``subject.deleted`` notice (reason ``retention_expired``) in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from kyc.audit import append_audit
from kyc.storage.db import Database
from kyc.storage.models import RetainedImage, Subject, Verification, utcnow

__all__ = ["purge_expired"]


def _expire_results(s, cutoff: datetime, now: datetime) -> tuple[int, int]:
    from kyc.subjects.notices import SUBJECT_DELETED, enqueue_notices

    rows = s.scalars(
        select(Verification).where(
            Verification.created_at <= cutoff,
            or_(Verification.fields_ct.is_not(None), Verification.template_ct.is_not(None), Verification.masked_fields.is_not(None)),
        )
    ).all()
    by_subject: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for v in rows:
        v.fields_ct = v.template_ct = v.masked_fields = v.id_number_index = None
        by_subject[v.subject_id][v.client_id].append(v.id)
    notices = 0
    for sid, recipients in by_subject.items():
        subject = s.get(Subject, sid)
        notices += enqueue_notices(
            s, dict(recipients), event=SUBJECT_DELETED, subject_id=sid, subject_ref=subject.ref,
            reason="retention_expired", at=now, extra={"scope": "verification_results"},
        )
    return len(rows), notices


def purge_expired(
    db: Database, *, now: datetime | None = None, actor: str = "system:purge", result_retention_days: float | None = None
) -> int:
    """Delete every retained image past its expiry (and expired results, see above); returns the images deleted."""
    now = now or utcnow()
    with db.session() as s:
        n = s.execute(delete(RetainedImage).where(RetainedImage.expires_at <= now)).rowcount or 0
        results = notices = 0
        if result_retention_days is not None:
            results, notices = _expire_results(s, now - timedelta(days=result_retention_days), now)
        if n or results:
            append_audit(
                s, actor=actor, action="retention.purge",
                detail={"images_deleted": n, "results_erased": results, "notices": notices},
            )
    if n or results:
        from kyc.subjects.rights import checkpoint

        checkpoint(db)
    return n
