"""Subjects: created on first consent, each with its own data key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kyc.subjects.refs import normalize_subject_ref
from kyc.storage.db import Database
from kyc.storage.models import Subject, new_id
from kyc.vault import Vault

__all__ = ["get_or_create_subject", "find_subject"]


def find_subject(session, client_id: str, ref: str) -> Subject | None:
    """The subject for the ref, normalised by the same rule as on write (kyc/subjects/refs.py)."""
    ref = normalize_subject_ref(ref)
    return session.scalar(select(Subject).where(Subject.client_id == client_id, Subject.ref == ref))


def get_or_create_subject(db: Database, vault: Vault, client_id: str, ref: str) -> str:
    """The subject id for (client, ref), creating it with a fresh wrapped data key."""
    ref = normalize_subject_ref(ref)
    with db.session() as s:
        found = find_subject(s, client_id, ref)
        if found is not None:
            return found.id
    sid = new_id()
    _, wrapped, kid = vault.new_subject_key(sid)
    try:
        with db.session() as s:
            s.add(Subject(id=sid, client_id=client_id, ref=ref, wrapped_key=wrapped, kek_id=kid))
        return sid
    except IntegrityError:  # created concurrently
        with db.session() as s:
            found = find_subject(s, client_id, ref)
            assert found is not None
            return found.id
