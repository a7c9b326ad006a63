"""Data subjects: records (with per-subject keys) and their rights (export, delete)."""

from kyc.subjects.records import find_subject, get_or_create_subject
from kyc.subjects.rights import delete_subject, export_subject

__all__ = ["find_subject", "get_or_create_subject", "export_subject", "delete_subject"]
