"""``POST /v1/documents/read``: read ID documents from one uploaded photo; nothing is stored."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import ServicesDep, SettingsDep, audited, require_scope
from api.errors import UPLOAD_ERRORS, error_responses
from api.uploads import FileRule, UploadLimits, multipart_body, read_upload_form, takes_uploads
from kyc.config import Settings
from kyc.ocr import read_document
from kyc.verification.masking import mask_fields

router = APIRouter(tags=["documents"])


class CheckOut(BaseModel):
    ok: bool
    code: str | None
    message: str


class DocumentReadOut(BaseModel):
    type: str
    fields: dict[str, str | None] = Field(
        description="Masked (`name` 张*明, `id_number` 1101**********183X; only name, id_number, sex and "
        "valid_until) unless the key holds `documents:read_plain`; see `fields_masked`."
    )
    checks: dict[str, CheckOut]
    confidence: dict[str, float]
    valid: bool
    corners: list[list[float]] | None = None
    mrz_lines: list[str] | None = Field(None, description="Only with `documents:read_plain`")


class DocumentsOut(BaseModel):
    documents: list[DocumentReadOut]
    errors: list[dict]
    engine: str
    fields_masked: bool = Field(description="True unless the API key holds the `documents:read_plain` scope")


PLAIN_SCOPE = "documents:read_plain"
AUTH = ("unauthenticated", "forbidden", "rate_limited")


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits({"file": FileRule(settings.max_upload_bytes, 1, settings.max_image_pixels)})


def masked(reading: dict) -> dict:
    """The reading with each document's fields masked and its MRZ lines (plain data) dropped."""
    docs = []
    for d in reading["documents"]:
        d = {k: v for k, v in d.items() if k != "mrz_lines"}
        d["fields"] = mask_fields(d["fields"])
        docs.append(d)
    return {**reading, "documents": docs}


@router.post(
    "/v1/documents/read",
    response_model=DocumentsOut,
    openapi_extra=multipart_body("DocumentReadForm", ["file"], {"file": {"type": "string", "format": "binary", "description": "Photo of an ID card side or a passport page"}}),
    responses=error_responses(
        *AUTH,
        *UPLOAD_ERRORS,
        "document_not_found",
        "document_cut_off",
        "document_unreadable",
        "model_missing",
        "model_altered",
    ),
)
@takes_uploads
async def read_documents(
    request: Request,
    settings: SettingsDep,
    services: ServicesDep,
    today: dt.date | None = Query(None, description="The date validity is checked against (default: today)"),
    principal=require_scope("documents:read"),
) -> dict:
    """Find and read each ID card side or MRZ document in the photo. The photo is not kept.

    Fields come back masked unless the key holds `documents:read_plain`.
    """
    plain = PLAIN_SCOPE in principal.scopes
    async with audited(services, principal, "documents.read", plain=plain) as audit:
        form = await read_upload_form(request, upload_limits(settings))
        data = form.file("file", required=True)
        reading = (await services.engines.run(read_document, data, today=today, settings=settings)).to_dict()
        audit["documents"] = len(reading["documents"])
    return {**(reading if plain else masked(reading)), "fields_masked": not plain}
