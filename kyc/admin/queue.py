"""The review queue: verifications the service rejected or sent to review, newest first.

Searching by ID number never compares plain numbers: the number typed is normalised and
turned into the same keyed blind index (HMAC) the service stores for duplicate detection.
Every listing is audited (it shows masked personal data); a search's text is not logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import String, cast, func, select

from kyc.audit import append_audit
from kyc.errors import error
from kyc.storage.db import Database
from kyc.storage.models import ApiClient, RetainedImage, Verification
from kyc.vault import Vault

__all__ = ["QueueFilter", "QueueRow", "QueuePage", "list_queue", "QUEUE_STATUSES"]

QUEUE_STATUSES = ("review", "rejected")
_VERIFICATION_ID = re.compile(r"^[0-9a-f]{32}$")
_ID_NUMBER = re.compile(r"^[0-9A-Za-z<]{5,40}$")
_REASON = re.compile(r"^[a-z0-9_.]{1,64}$")


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None  # review | rejected | None for both
    reason: str | None = None  # a reason code the verification carries
    since: date | None = None  # created on or after this UTC day
    until: date | None = None  # created on or before this UTC day
    decided: Literal["undecided", "decided", "all"] = "undecided"
    q: str | None = None  # a verification id, or an ID number (through the blind index)

    def validate(self) -> None:
        if self.status is not None and self.status not in QUEUE_STATUSES:
            raise error("validation_failed", "status must be review or rejected")
        if self.reason is not None and not _REASON.match(self.reason):
            raise error("validation_failed", "not a reason code")
        if self.decided not in ("undecided", "decided", "all"):
            raise error("validation_failed", "decided must be undecided, decided or all")
        if self.since and self.until and self.since > self.until:
            raise error("validation_failed", "the start date is after the end date")


@dataclass(frozen=True)
class QueueRow:
    id: str
    status: str
    reasons: list[str]
    created_at: datetime
    document_type: str | None
    masked_fields: dict
    client_name: str
    retained_images: int
    reviewed_by: str | None
    reviewed_at: datetime | None


@dataclass
class QueuePage:
    rows: list[QueueRow]
    page: int
    page_size: int
    total: int
    search_kind: str | None = None  # verification_id | id_number
    reasons_seen: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_queue(db: Database, vault: Vault, flt: QueueFilter, page: int, page_size: int, *, actor: str) -> QueuePage:
    flt.validate()
    page = max(1, page)
    conds = [Verification.status.in_([flt.status] if flt.status else list(QUEUE_STATUSES))]
    if flt.decided == "undecided":
        conds.append(Verification.reviewed_at.is_(None))
    elif flt.decided == "decided":
        conds.append(Verification.reviewed_at.is_not(None))
    if flt.reason:
        conds.append(cast(Verification.reasons, String).like('%"' + _like_literal(flt.reason) + '"%', escape="\\"))
    if flt.since:
        conds.append(Verification.created_at >= datetime.combine(flt.since, time.min, UTC))
    if flt.until:
        conds.append(Verification.created_at < datetime.combine(flt.until + timedelta(days=1), time.min, UTC))
    search_kind = None
    with db.session() as s:
        q = (flt.q or "").strip()
        if q:
            if _VERIFICATION_ID.match(q.lower()):
                search_kind = "verification_id"
                conds.append(Verification.id == q.lower())
            elif _ID_NUMBER.match("".join(q.split())):
                search_kind = "id_number"
                conds.append(Verification.id_number_index == vault.id_number_index(s, q))
            else:
                raise error("validation_failed", "Search by a verification id (32 hex digits) or an ID number.")
        total = s.scalar(select(func.count()).select_from(Verification).where(*conds)) or 0
        images = (
            select(RetainedImage.verification_id, func.count().label("n"))
            .group_by(RetainedImage.verification_id)
            .subquery()
        )
        stmt = (
            select(Verification, ApiClient.name, images.c.n)
            .join(ApiClient, ApiClient.id == Verification.client_id)
            .outerjoin(images, images.c.verification_id == Verification.id)
            .where(*conds)
            .order_by(Verification.created_at.desc(), Verification.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        rows = [
            QueueRow(
                v.id,
                v.status,
                list(v.reasons or []),
                v.created_at,
                v.document_type,
                dict(v.masked_fields or {}),
                client_name,
                int(n or 0),
                v.reviewed_by,
                v.reviewed_at,
            )
            for v, client_name, n in s.execute(stmt).all()
        ]
        detail: dict[str, object] = {"page": page, "rows": len(rows), "total": total}
        if search_kind:
            detail["search"] = search_kind
        append_audit(s, actor=actor, action="review.queue", detail=detail)
    seen = sorted({r for row in rows for r in row.reasons})
    return QueuePage(rows, page, page_size, total, search_kind, seen)
