"""Dependencies as ``Annotated`` aliases, in one place."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kyc.config import Settings


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


# --- verification service (issue 5): the services, the caller and its scopes ---
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer  # noqa: E402

from api.services import Services  # noqa: E402
from kyc.access import Principal, authenticate  # noqa: E402

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key of a client application")
_bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token")


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_principal(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    services = request.app.state.services
    principal = authenticate(services.db, api_key or (bearer.credentials if bearer else None))
    services.limiter.hit(principal.client_id)
    return principal


def require_scope(scope: str):
    """A dependency giving the caller after checking ``scope`` (``admin`` for admin keys)."""

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(scope)
        return principal

    return Depends(dependency)


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
