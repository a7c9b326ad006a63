"""``subject_ref``: one normalisation and validation rule, applied on write and on lookup.

A ref is the client's own user id. It is normalised to Unicode NFC with surrounding
white space removed, then must be 1 to 200 characters with no control, format
(bidi overrides, zero-width), surrogate, private-use or line/paragraph-separator
characters. Anything else is allowed: ``acct/42``, ``50%``, ``user 7``, ``用户-42``.
Because the same function runs when a consent is recorded and when a subject is
exported or deleted, a ref that was accepted can always be found again.
"""

from __future__ import annotations

import unicodedata

from kyc.errors import error

__all__ = ["normalize_subject_ref", "SUBJECT_REF_MAX", "SUBJECT_REF_PATTERN"]

SUBJECT_REF_MAX = 200
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
# The same rule for the OpenAPI schema (the server also trims and applies NFC).
SUBJECT_REF_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]+$"


def normalize_subject_ref(ref: str) -> str:
    """The canonical form of ``ref``, or ``subject_ref_invalid`` saying what is wrong."""
    if not isinstance(ref, str):
        raise error("subject_ref_invalid", "subject_ref must be a string")
    value = unicodedata.normalize("NFC", ref).strip()
    if not value or len(value) > SUBJECT_REF_MAX:
        raise error("subject_ref_invalid", f"subject_ref must be 1 to {SUBJECT_REF_MAX} characters", max_length=SUBJECT_REF_MAX)
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            raise error(
                "subject_ref_invalid",
                "subject_ref must not contain control, format (bidi, zero-width) or private-use characters",
                position=i,
                codepoint=f"U+{ord(ch):04X}",
            )
    return value
