"""Append-only, hash-chained audit log."""

from kyc.audit.chain import ChainReport, append_audit, verify_chain

__all__ = ["append_audit", "verify_chain", "ChainReport"]
