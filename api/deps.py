"""Dependencies as ``Annotated`` aliases, in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from kyc.config import Settings


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


# --- verification service (issue 5): the services, the caller and its scopes ---
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer  # noqa: E402

from api.services import Services  # noqa: E402
from api.edge import edge_policy  # noqa: E402
from kyc.access import Principal  # noqa: E402
from kyc.audit import append_audit  # noqa: E402
from kyc.errors import KycError, error  # noqa: E402

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key of a client application")
_bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token")


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_principal(
    principal: Annotated[Principal | None, Depends(edge_policy)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, authenticated and rate-limited by the edge policy (``api.edge``).

    The two header dependencies only document the security schemes in the OpenAPI schema.
    """
    if principal is None:
        raise error("unauthenticated")
    return principal


def require_scope(scope: str):
    """A dependency giving the caller after checking ``scope`` (``admin`` for admin keys)."""

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(scope)
        return principal

    return Depends(dependency)


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def audit_call(services: Services, principal: Principal, action: str, **detail: object) -> None:
    """One audit entry for a call that stores nothing else (the engine routes). Sync: run it in a thread."""
    with services.db.session() as s:
        append_audit(s, actor=principal.actor, action=action, detail=detail or None)


@contextlib.asynccontextmanager
async def audited(services: Services, principal: Principal, action: str, **detail: object) -> AsyncIterator[dict]:
    """Audit the call whatever its outcome: ``outcome`` is ``ok`` or the error code; the
    caller may add facts to the yielded dict. Runs on a plain thread, not the engine pool,
    so that a full pool (``service_busy``) is audited too."""
    extra: dict[str, object] = {}
    try:
        yield extra
    except KycError as exc:
        await asyncio.to_thread(audit_call, services, principal, action, **detail, outcome=exc.code)
        raise
    await asyncio.to_thread(audit_call, services, principal, action, **detail, **extra, outcome="ok")
