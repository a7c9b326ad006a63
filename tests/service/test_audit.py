"""The hash-chained audit log on SQLite and PostgreSQL: appends, verification, tampering."""

from __future__ import annotations

import threading

from sqlalchemy import delete, select, update

from kyc.audit import append_audit, verify_chain
from kyc.storage import AuditEntry


def _fill(db, n=5):
    for i in range(n):
        with db.session() as s:
            append_audit(s, actor="test", action="thing.happen", target=f"t:{i}", detail={"i": i})


def test_chain_verifies_and_names_the_first_changed_entry(db):
    _fill(db)
    report = verify_chain(db)
    assert report.ok and report.entries == 5
    with db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(detail={"i": 99}))
    report = verify_chain(db)
    assert not report.ok and report.first_broken_seq == 3 and "content" in report.reason


def test_removed_entries_are_detected(db):
    _fill(db)
    with db.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    assert verify_chain(db).first_broken_seq == 2


def test_truncation_at_the_end_is_detected(db):
    _fill(db)
    with db.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    report = verify_chain(db)
    assert not report.ok and report.first_broken_seq == 5


def test_rolled_back_transactions_leave_no_entry(db):
    try:
        with db.session() as s:
            append_audit(s, actor="test", action="x")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    _fill(db, 1)
    assert verify_chain(db).ok and verify_chain(db).entries == 1


def test_concurrent_appends_keep_one_chain(db):
    threads = [threading.Thread(target=_fill, args=(db, 10)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify_chain(db)
    assert report.ok and report.entries == 40
    with db.session() as s:
        assert [e.seq for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))] == list(range(1, 41))
