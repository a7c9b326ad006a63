"""``POST /v1/faces/compare``: 1:1 comparison of the faces in two uploads. Stores nothing."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.deps import ServicesDep, SettingsDep, audited, require_scope
from api.errors import UPLOAD_ERRORS, error_responses
from api.uploads import FileRule, UploadLimits, multipart_body, read_upload_form, takes_uploads
from kyc.config import Settings
from kyc.errors import error
from kyc.images import decode_image

router = APIRouter(prefix="/v1/faces", tags=["faces"])


class FaceComparison(BaseModel):
    similarity: float
    match: bool
    threshold: float
    model: str
    operating_point: str
    stage: str | None = Field(None, description="The matcher that decided: the model, or for the cascade its first model or the fusion.")


class CompareOptions(BaseModel):
    """The plain fields of the form (the files are ``image_a`` and ``image_b``)."""

    model_config = ConfigDict(extra="ignore")

    role_a: Literal["selfie", "id_portrait"] = "selfie"
    role_b: Literal["selfie", "id_portrait"] = "selfie"
    model: Literal["dlib", "mobilefacenet", "fused", "cascade"] | None = Field(None, description="Omit for the configured default")
    operating_point: Literal["fmr_1e-2", "fmr_1e-3", "fmr_1e-4"] = "fmr_1e-3"


def upload_limits(settings: Settings) -> UploadLimits:
    rule = FileRule(settings.max_upload_bytes, 1, settings.max_image_pixels)
    return UploadLimits({"image_a": rule, "image_b": rule})


def _form_schema() -> dict:
    props = {k: v for k, v in CompareOptions.model_json_schema()["properties"].items()}
    props["model"] = {"type": "string", "enum": ["dlib", "mobilefacenet", "fused", "cascade"], "description": "Omit for the configured default"}
    props["image_a"] = {"type": "string", "format": "binary", "description": "First image, e.g. the ID portrait."}
    props["image_b"] = {"type": "string", "format": "binary", "description": "Second image, e.g. the selfie."}
    return multipart_body("FaceCompareForm", ["image_a", "image_b"], props)


def _compare(data_a: bytes, data_b: bytes, options: CompareOptions, settings: Settings):
    """Decode both images and compare them (runs in the engine pool)."""
    from kyc.biometrics.pipeline import compare_images

    limits = dict(max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels, min_side=settings.min_image_side)
    a = decode_image(data_a, **limits)
    b = decode_image(data_b, **limits)
    return compare_images(a, b, **options.model_dump(), settings=settings)


@router.post(
    "/compare",
    response_model=FaceComparison,
    openapi_extra=_form_schema(),
    responses=error_responses(
        "unauthenticated",
        "forbidden",
        "rate_limited",
        *UPLOAD_ERRORS,
        "face_not_found",
        "face_multiple",
        "face_too_small",
        "face_quality_low",
        "validation_failed",
        "model_missing",
        "service_busy",
    ),
)
@takes_uploads
async def compare_faces(
    request: Request, settings: SettingsDep, services: ServicesDep, principal=require_scope("faces:compare")
) -> FaceComparison:
    """Similarity in [0, 1], the decision and the threshold and model behind it."""
    async with audited(services, principal, "faces.compare") as audit:
        form = await read_upload_form(request, upload_limits(settings))
        try:
            options = CompareOptions.model_validate(form.fields)
        except ValidationError as exc:
            fields = [{"loc": [str(p) for p in e["loc"]], "type": e["type"]} for e in exc.errors()]
            raise error("validation_failed", fields=fields) from None
        data_a, data_b = form.file("image_a", required=True), form.file("image_b", required=True)
        result = await services.engines.run(_compare, data_a, data_b, options, settings)
        out = FaceComparison(**result.to_dict())
        audit.update(match=out.match, model=out.model)
    return out
