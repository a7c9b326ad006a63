"""Reason codes in plain words, for reviewers. Pure data; unknown codes are shown as they are."""

from __future__ import annotations

__all__ = ["REASON_TEXT", "describe_reason", "KNOWN_REASONS"]

REASON_TEXT: dict[str, str] = {
    "face_mismatch": "The selfie does not match the ID portrait.",
    "face_mismatch_borderline": "The selfie is close to, but below, the match threshold for the ID portrait.",
    "face_mismatch_low_quality_portrait": "The selfie did not match, but the ID portrait is too small, blurred or turned "
    "for the match threshold to be trusted (see the portrait band's reasons).",
    "liveness_failed": "The liveness check judged the selfie not to be a live person (photo, screen or mask).",
    "liveness_missing": "No liveness result was available.",
    "duplicate_identity": "This ID number is already verified for another subject.",
    "document_low_confidence": "Some document fields were read with low confidence.",
    "document_fields_missing": "Required document fields (name or ID number) could not be read.",
    "document_expired": "The document has expired.",
    "id_number_checksum": "The ID number's check digit is wrong.",
    "id_number_checksum_invalid": "The ID number's check digit is wrong.",
    "id_portrait_missing": "No portrait was found on the ID document.",
    "id_portrait_face_not_found": "No face was found in the ID portrait.",
    "id_portrait_face_quality_low": "The ID portrait's quality is too low to compare.",
    "id_portrait_face_too_small": "The face in the ID portrait is too small to compare.",
    "id_portrait_face_multiple": "More than one face was found in the ID portrait.",
    "birth_date_mismatch": "The birth date does not agree with the ID number.",
    "sex_mismatch": "The sex field does not agree with the ID number.",
    "region_unknown": "The ID number's region code is unknown.",
    "validity_invalid": "The validity period could not be read or is inconsistent.",
}
KNOWN_REASONS = tuple(sorted(REASON_TEXT))


def describe_reason(code: str) -> str:
    """Plain words for a reason code (also ``back.<check>`` codes from the card's back)."""
    base = code.removeprefix("back.")
    text = REASON_TEXT.get(base)
    if text is None:
        return "Check failed: " + base.replace("_", " ") + "."
    return text if base == code else "ID card back: " + text[0].lower() + text[1:]
