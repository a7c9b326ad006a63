"""Reading the audit log in the console (auditors): newest first, paged, filtered."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from kyc.errors import error
from kyc.storage.db import Database
from kyc.storage.models import AuditEntry

__all__ = ["AuditPage", "list_audit"]

_FILTER = re.compile(r"^[A-Za-z0-9_.:@-]{1,200}$")


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def list_audit(db: Database, page: int, page_size: int, *, action: str | None = None, actor: str | None = None, target: str | None = None) -> AuditPage:
    """``action`` matches exactly or as a prefix ending in '.', e.g. ``review.``; actor and target exactly."""
    conds = []
    for value in (action, actor, target):
        if value and not _FILTER.match(value):
            raise error("validation_failed", "Filters hold letters, digits and . _ : @ - only.")
    if action:
        conds.append(AuditEntry.action.startswith(action, autoescape=True) if action.endswith(".") else AuditEntry.action == action)
    if actor:
        conds.append(AuditEntry.actor == actor)
    if target:
        conds.append(AuditEntry.target == target)
    page = max(1, page)
    with db.session() as s:
        total = s.scalar(select(func.count()).select_from(AuditEntry).where(*conds)) or 0
        rows = s.scalars(
            select(AuditEntry).where(*conds).order_by(AuditEntry.seq.desc()).offset((page - 1) * page_size).limit(page_size)
        ).all()
    return AuditPage(list(rows), page, page_size, total)
