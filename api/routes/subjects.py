"""``/v1/subjects/{ref}``: the data subject's rights (export everything, delete everything)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ServicesDep, require_scope
from api.errors import error_responses
from kyc.subjects import delete_subject, export_subject

router = APIRouter(tags=["subjects"])
AUTH = ("unauthenticated", "forbidden", "rate_limited", "validation_failed")


class DeletionOut(BaseModel):
    subject_ref: str
    deleted: bool
    retained_images: int
    verifications: int
    consents: int


@router.get(
    "/v1/subjects/{subject_ref}/export",
    responses=error_responses(*AUTH, "subject_not_found"),
    description="Everything held about the subject, decrypted, as JSON (consents, verifications with "
    "all document fields, face templates and retained images in base64).",
)
def get_export(subject_ref: str, services: ServicesDep, principal=require_scope("subjects:export")) -> dict[str, object]:
    return export_subject(services.db, services.vault, principal.client_id, subject_ref, actor=principal.actor)


@router.delete(
    "/v1/subjects/{subject_ref}",
    response_model=DeletionOut,
    responses=error_responses(*AUTH, "subject_not_found"),
    description="Deletes the subject's rows and destroys its data key (crypto-shredding).",
)
def delete(subject_ref: str, services: ServicesDep, principal=require_scope("subjects:delete")) -> DeletionOut:
    counts = delete_subject(services.db, principal.client_id, subject_ref, actor=principal.actor)
    return DeletionOut(subject_ref=subject_ref, deleted=True, **counts)
