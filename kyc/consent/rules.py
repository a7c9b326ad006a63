"""Consent rules, pure: which purposes a verification needs and when a consent covers it.

No database or HTTP here, so the rules are testable on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kyc.errors import error

__all__ = ["PURPOSES", "PURPOSE_NOTICES", "PurposeNotice", "CROSS_BORDER_PURPOSE", "VERIFICATION_PURPOSES", "RETENTION_PURPOSE", "ConsentView", "PolicyView", "check_consent", "check_purposes"]

VERIFICATION_PURPOSES = frozenset({"real_name_verification", "biometric_processing"})
RETENTION_PURPOSE = "retain_for_review"
CROSS_BORDER_PURPOSE = "cross_border_transfer"  # results may be delivered to a host outside the jurisdiction
PURPOSES = VERIFICATION_PURPOSES | {RETENTION_PURPOSE, CROSS_BORDER_PURPOSE}


@dataclass(frozen=True)
class PurposeNotice:
    """What a purpose means, as a consent receipt states it (ISO/IEC 29184 notice fields)."""

    description: str
    pi_categories: tuple[str, ...]
    sensitive: bool
    primary: bool


# One entry per purpose: the receipts, the promises page and the API read this registry.
PURPOSE_NOTICES: dict[str, PurposeNotice] = {
    "real_name_verification": PurposeNotice(
        "Read the identity document and check it against the person, to verify a real name.",
        ("identity_document_fields", "identity_document_image"),
        True,
        True,
    ),
    "biometric_processing": PurposeNotice(
        "Make a face template from the selfie and the document portrait and compare them, and check liveness.",
        ("facial_image", "face_template"),
        True,
        True,
    ),
    RETENTION_PURPOSE: PurposeNotice(
        "Keep the uploaded images, encrypted, for human review when the automatic check is not conclusive; deleted at expiry.",
        ("identity_document_image", "facial_image"),
        True,
        False,
    ),
    CROSS_BORDER_PURPOSE: PurposeNotice(
        "Deliver verification results and notices to the client application at a host outside the jurisdiction.",
        ("verification_result",),
        False,
        False,
    ),
}
assert set(PURPOSE_NOTICES) == PURPOSES


@dataclass(frozen=True)
class PolicyView:
    version: str
    significant: bool
    published_at: datetime


@dataclass(frozen=True)
class ConsentView:
    purposes: frozenset[str]
    policy_version: str
    withdrawn: bool


def check_purposes(purposes: list[str]) -> list[str]:
    """Known purposes only, without duplicates, in a stable order."""
    unknown = sorted(set(purposes) - PURPOSES)
    if unknown or not purposes:
        raise error("validation_failed", "purposes must be a non-empty list of known purposes", allowed=sorted(PURPOSES))
    return sorted(set(purposes))


def check_consent(consent: ConsentView, policies: list[PolicyView], needed: frozenset[str] = VERIFICATION_PURPOSES) -> None:
    """Raise the right 403 unless ``consent`` allows processing for ``needed`` now.

    A consent is outdated when a policy version marked significant was published after
    the version the subject agreed to.
    """
    if consent.withdrawn:
        raise error("consent_withdrawn")
    missing = sorted(needed - consent.purposes)
    if missing:
        raise error("consent_required", missing_purposes=missing)
    by_version = {p.version: p for p in policies}
    agreed = by_version.get(consent.policy_version)
    if agreed is None:
        raise error("consent_required", "the consent refers to an unknown policy version")
    if any(p.significant and p.published_at > agreed.published_at for p in policies):
        latest = max((p for p in policies if p.significant), key=lambda p: p.published_at)
        raise error("consent_outdated", required_policy_version=latest.version)
