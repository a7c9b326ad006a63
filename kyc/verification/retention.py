"""Retention: retained review images are removed when they expire (``kyc purge`` and a service task)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from kyc.audit import append_audit
from kyc.storage.db import Database
from kyc.storage.models import RetainedImage, utcnow

__all__ = ["purge_expired"]


def purge_expired(db: Database, *, now: datetime | None = None, actor: str = "system:purge") -> int:
    """Delete every retained image past its expiry; returns how many."""
    now = now or utcnow()
    with db.session() as s:
        n = s.execute(delete(RetainedImage).where(RetainedImage.expires_at <= now)).rowcount or 0
        if n:
            append_audit(s, actor=actor, action="retention.purge", detail={"images_deleted": n})
    if n:
        from kyc.subjects.rights import checkpoint

        checkpoint(db)
    return n
