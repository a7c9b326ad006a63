"""The capture flow's API: the client's backend makes a session with its API key; the
hosted page does everything else with the session's token alone.

The token travels in the ``X-Capture-Token`` header (never in these URLs, so access
logs do not collect it) and is checked by :func:`capture_session`, this router's own
dependency: no API key is ever accepted on the token routes, and no token on the
backend's route. Each token has its own rate limit. Business rules are in
``kyc.capture``; this module only moves bytes and maps results.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.security import APIKeyHeader
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import ServicesDep, SettingsDep, require_scope
from api.errors import UPLOAD_ERRORS, error_responses
from api.uploads import FileRule, UploadLimits, multipart_body, read_upload_form, takes_uploads
from api.edge import public
from api.routes.liveness import session_store
from kyc.access import RateLimiter
from kyc.capture import (
    CaptureView,
    check_card,
    check_liveness_session,
    create_capture_session,
    finish_capture_session,
    image_hints,
    liveness_outcome,
    open_capture_session,
    record_capture_consent,
    start_liveness,
)
from kyc.capture.sessions import idempotency_key_of, stored_capture_verification
from kyc.capture.sessions import token_hash
from kyc.errors import KycError, error
from kyc.verification import VerificationInput

router = APIRouter(tags=["capture"])
TOKEN_HEADER = "X-Capture-Token"
TOKEN_ERRORS = ("capture_session_not_found", "capture_session_expired", "capture_session_used", "rate_limited")
Purpose = Literal["real_name_verification", "biometric_processing", "retain_for_review"]
RESULTS = {"approved": "done", "review": "review", "rejected": "retry"}


# --- the token dependency ---
def _limiter(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "capture_limiter", None)
    if limiter is None:
        limiter = RateLimiter(request.app.state.settings.capture_rate_limit_per_minute)
        request.app.state.capture_limiter = limiter
    return limiter


_token_header = APIKeyHeader(
    name=TOKEN_HEADER, scheme_name="CaptureToken", auto_error=False,
    description="The capture session's token (from POST /v1/capture-sessions); the hosted page's only credential",
)


def capture_session(
    request: Request, services: ServicesDep, token: Annotated[str | None, Depends(_token_header)] = None
) -> CaptureView:
    """The capture session named by the ``X-Capture-Token`` header, rate-limited per token."""
    if not token:
        raise error("capture_session_not_found", "The capture token is missing.")
    _limiter(request).hit("capture:" + token_hash(token)[:32])
    return open_capture_session(services.db, token)


CaptureDep = Annotated[CaptureView, Depends(capture_session)]


def _image_rule(settings) -> FileRule:
    return FileRule(settings.max_upload_bytes, 1, settings.max_image_pixels)


# --- the client's backend ---
class CaptureSessionIn(BaseModel):
    subject_ref: str = Field(min_length=1, max_length=200, description="The client's own opaque user id")
    purposes: list[Purpose] = Field(min_length=2, description="Purposes offered; the two a verification needs are required")
    policy_version: str = Field(min_length=1, max_length=64)
    policy_text: str = Field(min_length=1, max_length=200_000, description="The policy text shown; its SHA-256 must be the published one")


class CaptureSessionOut(BaseModel):
    id: str
    token: str = Field(description="Shown once; authorises the page and nothing else")
    url: str = Field(description="The hosted page for this session (single use)")
    expires_at: str


@router.post(
    "/v1/capture-sessions",
    status_code=201,
    response_model=CaptureSessionOut,
    responses=error_responses("unauthenticated", "forbidden", "rate_limited", "validation_failed", "policy_not_found", "policy_text_mismatch"),
)
def post_capture_session(
    body: CaptureSessionIn,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    principal=require_scope("verifications:write"),
) -> CaptureSessionOut:
    """A single-use, short-lived link to the hosted capture page for one person.

    Needs both ``verifications:write`` and ``consents:write``: the page records the
    consent and runs the verification on the client's behalf. The result comes back
    through ``GET /v1/verifications/{id}`` and the ``verification.completed`` webhook.
    """
    principal.require("consents:write")
    new = create_capture_session(
        services.db, settings, principal.client_id, subject_ref=body.subject_ref, purposes=list(body.purposes),
        policy_version=body.policy_version, policy_text=body.policy_text, actor=principal.actor,
    )
    base = (settings.capture_public_url or str(request.base_url)).rstrip("/")
    return CaptureSessionOut(id=new.id, token=new.token, url=f"{base}/capture/{new.token}", expires_at=new.expires_at.isoformat())


# --- the page ---
class PageSessionOut(BaseModel):
    state: str
    purposes: list[str]
    required_purposes: list[str]
    policy_version: str
    policy_text: str
    expires_at: str
    liveness_attempts_left: int
    frame_origins: list[str]


@router.get("/v1/capture/session", response_model=PageSessionOut, responses=error_responses(*TOKEN_ERRORS))
@public  # the capture token, checked by capture_session, is its only credential
def get_page_session(view: CaptureDep, settings: SettingsDep) -> PageSessionOut:
    """What the page shows: the policy and the purposes; never the subject_ref."""
    return PageSessionOut(
        state=view.state, purposes=view.purposes, required_purposes=view.required_purposes,
        policy_version=view.policy_version, policy_text=view.policy_text, expires_at=view.expires_at.isoformat(),
        liveness_attempts_left=max(0, settings.capture_liveness_attempts - view.liveness_attempts),
        frame_origins=view.frame_origins,
    )


class PageConsentIn(BaseModel):
    purposes: list[Purpose] = Field(min_length=1)
    locale: Literal["zh-CN", "en"]
    text_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the policy text as the page showed it")


class PageConsentOut(BaseModel):
    recorded: bool


@router.post(
    "/v1/capture/consent",
    response_model=PageConsentOut,
    responses=error_responses(*TOKEN_ERRORS, "capture_step_invalid", "consent_required", "policy_text_mismatch", "validation_failed"),
)
@public  # the capture token, checked by capture_session, is its only credential
def post_page_consent(body: PageConsentIn, view: CaptureDep, services: ServicesDep) -> PageConsentOut:
    record_capture_consent(services.db, services.vault, view, purposes=list(body.purposes), locale=body.locale, text_sha256=body.text_sha256)
    return PageConsentOut(recorded=True)


class CardCheckOut(BaseModel):
    ok: bool
    side: Literal["front", "back"]
    type: str | None
    reason: str | None = Field(description="Why to retake: document_not_found, document_cut_off, document_unreadable, wrong_side, glare, blurred")
    needs_back: bool


def _read_card(data: bytes, side: str, settings) -> CardCheckOut:
    from kyc.images import decode_image
    from kyc.ocr import read_image

    from kyc.ocr.reading import DocumentReading

    image = decode_image(data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels, min_side=settings.min_image_side)
    try:
        reading = read_image(image, settings=settings)
    except KycError as exc:  # nothing readable is an answer here, not an error: it becomes the retake reason
        if not exc.code.startswith("document_"):
            raise
        reading = DocumentReading([], [{"code": exc.code}])
    check = check_card(reading, side, image_hints(image) if not reading.documents else [])
    return CardCheckOut(ok=check.ok, side=check.side, type=check.type, reason=check.reason, needs_back=check.needs_back)


@router.post(
    "/v1/capture/documents/{side}",
    response_model=CardCheckOut,
    openapi_extra=multipart_body("CaptureDocumentForm", ["file"], {"file": {"type": "string", "format": "binary", "description": "The photo of that side"}}),
    responses=error_responses(*TOKEN_ERRORS, *UPLOAD_ERRORS, "capture_step_invalid", "model_missing", "model_altered"),
)
@public  # the capture token, checked by capture_session, is its only credential
@takes_uploads
async def post_page_document(side: Literal["front", "back"], request: Request, view: CaptureDep, settings: SettingsDep) -> CardCheckOut:
    """Read the photo at once and say whether to retake it; nothing is stored (nor spooled to disk)."""
    if view.state != "consented":
        raise error("capture_step_invalid")
    form = await read_upload_form(request, UploadLimits({"file": _image_rule(settings)}))
    data = form.file("file", required=True)
    return await run_in_threadpool(_read_card, data, side, settings)


class ChallengeOut(BaseModel):
    id: str
    nonce: str
    actions: list[str]
    expires_at: str


@router.post(
    "/v1/capture/liveness",
    status_code=201,
    response_model=ChallengeOut,
    responses=error_responses(*TOKEN_ERRORS, "capture_step_invalid", "capture_attempts_exhausted"),
)
@public  # the capture token, checked by capture_session, is its only credential
def post_page_liveness(request: Request, view: CaptureDep, services: ServicesDep, settings: SettingsDep) -> ChallengeOut:
    """A new active-liveness challenge for this session (counted against its attempts)."""
    if view.state != "consented":
        raise error("capture_step_invalid")
    if view.liveness_attempts >= settings.capture_liveness_attempts:
        raise error("capture_attempts_exhausted", attempts=view.liveness_attempts)
    session = session_store(request).create_session()
    start_liveness(services.db, settings, view, session.id)
    return ChallengeOut(id=session.id, nonce=session.nonce, actions=list(session.actions), expires_at=session.expires_at.isoformat())


class AttemptOut(BaseModel):
    retake: bool = Field(description="True: show the retake message and start a new challenge")
    reason: str | None
    attempts_left: int


@router.post(
    "/v1/capture/liveness/{liveness_session_id}/frames",
    response_model=AttemptOut,
    openapi_extra=multipart_body(
        "CaptureFramesForm",
        ["frames", "timestamps", "nonce"],
        {
            "frames": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "JPEG frames in capture order"},
            "timestamps": {"type": "string", "description": "capture time of each frame, comma-separated seconds"},
            "nonce": {"type": "string", "description": "the challenge's nonce"},
            "mirrored": {"type": "string", "enum": ["true", "false"], "description": "true if the frames are mirrored like a selfie preview"},
        },
    ),
    responses=error_responses(
        *TOKEN_ERRORS, *UPLOAD_ERRORS, "capture_step_invalid", "liveness_session_not_found", "liveness_session_expired",
        "liveness_session_used", "frames_too_few", "video_too_long", "validation_failed",
    ),
)
@public  # the capture token, checked by capture_session, is its only credential
@takes_uploads
async def post_page_frames(liveness_session_id: str, request: Request, view: CaptureDep, settings: SettingsDep) -> AttemptOut:
    """The challenge's frames, judged by the liveness engine; the page learns only retake or go on."""
    from kyc.liveness import decode_frames, parse_timestamps, submit_session

    check_liveness_session(view, liveness_session_id)
    store = session_store(request)
    store.get(liveness_session_id)
    limits = UploadLimits(
        {
            "frames": FileRule(
                min(settings.max_upload_bytes, settings.liveness_max_frames_bytes), settings.liveness_max_frames,
                settings.liveness_max_frame_pixels, too_many_code="video_too_long",
            )
        },
        cap_bytes=settings.liveness_max_frames_bytes + 64 * 1024,
    )
    form = await read_upload_form(request, limits)
    timestamps, nonce, mirrored = form.field("timestamps"), form.field("nonce"), form.field("mirrored") or "false"
    if timestamps is None or nonce is None or mirrored not in ("true", "false"):
        raise error("validation_failed", "timestamps and nonce are required; mirrored is true or false.")
    blobs = form.files.get("frames") or []
    if not blobs:
        raise error("upload_missing", part="frames")
    decoded = await run_in_threadpool(decode_frames, blobs, parse_timestamps(timestamps))
    result = await run_in_threadpool(
        submit_session, store, liveness_session_id, decoded, nonce=nonce, mirrored=mirrored == "true", settings=settings
    )
    left = max(0, settings.capture_liveness_attempts - view.liveness_attempts)
    outcome = liveness_outcome(list(result.reasons), left)
    return AttemptOut(retake=outcome.retake, reason=outcome.reason, attempts_left=left)


