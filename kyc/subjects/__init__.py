"""Data subjects: records (with per-subject keys) and their rights (export, delete)."""

from kyc.subjects.records import find_subject, get_or_create_subject
from kyc.subjects.refs import SUBJECT_REF_MAX, SUBJECT_REF_PATTERN, normalize_subject_ref
from kyc.subjects.rights import delete_subject, export_subject

__all__ = [
    "normalize_subject_ref",
    "SUBJECT_REF_MAX",
    "SUBJECT_REF_PATTERN",
    "find_subject", "get_or_create_subject", "export_subject", "delete_subject"]
