"""``/v1/clients``: client applications and their API keys (admin keys only)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ServicesDep, require_scope
from api.errors import error_responses
from kyc.access import DEFAULT_SCOPES, SCOPES, create_client, revoke_client

router = APIRouter(tags=["clients"])
AUTH = ("unauthenticated", "forbidden", "rate_limited", "validation_failed")


class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES), description=f"Any of {', '.join(SCOPES)}")


class ClientOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    api_key: str = Field(description="Shown once; only its hash is stored")


@router.post("/v1/clients", status_code=201, response_model=ClientOut, responses=error_responses(*AUTH))
def post_client(body: ClientIn, services: ServicesDep, principal=require_scope("admin")) -> ClientOut:
    client, key = create_client(services.db, body.name, body.scopes, actor=principal.actor)
    return ClientOut(id=client.id, name=client.name, scopes=list(client.scopes), api_key=key)


@router.delete("/v1/clients/{client_id}", status_code=204, responses=error_responses(*AUTH, "not_found"))
def delete_client(client_id: str, services: ServicesDep, principal=require_scope("admin")) -> None:
    revoke_client(services.db, client_id, actor=principal.actor)
