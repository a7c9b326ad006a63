"""``/v1/consents``: consent records per subject, and their withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, field_validator

from api.deps import ServicesDep, SettingsDep, require_scope
from api.edge import public
from api.errors import error_responses
from kyc.consent import ConsentInput, consent_receipt, get_consent, receipt_public_key, record_consent, withdraw_consent
from kyc.storage import Subject
from kyc.subjects import SUBJECT_REF_MAX, SUBJECT_REF_PATTERN, normalize_subject_ref

router = APIRouter(tags=["consent"])
AUTH = ("unauthenticated", "forbidden", "rate_limited", "validation_failed")

SHA256_HEX = r"^[0-9a-fA-F]{64}$"
CLOCK_SKEW = timedelta(minutes=5)

Purpose = Literal["real_name_verification", "biometric_processing", "retain_for_review", "cross_border_transfer"]


class ConsentIn(BaseModel):
    subject_ref: str = Field(
        min_length=1,
        max_length=SUBJECT_REF_MAX,
        pattern=SUBJECT_REF_PATTERN,
        description="The client's own user id: trimmed and NFC-normalised; no control, bidi or zero-width characters",
    )
    purposes: list[Purpose] = Field(min_length=1)
    policy_version: str = Field(min_length=1, max_length=64)
    locale: str = Field(min_length=2, max_length=35, examples=["zh-CN"])
    channel: str = Field(min_length=1, max_length=50, examples=["ios_app"])
    consented_at: datetime | None = Field(
        None, description="When the subject agreed (default: now); not in the future, 5 minutes of clock skew allowed"
    )
    text_sha256: str = Field(pattern=SHA256_HEX, description="SHA-256 (hex) of the consent text shown")

    @field_validator("consented_at")
    @classmethod
    def _not_in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if aware > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("consented_at is in the future")
        return value


class ConsentOut(BaseModel):
    id: str
    subject_ref: str
    purposes: list[str]
    policy_version: str
    locale: str
    channel: str
    consented_at: datetime
    text_sha256: str
    withdrawn_at: datetime | None
    receipt_url: str = Field(description="The signed consent receipt (add ?kind=withdrawal once withdrawn)")


class WithdrawalOut(BaseModel):
    id: str
    withdrawn: bool
    verifications_cleared: int
    images_deleted: int


def _out(c, ref: str) -> ConsentOut:
    return ConsentOut(
        id=c.id,
        subject_ref=ref,
        purposes=list(c.purposes),
        policy_version=c.policy_version,
        locale=c.locale,
        channel=c.channel,
        consented_at=c.consented_at,
        text_sha256=c.text_sha256,
        withdrawn_at=c.withdrawn_at,
        receipt_url=f"/v1/consents/{c.id}/receipt",
    )


@router.post(
    "/v1/consents",
    status_code=201,
    response_model=ConsentOut,
    responses=error_responses(*AUTH, "policy_not_found", "subject_ref_invalid"),
)
def post_consent(body: ConsentIn, services: ServicesDep, principal=require_scope("consents:write")) -> ConsentOut:
    data = ConsentInput(**body.model_dump())
    c = record_consent(services.db, services.vault, principal.client_id, data, actor=principal.actor)
    return _out(c, normalize_subject_ref(body.subject_ref))


@router.get(
    "/v1/consents/{consent_id}",
    response_model=ConsentOut,
    responses=error_responses(*AUTH, "consent_not_found"),
)
def read_consent(consent_id: str, services: ServicesDep, principal=require_scope("consents:write")) -> ConsentOut:
    with services.db.session() as s:
        c = get_consent(s, principal.client_id, consent_id)
        return _out(c, s.get(Subject, c.subject_id).ref)


@router.post(
    "/v1/consents/{consent_id}/withdraw",
    response_model=WithdrawalOut,
    responses=error_responses(*AUTH, "consent_not_found"),
)
def post_withdraw(consent_id: str, services: ServicesDep, principal=require_scope("consents:write")) -> WithdrawalOut:
    counts = withdraw_consent(services.db, principal.client_id, consent_id, actor=principal.actor)
    return WithdrawalOut(id=consent_id, withdrawn=True, **counts)


@router.get(
    "/v1/consents/{consent_id}/receipt",
    responses=error_responses(*AUTH, "consent_not_found", "receipt_not_available"),
    description="The consent receipt (or, with kind=withdrawal, the withdrawal receipt), signed with the "
    "service's Ed25519 key over its canonical JSON; format in kyc/consent/receipts.py and docs/privacy.md. "
    "Check it offline with `kyc consents verify-receipt FILE --public-key PEM`.",
)
def get_receipt(
    consent_id: str,
    services: ServicesDep,
    settings: SettingsDep,
    kind: Literal["consent", "withdrawal"] = Query("consent"),
    principal=require_scope("consents:write"),
) -> dict[str, object]:
    return consent_receipt(services.db, services.vault, settings, principal.client_id, consent_id, kind)


@router.get(
    "/v1/receipts/public-key",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}, "description": "PEM public key"}},
    description="Public (no key needed): the PEM Ed25519 public key that verifies consent receipts and the "
    "service's signed statements.",
)
@public
def get_public_key(services: ServicesDep) -> PlainTextResponse:
    return PlainTextResponse(receipt_public_key(services.db, services.vault), media_type="application/x-pem-file")
