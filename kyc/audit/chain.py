"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical
JSON (seq, time, actor, action, target, detail). Changing, removing or reordering any
entry breaks every hash after it; :func:`verify_chain` names the first broken entry.
Appends are serialised by updating the single ``audit_head`` row first, which takes a
row lock in PostgreSQL and the write lock in SQLite. Entries never hold personal data:
targets are internal ids, details are codes and counts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kyc.storage.db import Database
from kyc.storage.models import AuditEntry, AuditHead, utcnow

__all__ = ["append_audit", "verify_chain", "ChainReport", "entry_hash", "GENESIS"]

GENESIS = "0" * 64


def _canonical_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, target: str | None, detail: dict) -> str:
    body = json.dumps(
        {"seq": seq, "at": _canonical_time(at), "actor": actor, "action": action, "target": target, "detail": detail},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + "\n" + body).encode()).hexdigest()


def append_audit(
    session: Session, *, actor: str, action: str, target: str | None = None, detail: dict | None = None
) -> AuditEntry:
    """Append one entry inside the caller's transaction (so it commits with the change it records)."""
    detail = detail or {}
    # Take the lock before reading the head (the migration creates the head row).
    locked = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq)).rowcount
    if not locked:
        session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        session.flush()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    session.refresh(head)
    at = utcnow()
    seq = head.seq + 1
    h = entry_hash(head.hash, seq, at, actor, action, target, detail)
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, target=target, detail=detail, prev_hash=head.hash, hash=h)
    session.add(entry)
    head.seq, head.hash = seq, h
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str | None = None


def verify_chain(db: Database, batch: int = 1000) -> ChainReport:
    """Walk the log in order and recompute every hash."""
    prev, expected_seq, count, last = GENESIS, 1, 0, 0
    while True:
        with db.session() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)).all()
        for e in rows:
            if e.seq != expected_seq:
                return ChainReport(False, count, expected_seq, f"entry {expected_seq} is missing")
            if e.prev_hash != prev:
                return ChainReport(False, count, e.seq, "previous-hash link does not match")
            if entry_hash(prev, e.seq, e.at, e.actor, e.action, e.target, e.detail) != e.hash:
                return ChainReport(False, count, e.seq, "content does not match its hash")
            prev, expected_seq, count, last = e.hash, e.seq + 1, count + 1, e.seq
        if len(rows) < batch:
            break
    with db.session() as s:
        head = s.get(AuditHead, 1)
    if head is not None and (head.seq != last or head.hash != prev):
        return ChainReport(False, count, last + 1, "entries after the last one were removed")
    return ChainReport(True, count)
