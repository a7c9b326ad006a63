"""Consent: versioned policies, consent records, the rules that gate processing."""

from kyc.consent.records import (
    ConsentInput,
    consent_receipt,
    get_consent,
    list_policies,
    publish_policy,
    receipt_public_key,
    record_consent,
    require_valid_consent,
    withdraw_consent,
)
from kyc.consent.rules import CROSS_BORDER_PURPOSE, PURPOSE_NOTICES, PURPOSES, RETENTION_PURPOSE, VERIFICATION_PURPOSES, check_consent

__all__ = [
    "ConsentInput",
    "CROSS_BORDER_PURPOSE",
    "PURPOSE_NOTICES",
    "consent_receipt",
    "receipt_public_key",
    "PURPOSES",
    "RETENTION_PURPOSE",
    "VERIFICATION_PURPOSES",
    "check_consent",
    "get_consent",
    "list_policies",
    "publish_policy",
    "record_consent",
    "require_valid_consent",
    "withdraw_consent",
]
