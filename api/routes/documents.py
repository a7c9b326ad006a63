"""``POST /v1/documents/read``: read ID documents from one uploaded photo; nothing is stored."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import ServicesDep, SettingsDep, audit_call, require_scope
from api.errors import UPLOAD_ERRORS, error_responses
from api.uploads import read_upload
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
    mrz_lines: list[str] | None = None


class DocumentsOut(BaseModel):
    documents: list[DocumentReadOut]
    errors: list[dict]
    engine: str
    fields_masked: bool = Field(description="True unless the API key holds the `documents:read_plain` scope")


PLAIN_SCOPE = "documents:read_plain"
AUTH = ("unauthenticated", "forbidden", "rate_limited")


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
    responses=error_responses(
        *AUTH,
        *UPLOAD_ERRORS, "document_not_found", "document_cut_off",
        "document_unreadable", "model_missing", "model_altered",
    ),
)
async def read_documents(
    settings: SettingsDep,
    services: ServicesDep,
    file: UploadFile = File(...),
    today: dt.date | None = None,
    principal=require_scope("documents:read"),
) -> dict:
    """Find and read each ID card side or MRZ document in the photo. The photo is not kept.

    Fields come back masked unless the key holds `documents:read_plain`.
    """
    data = await read_upload(file, settings.max_upload_bytes)
    reading = (await run_in_threadpool(read_document, data, today=today, settings=settings)).to_dict()
    plain = PLAIN_SCOPE in principal.scopes
    await run_in_threadpool(audit_call, services, principal, "documents.read", documents=len(reading["documents"]), plain=plain)
    return {**(reading if plain else masked(reading)), "fields_masked": not plain}
