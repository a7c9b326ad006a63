"""Policies and consent records in the database, each change audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from kyc.audit import append_audit
from kyc.consent.rules import ConsentView, PolicyView, check_consent, check_purposes
from kyc.errors import error
from kyc.storage.db import Database
from kyc.storage.models import Consent, Policy, RetainedImage, Subject, Verification, utcnow
from kyc.subjects.records import get_or_create_subject
from kyc.vault import Vault

__all__ = ["ConsentInput", "consent_receipt", "receipt_public_key", "publish_policy", "list_policies", "record_consent", "withdraw_consent", "get_consent", "require_valid_consent"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ConsentInput:
    subject_ref: str
    purposes: list[str]
    policy_version: str
    locale: str
    channel: str
    text_sha256: str
    consented_at: datetime | None = None


def publish_policy(db: Database, version: str, text_sha256: str, significant: bool, *, actor: str) -> Policy:
    if not _SHA256.match(text_sha256):
        raise error("validation_failed", "text_sha256 must be 64 lower-case hex digits")
    with db.session() as s:
        if s.get(Policy, version) is not None:
            raise error("policy_exists")
        p = Policy(version=version, text_sha256=text_sha256, significant=significant, published_at=utcnow())
        s.add(p)
        append_audit(s, actor=actor, action="policy.publish", target=f"policy:{version}", detail={"significant": significant})
    return p


def list_policies(db: Database) -> list[Policy]:
    with db.session() as s:
        return list(s.scalars(select(Policy).order_by(Policy.published_at)).all())


def _policy_views(session) -> list[PolicyView]:
    return [PolicyView(p.version, p.significant, p.published_at) for p in session.scalars(select(Policy)).all()]


def record_consent(db: Database, vault: Vault, client_id: str, data: ConsentInput, *, actor: str) -> Consent:
    purposes = check_purposes(data.purposes)
    if not _SHA256.match(data.text_sha256):
        raise error("validation_failed", "text_sha256 must be 64 lower-case hex digits")
    with db.session() as s:
        if s.get(Policy, data.policy_version) is None:
            raise error("policy_not_found")
    subject_id = get_or_create_subject(db, vault, client_id, data.subject_ref)
    when = data.consented_at or utcnow()
    if when.tzinfo is None:
        raise error("validation_failed", "consented_at needs a time zone")
    with db.session() as s:
        c = Consent(
            subject_id=subject_id,
            purposes=purposes,
            policy_version=data.policy_version,
            locale=data.locale,
            channel=data.channel,
            consented_at=when,
            text_sha256=data.text_sha256,
        )
        s.add(c)
        s.flush()
        append_audit(
            s,
            actor=actor,
            action="consent.record",
            target=f"consent:{c.id}",
            detail={"subject": subject_id, "purposes": purposes, "policy_version": data.policy_version},
        )
    return c


def get_consent(session, client_id: str, consent_id: str) -> Consent:
    from kyc.storage.models import Subject

    c = session.get(Consent, consent_id)
    if c is None or session.get(Subject, c.subject_id).client_id != client_id:
        raise error("consent_not_found")
    return c


def require_valid_consent(session, consent: Consent) -> None:
    check_consent(
        ConsentView(frozenset(consent.purposes), consent.policy_version, consent.withdrawn_at is not None),
        _policy_views(session),
    )


def withdraw_consent(db: Database, client_id: str, consent_id: str, *, actor: str) -> dict[str, int]:
    """Withdraw a consent and delete the templates, fields and images kept under it."""
    with db.session() as s:
        c = get_consent(s, client_id, consent_id)
        first = c.withdrawn_at is None
        if first:
            c.withdrawn_at = utcnow()
        notices = 0
        if first:
            from kyc.subjects.notices import CONSENT_WITHDRAWN, enqueue_notices, recipients_of

            notices = enqueue_notices(
                s,
                recipients_of(s, Verification.consent_id == c.id),
                event=CONSENT_WITHDRAWN,
                subject_id=c.subject_id,
                subject_ref=s.get(Subject, c.subject_id).ref,
                reason="consent_withdrawn",
                at=c.withdrawn_at,
                extra={"consent_id": c.id},
            )
        images = 0
        cleared = 0
        for v in s.scalars(select(Verification).where(Verification.consent_id == c.id)).all():
            for img in s.scalars(select(RetainedImage).where(RetainedImage.verification_id == v.id)).all():
                s.delete(img)
                images += 1
            if v.fields_ct is not None or v.template_ct is not None or v.masked_fields is not None:
                cleared += 1
            v.fields_ct = v.template_ct = v.masked_fields = v.id_number_index = None
        append_audit(
            s,
            actor=actor,
            action="consent.withdraw",
            target=f"consent:{c.id}",
            detail={"subject": c.subject_id, "verifications_cleared": cleared, "images_deleted": images, "notices": notices},
        )
    return {"verifications_cleared": cleared, "images_deleted": images}


def _controller(settings) -> "Controller":
    from kyc.consent.receipts import Controller

    return Controller(settings.controller_name, settings.controller_contact, settings.privacy_policy_url, settings.jurisdiction)


def consent_receipt(db: Database, vault: Vault, settings, client_id: str, consent_id: str, kind: str = "consent") -> dict:
    """The signed receipt of a consent (``kind="consent"``) or of its withdrawal."""
    from kyc.consent.receipts import ReceiptFacts, build_receipt
    from kyc.vault.signing import sign_document, signing_key

    with db.session() as s:
        c = get_consent(s, client_id, consent_id)
        if kind == "withdrawal" and c.withdrawn_at is None:
            raise error("receipt_not_available")
        policy = s.get(Policy, c.policy_version)
        facts = ReceiptFacts(
            consent_id=c.id,
            subject_ref=s.get(Subject, c.subject_id).ref,
            purposes=tuple(c.purposes),
            policy_version=c.policy_version,
            policy_text_sha256=policy.text_sha256,
            notice_text_sha256=c.text_sha256,
            locale=c.locale,
            channel=c.channel,
            consented_at=c.consented_at,
            withdrawn_at=c.withdrawn_at,
        )
        key = signing_key(s, vault)
    return sign_document(key, build_receipt(facts, _controller(settings), kind))


def receipt_public_key(db: Database, vault: Vault) -> str:
    """The PEM public key that verifies receipts and statements (published, not secret)."""
    from kyc.vault.signing import public_key_pem, signing_key

    with db.session() as s:
        return public_key_pem(signing_key(s, vault))
