"""``POST /v1/faces/compare``: 1:1 comparison of the faces in two uploads. Stores nothing."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import SettingsDep
from api.errors import UPLOAD_ERRORS, error_responses
from api.uploads import read_upload
from kyc.images import decode_image

router = APIRouter(prefix="/v1/faces", tags=["faces"])


class FaceComparison(BaseModel):
    similarity: float
    match: bool
    threshold: float
    model: str
    operating_point: str
    stage: str | None = Field(None, description="The matcher that decided: the model, or for the cascade its first model or the fusion.")


@router.post(
    "/compare",
    response_model=FaceComparison,
    responses=error_responses(
        *UPLOAD_ERRORS,
        "face_not_found",
        "face_multiple",
        "face_too_small",
        "face_quality_low",
        "validation_failed",
        "model_missing",
    ),
)
async def compare_faces(
    settings: SettingsDep,
    image_a: UploadFile = File(..., description="First image, e.g. the ID portrait."),
    image_b: UploadFile = File(..., description="Second image, e.g. the selfie."),
    role_a: Literal["selfie", "id_portrait"] = Form("selfie"),
    role_b: Literal["selfie", "id_portrait"] = Form("selfie"),
    model: Literal["dlib", "mobilefacenet", "fused", "cascade"] | None = Form(None),
    operating_point: Literal["fmr_1e-2", "fmr_1e-3", "fmr_1e-4"] = Form("fmr_1e-3"),
) -> FaceComparison:
    """Similarity in [0, 1], the decision and the threshold and model behind it."""
    from kyc.biometrics.pipeline import compare_images

    limits = dict(max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels, min_side=settings.min_image_side)
    a = decode_image(await read_upload(image_a, settings.max_upload_bytes), **limits)
    b = decode_image(await read_upload(image_b, settings.max_upload_bytes), **limits)
    result = await run_in_threadpool(
        compare_images, a, b, role_a=role_a, role_b=role_b, model=model, operating_point=operating_point, settings=settings
    )
    return FaceComparison(**result.to_dict())
