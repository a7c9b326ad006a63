"""``POST /v1/documents/read``: read ID documents from one uploaded photo; nothing is stored."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, File, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import SettingsDep
from api.errors import UPLOAD_ERRORS, error_responses
from api.uploads import read_upload
from kyc.ocr import read_document

router = APIRouter(tags=["documents"])


class CheckOut(BaseModel):
    ok: bool
    code: str | None
    message: str


class DocumentOut(BaseModel):
    type: str
    fields: dict[str, str | None]
    checks: dict[str, CheckOut]
    confidence: dict[str, float]
    valid: bool
    corners: list[list[float]] | None = None
    mrz_lines: list[str] | None = None


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]
    errors: list[dict]
    engine: str


@router.post(
    "/v1/documents/read",
    response_model=DocumentsOut,
    responses=error_responses(
        *UPLOAD_ERRORS, "document_not_found", "document_cut_off",
        "document_unreadable", "model_missing", "model_altered",
    ),
)
async def read_documents(settings: SettingsDep, file: UploadFile = File(...), today: dt.date | None = None) -> dict:
    """Find and read each ID card side or MRZ document in the photo. The photo is not kept."""
    data = await read_upload(file, settings.max_upload_bytes)
    reading = await run_in_threadpool(read_document, data, today=today, settings=settings)
    return reading.to_dict()
