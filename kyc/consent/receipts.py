"""Consent receipts: what a person agreed to (or withdrew), signed by the service.

The receipt's payload follows the Kantara Initiative Consent Receipt Specification v1.1
and the notice fields of ISO/IEC 29184 (names in snake_case); the document is signed
with the service's Ed25519 key (``kyc.vault.signing``) over its canonical JSON::

    {"payload": {
        "receipt_version": "kyc-consent-receipt/1", "kind": "consent" | "withdrawal",
        "receipt_id", "consent_id", "jurisdiction", "consent_timestamp",
        "withdrawal_timestamp" (withdrawal only), "collection_method" (the channel),
        "language" (the locale), "pii_principal_id" (the client's subject_ref),
        "pii_controllers": [{"name", "contact", "policy_url"}],
        "policy": {"version", "text_sha256", "notice_text_sha256"},
        "services": [{"service": "real-name identity verification", "purposes": [
            {"purpose", "description", "consent_type": "explicit", "pii_categories",
             "primary_purpose", "termination", "third_party_disclosure": false}]}],
        "sensitive": bool, "spi_categories": [...]},
     "signature": {"alg": "Ed25519", "key_id", "value": base64}}

A receipt is a pure function of the stored consent, the policy and the controller
settings, and Ed25519 signatures are deterministic: asking again gives the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from kyc.consent.rules import PURPOSE_NOTICES

__all__ = ["RECEIPT_VERSION", "ReceiptFacts", "Controller", "build_receipt"]

RECEIPT_VERSION = "kyc-consent-receipt/1"
SERVICE_NAME = "real-name identity verification"
TERMINATION = "Until withdrawn (POST /v1/consents/{id}/withdraw) or the subject's data is deleted."


@dataclass(frozen=True)
class Controller:
    name: str
    contact: str
    policy_url: str | None
    jurisdiction: str


@dataclass(frozen=True)
class ReceiptFacts:
    """The stored facts a receipt states (from the consent row, its subject and policy)."""

    consent_id: str
    subject_ref: str
    purposes: tuple[str, ...]
    policy_version: str
    policy_text_sha256: str
    notice_text_sha256: str
    locale: str
    channel: str
    consented_at: datetime
    withdrawn_at: datetime | None


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_receipt(facts: ReceiptFacts, controller: Controller, kind: str) -> dict:
    """The unsigned payload of a ``consent`` or ``withdrawal`` receipt."""
    if kind not in ("consent", "withdrawal"):
        raise ValueError("kind is consent or withdrawal")
    if kind == "withdrawal" and facts.withdrawn_at is None:
        raise ValueError("the consent has not been withdrawn")
    notices = [(p, PURPOSE_NOTICES[p]) for p in sorted(facts.purposes)]
    spi = sorted({c for _, n in notices if n.sensitive for c in n.pi_categories})
    payload = {
        "receipt_version": RECEIPT_VERSION,
        "kind": kind,
        "receipt_id": hashlib.sha256(f"{facts.consent_id}|{kind}".encode()).hexdigest()[:32],
        "consent_id": facts.consent_id,
        "jurisdiction": controller.jurisdiction,
        "consent_timestamp": _ts(facts.consented_at),
        "collection_method": facts.channel,
        "language": facts.locale,
        "pii_principal_id": facts.subject_ref,
        "pii_controllers": [{"name": controller.name, "contact": controller.contact, "policy_url": controller.policy_url}],
        "policy": {
            "version": facts.policy_version,
            "text_sha256": facts.policy_text_sha256,
            "notice_text_sha256": facts.notice_text_sha256,
        },
        "services": [
            {
                "service": SERVICE_NAME,
                "purposes": [
                    {
                        "purpose": p,
                        "description": n.description,
                        "consent_type": "explicit",
                        "pii_categories": list(n.pi_categories),
                        "primary_purpose": n.primary,
                        "termination": TERMINATION,
                        "third_party_disclosure": False,
                    }
                    for p, n in notices
                ],
            }
        ],
        "sensitive": bool(spi),
        "spi_categories": spi,
    }
    if kind == "withdrawal":
        payload["withdrawal_timestamp"] = _ts(facts.withdrawn_at)
    return payload
