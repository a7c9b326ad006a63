"""The edge policy, in one place: who may call what, and how often.

Every route is authenticated by default. ``install_edge_policy`` puts one dependency in
front of every route of the app; it reads the route's *access marker*:

- ``api_key`` (the default, no marker needed): a valid client or admin key, rate
  limited per key (``KYC_RATE_LIMIT_PER_MINUTE``); the route then names the scope it
  needs with ``require_scope``.
- ``public``: no key (``@public``: health, the admin sign-in page); limited per
  client address (``KYC_ANONYMOUS_PER_MINUTE``).
- ``staff``: the admin console's own signed-in staff session, checked by its pages'
  dependencies (``mark_staff`` is applied to the console's router as a whole).

Wrong or missing keys count against the caller's address (``KYC_AUTH_FAILURES_PER_MINUTE``);
an address over that limit is refused before its key is even looked up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

from fastapi import APIRouter, Request

from kyc.access import Principal, authenticate
from kyc.errors import KycError, error

__all__ = ["public", "mark_staff", "access_of", "edge_policy", "client_address", "Access"]

Access = Literal["api_key", "public", "staff"]
_ATTR = "__kyc_access__"
F = TypeVar("F", bound=Callable)


def public(endpoint: F) -> F:
    """Mark a route's endpoint as public (no API key). Use sparingly: health, sign-in page."""
    setattr(endpoint, _ATTR, "public")
    return endpoint


def mark_staff(router: APIRouter) -> None:
    """Every route of ``router`` not marked public is a staff-session route."""
    for route in router.routes:
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and getattr(endpoint, _ATTR, None) is None:
            setattr(endpoint, _ATTR, "staff")


def access_of(route: object) -> Access:
    endpoint = getattr(route, "endpoint", None)
    return getattr(endpoint, _ATTR, "api_key") if endpoint is not None else "api_key"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    auth = request.headers.get("authorization", "")
    scheme, _, credentials = auth.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def edge_policy(request: Request) -> Principal | None:
    """The app-wide dependency: authenticate and rate-limit by the route's access marker."""
    access = access_of(request.scope.get("route"))
    services = request.app.state.services
    address = client_address(request)
    if access == "public":
        services.anonymous_limiter.hit(address)
        return None
    if access == "staff":
        return None
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    services.auth_failure_limiter.check(address)  # refused before the key is looked up
    try:
        principal = authenticate(services.db, _presented_key(request))
    except KycError:
        try:
            services.auth_failure_limiter.hit(address)
        except KycError:
            pass  # this failure is the one that reached the limit; the next is refused early
        raise
    services.limiter.hit(principal.client_id)
    request.state.principal = principal
    return principal


def require_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # the policy did not run (a route outside the app): authenticate here
        principal = edge_policy(request)
    if principal is None:
        raise error("unauthenticated")
    return principal
