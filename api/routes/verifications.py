"""``/v1/verifications``: run a verification (multipart upload) and read it back."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import ServicesDep, require_scope
from api.errors import UPLOAD_ERRORS, error_responses
from api.uploads import FileRule, UploadForm, UploadLimits, multipart_body, read_upload_form, takes_uploads
from kyc.config import Settings
from kyc.errors import error
from kyc.verification import VerificationInput

router = APIRouter(tags=["verifications"])
AUTH = ("unauthenticated", "forbidden", "rate_limited", "validation_failed")

REQUEST_ERRORS = UPLOAD_ERRORS
PIPELINE_ERRORS = (
    "document_not_found",
    "document_cut_off",
    "document_unreadable",
    "face_not_found",
    "face_multiple",
    "face_too_small",
    "face_quality_low",
    "liveness_session_not_found",
    "liveness_session_expired",
    "liveness_session_used",
    "liveness_result_not_found",
    "model_missing",
    "model_altered",
)
CONSENT_ERRORS = ("consent_required", "consent_not_found", "consent_withdrawn", "consent_outdated")


class DocumentOut(BaseModel):
    type: str | None
    fields: dict[str, str | None] | None


class ReviewOut(BaseModel):
    by: str | None
    at: str
    note: str | None


class VerificationOut(BaseModel):
    id: str
    status: Literal["approved", "rejected", "review"]
    reasons: list[str]
    scores: dict[str, object]
    models: dict[str, str]
    document: DocumentOut
    subject_ref: str
    consent_id: str
    created_at: str
    completed_at: str
    duration_ms: float
    review: ReviewOut | None = None


class JobErrorOut(BaseModel):
    code: str
    message: str
    detail: dict[str, object] | None = None


class JobOut(BaseModel):
    """A verification that is still running (``processing``) or failed without a result."""

    id: str
    status: Literal["processing", "failed"]
    url: str
    error: JobErrorOut | None = None


def wants_async(prefer: str | None) -> bool:
    """RFC 7240 ``Prefer: respond-async`` (among other preferences, any case)."""
    if not prefer:
        return False
    return any(p.split(";")[0].strip().lower() == "respond-async" for p in prefer.split(","))


_FORM_SCHEMA = multipart_body(
    "VerificationForm",
    ["consent_id", "id_front"],
    {
        "consent_id": {"type": "string", "description": "A consent covering real_name_verification and biometric_processing"},
        "id_front": {"type": "string", "format": "binary", "description": "ID card front or passport data page"},
        "id_back": {"type": "string", "format": "binary", "description": "ID card back (Chinese ID cards)"},
        "selfie": {"type": "string", "format": "binary", "description": "Selfie (passive liveness); or give liveness_session_id"},
        "liveness_session_id": {"type": "string", "description": "A finished active-liveness session (its best frame is the selfie)"},
    },
)


def upload_limits(settings: Settings) -> UploadLimits:
    rule = FileRule(settings.max_upload_bytes, 1, settings.max_image_pixels)
    return UploadLimits({"id_front": rule, "id_back": rule, "selfie": rule})


def _inputs(form: UploadForm) -> tuple[VerificationInput, str]:
    consent_id = form.field("consent_id")
    if consent_id is None:
        raise error("validation_failed", "consent_id is required", part="consent_id")
    session_id = form.field("liveness_session_id")
    selfie = form.file("selfie", required=False)
    if selfie is not None and session_id is not None:
        raise error("validation_failed", "Give either a selfie or a liveness_session_id, not both.")
    if selfie is None and session_id is None:
        raise error("upload_missing", "A selfie or a liveness_session_id is required.", part="selfie")
    inp = VerificationInput(
        id_front=form.file("id_front", required=True),
        id_back=form.file("id_back", required=False),
        selfie=selfie,
        liveness_session_id=session_id,
    )
    return inp, consent_id


@router.post(
    "/v1/verifications",
    response_model=VerificationOut,
    status_code=201,
    openapi_extra=_FORM_SCHEMA,
    responses={
        200: {"description": "A replay of an earlier request with the same Idempotency-Key", "model": VerificationOut},
        202: {
            "description": "With `Prefer: respond-async`: accepted; poll the `Location` (or wait for the "
            "`verification.completed` webhook)",
            "model": JobOut,
        },
        **error_responses(
            *AUTH,
            *REQUEST_ERRORS,
            *PIPELINE_ERRORS,
            *CONSENT_ERRORS,
            "idempotency_conflict",
            "deadline_exceeded",
            "service_busy",
            "queue_unavailable",
        ),
    },
)
@takes_uploads
async def post_verification(
    request: Request,
    response: Response,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    prefer: Annotated[str | None, Header(description="`respond-async` answers 202 at once (RFC 7240)")] = None,
    principal=require_scope("verifications:write"),
):
    form = await read_upload_form(request, upload_limits(request.app.state.settings))
    inp, consent_id = _inputs(form)
    if inp.liveness_session_id is not None:  # only the client that created the session may use it
        from api.routes.liveness import session_owners

        session_owners(request).check(principal.client_id, inp.liveness_session_id)
    respond_async = wants_async(prefer)
    view, replayed = await services.verifications.submit(
        client_id=principal.client_id,
        actor=principal.actor,
        consent_id=consent_id,
        inp=inp,
        idempotency_key=idempotency_key,
        respond_async=respond_async,
    )
    if view.get("status") == "processing":
        headers = {"Location": str(view["url"]), "Preference-Applied": "respond-async"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(JobOut(**view).model_dump(exclude_none=True), status_code=202, headers=headers)
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return view


@router.get(
    "/v1/verifications/{verification_id}",
    response_model=VerificationOut | JobOut,
    responses=error_responses(*AUTH, "verification_not_found"),
)
def get_verification(verification_id: str, services: ServicesDep, principal=require_scope("verifications:read")) -> dict:
    """The stored verification; while an asynchronous one runs, ``processing``; if it failed, ``failed`` and the error."""
    return services.verifications.job_view(principal.client_id, verification_id)