class CompleteOut(BaseModel):
    result: Literal["done", "review", "retry"] = Field(description="What the person is told; never a score")
    verification_id: str


@router.post(
    "/v1/capture/complete",
    response_model=CompleteOut,
    openapi_extra=multipart_body(
        "CaptureCompleteForm",
        ["liveness_session_id", "id_front"],
        {
            "liveness_session_id": {"type": "string", "description": "The finished challenge of this session"},
            "id_front": {"type": "string", "format": "binary"},
            "id_back": {"type": "string", "format": "binary"},
        },
    ),
    responses=error_responses(
        *TOKEN_ERRORS, *UPLOAD_ERRORS, "capture_step_invalid", "request_too_large", "document_not_found", "document_cut_off",
        "document_unreadable", "face_not_found", "face_multiple", "face_too_small", "face_quality_low",
        "liveness_session_not_found", "liveness_result_not_found", "consent_required", "consent_withdrawn", "consent_outdated",
        "deadline_exceeded", "service_busy", "model_missing", "model_altered",
    ),
)
@public  # the capture token, checked by capture_session, is its only credential
@takes_uploads
async def post_page_complete(request: Request, view: CaptureDep, services: ServicesDep, settings: SettingsDep) -> CompleteOut:
    """Run the verification on the ID photos and the finished challenge; close the session."""
    if view.state != "consented" or view.consent_id is None or view.liveness_session_id is None:
        raise error("capture_step_invalid")
    stored = await run_in_threadpool(stored_capture_verification, services.db, view)
    if stored is not None:  # stored before a crash: close the session with it
        return await _finish(request, services, view, *stored)
    rule = _image_rule(settings)
    form = await read_upload_form(request, UploadLimits({"id_front": rule, "id_back": rule}))
    sid = form.field("liveness_session_id")
    if sid is None:
        raise error("validation_failed", "liveness_session_id is required", part="liveness_session_id")
    check_liveness_session(view, sid)
    inp = VerificationInput(id_front=form.file("id_front", required=True), id_back=form.file("id_back", required=False), liveness_session_id=sid)
    verification, _ = await services.verifications.submit(
        client_id=view.client_id, actor=view.actor, consent_id=view.consent_id, inp=inp, idempotency_key=idempotency_key_of(view)
    )
    return await _finish(request, services, view, verification["id"], verification["status"], verification["reasons"])


async def _finish(request: Request, services, view: CaptureView, vid: str, status: str, reasons: list[str]) -> CompleteOut:
    try:
        await run_in_threadpool(finish_capture_session, services.db, view, vid, status, reasons)
    except KycError as exc:  # a racing tab closed it first: the verification stands, its webhook is queued once
        if exc.code != "capture_step_invalid":
            raise
    console = getattr(request.app.state, "admin_console", None)
    if console is not None:
        console.dispatcher.wake()
    return CompleteOut(result=RESULTS[status], verification_id=vid)
