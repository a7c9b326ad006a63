"""``/v1/subjects``: the data subject's rights (export everything, delete everything).

The ref goes in the query (``?subject_ref=``, any valid ref as is) or in the path, where
``{subject_ref:path}`` takes refs with ``/`` too (URL-encoded or not). Both forms apply
the one normalisation rule of ``kyc.subjects.refs``.
"""

from __future__ import annotations

from typing import Annotated

from urllib.parse import unquote

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict

from api.deps import ServicesDep, require_scope
from api.errors import error_responses
from kyc.subjects import SUBJECT_REF_MAX, delete_subject, export_subject, normalize_subject_ref

router = APIRouter(tags=["subjects"])
AUTH = ("unauthenticated", "forbidden", "rate_limited", "validation_failed")
ERRORS = error_responses(*AUTH, "subject_not_found", "subject_ref_invalid")
EXPORT_DOC = (
    "Everything held about the subject, decrypted, as JSON (consents, verifications with "
    "all document fields, face templates and retained images in base64)."
)
DELETE_DOC = "Deletes the subject's rows and destroys its data key (crypto-shredding)."

RefQuery = Annotated[str, Query(min_length=1, max_length=4 * SUBJECT_REF_MAX, description="The client's user id, as given in the consent")]
RefPath = Annotated[str, Path(min_length=1, max_length=4 * SUBJECT_REF_MAX, description="The client's user id (may contain `/`)")]


class SubjectExportOut(BaseModel):
    """Everything held about the subject (consents, verifications, templates, retained images)."""

    model_config = ConfigDict(extra="allow")
    subject_ref: str


class DeletionOut(BaseModel):
    subject_ref: str
    deleted: bool
    retained_images: int
    verifications: int
    consents: int


def _ref_from_raw_path(request: Request, param: str, suffix: str = "") -> str:
    """The ref decoded once from the raw path: starlette decodes path parameters a second
    time, which would turn a ref's own ``%2F`` into ``/``."""
    raw = request.scope.get("raw_path")
    prefix = b"/v1/subjects/"
    if not raw or not raw.startswith(prefix) or not raw.endswith(suffix.encode()):
        return param
    body = raw[len(prefix) : len(raw) - len(suffix)] if suffix else raw[len(prefix) :]
    return unquote(body.decode("latin-1"), encoding="utf-8", errors="replace") if body else param


def _export(ref: str, services, principal) -> dict[str, object]:
    return export_subject(services.db, services.vault, principal.client_id, ref, actor=principal.actor)


def _delete(ref: str, services, principal) -> DeletionOut:
    counts = delete_subject(services.db, principal.client_id, ref, actor=principal.actor)
    return DeletionOut(subject_ref=normalize_subject_ref(ref), deleted=True, **counts)


@router.get("/v1/subjects/export", response_model=SubjectExportOut, responses=ERRORS, description=EXPORT_DOC)
def get_export_by_query(
    subject_ref: RefQuery, services: ServicesDep, principal=require_scope("subjects:export")
) -> dict[str, object]:
    return _export(subject_ref, services, principal)


@router.delete("/v1/subjects", response_model=DeletionOut, responses=ERRORS, description=DELETE_DOC)
def delete_by_query(subject_ref: RefQuery, services: ServicesDep, principal=require_scope("subjects:delete")) -> DeletionOut:
    return _delete(subject_ref, services, principal)


@router.get("/v1/subjects/{subject_ref:path}/export", response_model=SubjectExportOut, responses=ERRORS, description=EXPORT_DOC)
def get_export_by_path(
    request: Request, subject_ref: RefPath, services: ServicesDep, principal=require_scope("subjects:export")
) -> dict[str, object]:
    return _export(_ref_from_raw_path(request, subject_ref, "/export"), services, principal)


@router.delete("/v1/subjects/{subject_ref:path}", response_model=DeletionOut, responses=ERRORS, description=DELETE_DOC)
def delete_by_path(
    request: Request, subject_ref: RefPath, services: ServicesDep, principal=require_scope("subjects:delete")
) -> DeletionOut:
    return _delete(_ref_from_raw_path(request, subject_ref), services, principal)
