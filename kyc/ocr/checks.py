"""The outcome of one validation: a value object with a reason code.

A check never raises: it says ``ok`` and, when not ok, a stable ``code`` that a
client can switch on, and a plain ``message`` for people (never containing the
ID number, a name or an image).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Check", "passed", "failed", "fields_complete", "validity_period"]


@dataclass(frozen=True)
class Check:
    ok: bool
    code: str | None
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "code": self.code, "message": self.message}


def passed(message: str) -> Check:
    return Check(True, None, message)


def failed(code: str, message: str) -> Check:
    return Check(False, code, message)


def fields_complete(missing: Iterable[str], complete_message: str = "Every field was read.") -> Check:
    """Every layout's ``fields_complete`` check: the fields that could not be read are
    named (field names only, never values), so a reviewer knows what to look at."""
    missing = list(missing)
    if missing:
        return failed("fields_missing", "Some fields could not be read: " + ", ".join(missing) + ".")
    return passed(complete_message)


def validity_period(valid_from: _dt.date, valid_until: _dt.date, today: _dt.date, noun: str) -> Check:
    """A fixed validity period against ``today``; ``noun`` names the document in the
    message ("card", "permit")."""
    if valid_until < today:
        return failed("document_expired", f"The {noun} has expired.")
    if valid_from > today:
        return failed("document_not_yet_valid", f"The {noun}'s validity period has not started.")
    return passed(f"The {noun} is within its validity period.")
