"""Data-subject rights: export everything held (decrypted), and delete (crypto-shredding).

Deleting a subject removes its rows and, with them, its wrapped data key: every
ciphertext made under that key (fields, templates, retained images) is unreadable from
then on, wherever a copy survives. Backups hold the key wrapped by the KEK; once the KEK
is rotated (``kyc keys rotate``), those copies are unreadable too.
"""

from __future__ import annotations

import base64

from sqlalchemy import delete, select

from kyc.audit import append_audit
from kyc.errors import error
from kyc.storage.db import Database
from kyc.storage.models import Consent, RetainedImage, Subject, Verification, utcnow
from kyc.subjects.notices import SUBJECT_DELETED, enqueue_notices, recipients_of
from kyc.subjects.records import find_subject
from kyc.vault import Vault

__all__ = ["export_subject", "delete_subject"]


def export_subject(db: Database, vault: Vault, client_id: str, ref: str, *, actor: str) -> dict[str, object]:
    with db.session() as s:
        subject = find_subject(s, client_id, ref)
        if subject is None:
            raise error("subject_not_found")
        dek = vault.subject_key(subject)
        consents = s.scalars(select(Consent).where(Consent.subject_id == subject.id).order_by(Consent.created_at)).all()
        verifications = s.scalars(
            select(Verification).where(Verification.subject_id == subject.id).order_by(Verification.created_at)
        ).all()
        out_v = []
        for v in verifications:
            images = s.scalars(select(RetainedImage).where(RetainedImage.verification_id == v.id)).all()
            out_v.append(
                {
                    "id": v.id,
                    "status": v.status,
                    "reasons": v.reasons,
                    "scores": v.scores,
                    "models": v.models,
                    "consent_id": v.consent_id,
                    "document_type": v.document_type,
                    "fields": vault.decrypt_json(dek, "verifications", v.id, "fields", v.fields_ct) if v.fields_ct else None,
                    "face_template": (
                        base64.b64encode(vault.decrypt(dek, "verifications", v.id, "template", v.template_ct)).decode()
                        if v.template_ct
                        else None
                    ),
                    "retained_images": [
                        {
                            "kind": img.kind,
                            "expires_at": img.expires_at.isoformat(),
                            "data_base64": base64.b64encode(
                                vault.decrypt(dek, "retained_images", img.id, img.kind, img.ciphertext)
                            ).decode(),
                        }
                        for img in images
                    ],
                    "created_at": v.created_at.isoformat(),
                    "review": (
                        {"by": v.reviewed_by, "at": v.reviewed_at.isoformat(), "note": v.review_note} if v.reviewed_at else None
                    ),
                }
            )
        result = {
            "subject_ref": subject.ref,
            "created_at": subject.created_at.isoformat(),
            "consents": [
                {
                    "id": c.id,
                    "purposes": c.purposes,
                    "policy_version": c.policy_version,
                    "locale": c.locale,
                    "channel": c.channel,
                    "consented_at": c.consented_at.isoformat(),
                    "text_sha256": c.text_sha256,
                    "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
                }
                for c in consents
            ],
            "verifications": out_v,
        }
        append_audit(s, actor=actor, action="subject.export", target=f"subject:{subject.id}")
    return result


def delete_subject(db: Database, client_id: str, ref: str, *, actor: str) -> dict[str, int]:
    with db.session() as s:
        subject = find_subject(s, client_id, ref)
        if subject is None:
            raise error("subject_not_found")
        sid = subject.id
        notices = enqueue_notices(
            s,
            recipients_of(s, Verification.subject_id == sid),
            event=SUBJECT_DELETED,
            subject_id=sid,
            subject_ref=subject.ref,
            reason="subject_request",
            at=utcnow(),
        )
        counts = {
            "retained_images": s.execute(delete(RetainedImage).where(RetainedImage.subject_id == sid)).rowcount,
            "verifications": s.execute(delete(Verification).where(Verification.subject_id == sid)).rowcount,
            "consents": s.execute(delete(Consent).where(Consent.subject_id == sid)).rowcount,
        }
        s.execute(delete(Subject).where(Subject.id == sid))
        append_audit(s, actor=actor, action="subject.delete", target=f"subject:{sid}", detail={**counts, "notices": notices})
    checkpoint(db)
    return counts


def checkpoint(db: Database) -> None:
    """SQLite: move the WAL into the main file (zeroed by secure_delete) so freed pages do not linger."""
    if db.engine.dialect.name == "sqlite":
        raw = db.engine.raw_connection()  # outside any transaction (autocommit driver mode)
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            raw.close()
