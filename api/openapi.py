"""The OpenAPI schema, completed by construction: the error statuses every route shares.

Routes list their own error codes (``api.errors.error_responses``); what the edge adds
to every route is added here, so no route can forget it: 401/403/429 for API-key
routes, 429 for public ones, and 400 ``malformed_body`` / 413 ``request_too_large`` /
415 ``unsupported_media_type`` for every route with a body.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts

from api.edge import access_of
from api.uploads import FORM_SCHEMAS
from kyc.errors import CODES

__all__ = ["install_openapi"]

_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def _add(op: dict[str, Any], code: str) -> None:
    status = str(CODES[code].status)
    responses = op.setdefault("responses", {})
    entry = responses.get(status)
    if entry is None:
        responses[status] = {
            "description": f"Error codes: `{code}`",
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
        return
    desc = entry.get("description", "")
    if f"`{code}`" not in desc:
        entry["description"] = (desc + ", " if desc.startswith("Error codes:") else "Error codes: ") + f"`{code}`"
    entry.setdefault("content", {"application/json": {"schema": _ERROR_REF}})


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(FORM_SCHEMAS)
        access = {}
        for route in iter_route_contexts(app.routes):
            for method in route.methods or ():
                access[(route.path, method.lower())] = access_of(route)
        for path, item in schema.get("paths", {}).items():
            for method, op in item.items():
                kind = access.get((path, method), "api_key")
                if kind == "api_key":
                    for code in ("unauthenticated", "forbidden", "rate_limited"):
                        _add(op, code)
                elif kind == "public":
                    _add(op, "rate_limited")
                if "requestBody" in op:
                    for code in ("malformed_body", "request_too_large", "unsupported_media_type", "validation_failed"):
                        _add(op, code)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
