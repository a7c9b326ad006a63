"""``/v1/policies``: versioned privacy policies (published by admin keys)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep, require_scope
from api.errors import error_responses
from kyc.consent import list_policies, publish_policy

router = APIRouter(tags=["consent"])
AUTH = ("unauthenticated", "forbidden", "rate_limited", "validation_failed")


class PolicyIn(BaseModel):
    version: str = Field(min_length=1, max_length=64)
    text_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 (hex) of the policy text")
    significant: bool = Field(False, description="True when subjects must consent again")


class PolicyOut(BaseModel):
    version: str
    text_sha256: str
    significant: bool
    published_at: datetime


@router.get("/v1/policies", response_model=list[PolicyOut], responses=error_responses(*AUTH))
def get_policies(_: PrincipalDep, services: ServicesDep) -> list[PolicyOut]:
    return [PolicyOut.model_validate(p, from_attributes=True) for p in list_policies(services.db)]


@router.post(
    "/v1/policies",
    status_code=201,
    response_model=PolicyOut,
    responses=error_responses(*AUTH, "policy_exists"),
)
def post_policy(body: PolicyIn, services: ServicesDep, principal=require_scope("admin")) -> PolicyOut:
    p = publish_policy(services.db, body.version, body.text_sha256, body.significant, actor=principal.actor)
    return PolicyOut.model_validate(p, from_attributes=True)
