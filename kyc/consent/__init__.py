"""Consent: versioned policies, consent records, the rules that gate processing."""

from kyc.consent.records import (
    ConsentInput,
    get_consent,
    list_policies,
    publish_policy,
    record_consent,
    require_valid_consent,
    withdraw_consent,
)
from kyc.consent.rules import PURPOSES, RETENTION_PURPOSE, VERIFICATION_PURPOSES, check_consent

__all__ = [
    "ConsentInput",
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
