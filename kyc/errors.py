"""Errors with stable machine-readable codes.

Every failure a client can cause is a :class:`KycError` carrying a code from
:data:`CODES`. The code is the contract (clients switch on it); the message is for
people. The service maps a code to its HTTP status in one handler (``api/errors.py``).
Messages never contain images, templates, names or ID numbers.

Exception tree::

    KycError
    ├── InputError        the request itself is wrong (4xx)
    ├── NotFoundError     an unknown id (404)
    ├── PermissionError_  consent, auth or scope missing (401/403)
    ├── ConflictError     state does not allow it: used, expired, duplicate (409/410)
    └── ModelError        a model file is missing or altered (503, operator's fix)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CODES",
    "ErrorInfo",
    "KycError",
    "InputError",
    "NotFoundError",
    "PermissionError_",
    "ConflictError",
    "ModelError",
    "error",
]


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    status: int
    message: str


def _e(code: str, status: int, message: str) -> tuple[str, ErrorInfo]:
    return code, ErrorInfo(code, status, message)


CODES: dict[str, ErrorInfo] = dict(
    [
        # --- images (shared) ---
        _e("image_empty", 400, "The upload is empty."),
        _e("image_unsupported_type", 415, "The file is not a supported image (JPEG, PNG, WebP or HEIC)."),
        _e("image_corrupt", 422, "The image could not be decoded; it may be truncated or damaged."),
        _e("image_too_large", 413, "The file is larger than the configured upload limit."),
        _e("image_too_many_pixels", 413, "The image has more pixels than the configured limit."),
        _e("image_too_small", 422, "The image is too small to read."),
        _e("upload_missing", 422, "A required file upload is missing."),
        # --- documents (issue 2) ---
        _e("document_not_found", 422, "No ID card or passport was found in the photo."),
        _e("document_cut_off", 422, "The document is cut off at the edge of the photo; include the whole card."),
        _e("document_unreadable", 422, "The document was found but its text could not be read."),
        # --- faces (issue 3) ---
        _e("face_not_found", 422, "No face was found in the image."),
        _e("face_multiple", 422, "More than one face was found; the selfie must show one person."),
        _e("face_too_small", 422, "The face is too small; move closer to the camera."),
        _e("face_quality_low", 422, "The face image quality is too low."),
        _e("template_model_mismatch", 422, "The templates were made by different models and cannot be compared."),
        _e("template_invalid", 422, "The template is not a valid template."),
        # --- liveness (issue 4) ---
        _e("video_unreadable", 422, "The video could not be decoded."),
        _e("frames_too_few", 422, "Too few frames were uploaded for a liveness check."),
        _e("liveness_session_not_found", 404, "The liveness session does not exist."),
        _e("liveness_session_expired", 410, "The liveness session has expired; start a new one."),
        _e("liveness_session_used", 409, "The liveness session has already been used."),
        _e("video_too_long", 413, "The video has more frames than a liveness check accepts."),
        _e("liveness_quota_exceeded", 429, "This client has too many open liveness sessions; finish or let some expire."),
        _e("liveness_result_not_found", 404, "No liveness result is waiting for this session; it was never finished or was already taken."),
        # --- consent, verification, subjects (issue 5) ---
        _e("consent_required", 403, "No valid consent covers this processing."),
        _e("consent_not_found", 404, "The consent record does not exist."),
        _e("consent_withdrawn", 403, "The consent has been withdrawn."),
        _e("consent_outdated", 403, "The privacy policy changed significantly; new consent is needed."),
        _e("policy_not_found", 404, "The privacy policy version does not exist."),
        _e("verification_not_found", 404, "The verification does not exist."),
        _e("subject_not_found", 404, "No data is held for this subject."),
        _e("subject_ref_invalid", 422, "The subject_ref is empty, too long or contains control or bidi characters."),
        _e("idempotency_conflict", 409, "The Idempotency-Key was used with a different request."),
        _e("deadline_exceeded", 504, "The verification did not finish within its deadline."),
        _e("rate_limited", 429, "Too many requests; slow down."),
        _e("unauthenticated", 401, "A valid API key is required."),
        _e("forbidden", 403, "The API key does not have the scope for this action."),
        _e("validation_failed", 422, "The request is not valid."),
        _e("policy_exists", 409, "This privacy policy version already exists."),
        _e("service_busy", 503, "The service is at capacity; retry shortly."),
        _e("queue_unavailable", 503, "The verification queue or shared state is unreachable; retry shortly."),
        _e("request_too_large", 413, "The request body is larger than the configured limit."),
        _e("malformed_body", 400, "The request body could not be parsed (broken JSON or multipart)."),
        _e("unsupported_media_type", 415, "The request body has the wrong Content-Type for this route."),
        _e("method_not_allowed", 405, "This route does not accept this HTTP method."),
        # --- admin review console (issue 6) ---
        _e("staff_unauthenticated", 401, "Sign in to the admin console first."),
        _e("staff_sign_in_failed", 401, "Wrong username or password."),
        _e("staff_account_locked", 423, "This account is locked after repeated failed sign-ins; try again later."),
        _e("staff_sign_in_throttled", 429, "Too many sign-in attempts; wait a moment and try again."),
        _e("staff_forbidden", 403, "Your role does not allow this page or action."),
        _e("csrf_failed", 403, "The form is stale or was not sent by this console; reload the page and try again."),
        _e("staff_user_exists", 409, "A staff account with this username already exists."),
        _e("staff_user_not_found", 404, "The staff account does not exist."),
        _e("decision_conflict", 409, "This verification has already been decided or is not awaiting review."),
        # --- privacy mechanisms (issue 15) ---
        _e("receipt_not_available", 409, "This receipt does not exist yet: a withdrawal receipt needs a withdrawn consent."),
        _e("residency_violation", 422, "The target is outside the hosts and networks declared inside the data's jurisdiction."),
        _e("retained_image_not_found", 404, "The retained image does not exist or has expired."),
        _e("client_not_found", 404, "The client application does not exist."),
        # --- capture flow (issue 14) ---
        _e("capture_session_not_found", 404, "This verification link is not valid. Ask the app for a new one."),
        _e("capture_session_expired", 410, "This verification link has expired. Ask the app for a new one."),
        _e("capture_session_used", 409, "This verification link has already been used. Ask the app for a new one."),
        _e("capture_step_invalid", 409, "This step cannot be done now; go back to the step the page shows."),
        _e("capture_attempts_exhausted", 429, "Too many attempts at the liveness check for this link. Ask the app for a new one."),
        _e("policy_text_mismatch", 422, "The policy text does not match the SHA-256 published for this policy version."),
        # --- operator ---
        _e("model_missing", 503, "A model file is missing; run `kyc models fetch`."),
        _e("model_altered", 503, "A model file does not match its manifest checksum; run `kyc models fetch --force`."),
        _e("model_mirror_missing", 503, "A model file is missing from the models mirror (KYC_MODELS_MIRROR); copy it there from its public address."),
        _e("not_found", 404, "Not found."),
        _e("internal_error", 500, "An internal error occurred."),
    ]
)


class KycError(Exception):
    """A failure with a stable code; ``detail`` holds extra machine-readable facts."""

    def __init__(self, code: str, message: str | None = None, **detail: object) -> None:
        info = CODES.get(code)
        if info is None:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.status = info.status
        self.message = message or info.message
        self.detail = detail
        super().__init__(f"{code}: {self.message}")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message}
        if self.detail:
            out["detail"] = self.detail
        return out


class InputError(KycError):
    pass


class NotFoundError(KycError):
    pass


class PermissionError_(KycError):
    pass


class ConflictError(KycError):
    pass


class ModelError(KycError):
    pass


_CLASS_BY_STATUS = {404: NotFoundError, 401: PermissionError_, 403: PermissionError_, 409: ConflictError, 410: ConflictError}


def error(code: str, message: str | None = None, **detail: object) -> KycError:
    """Build the right :class:`KycError` subclass for ``code``."""
    if code.startswith("model_"):
        return ModelError(code, message, **detail)
    status = CODES[code].status if code in CODES else 500
    cls = _CLASS_BY_STATUS.get(status, InputError if 400 <= status < 500 else KycError)
    return cls(code, message, **detail)
