"""One place that turns errors into HTTP responses.

Every error body has the same shape, ``{"error": {"code", "message", "detail"?}}``;
no traceback, image, name or ID number ever leaves in a response.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from kyc.errors import CODES, KycError

log = logging.getLogger("kyc.api")


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: dict[str, object] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# What any upload can fail with (api.uploads.read_upload_form, the engine pool and
# kyc.images.decode_image).
UPLOAD_ERRORS = (
    "request_too_large",
    "malformed_body",
    "unsupported_media_type",
    "service_busy",
    "upload_missing",
    "image_empty",
    "image_unsupported_type",
    "image_corrupt",
    "image_too_large",
    "image_too_many_pixels",
    "image_too_small",
)


def error_responses(*codes: str) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses=`` for a route: each status with the codes it may carry."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(CODES[code].status, []).append(code)
    return {
        status: {"model": ErrorResponse, "description": "Error codes: " + ", ".join(f"`{c}`" for c in sorted(cs))}
        for status, cs in sorted(by_status.items())
    }


def _body(code: str, message: str, detail: dict[str, object] | None = None) -> dict[str, object]:
    err: dict[str, object] = {"code": code, "message": message}
    if detail:
        err["detail"] = detail
    return {"error": err}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KycError)
    async def _kyc(_: Request, exc: KycError) -> JSONResponse:
        headers = None
        if "retry_after_s" in exc.detail:  # rate limits (issue 5): the standard header too
            headers = {"Retry-After": str(max(1, int(float(exc.detail["retry_after_s"]) + 0.999)))}
        return JSONResponse(_body(exc.code, exc.message, dict(exc.detail) or None), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type")} for e in exc.errors()]
        if any(f["type"] == "json_invalid" for f in fields):
            return JSONResponse(_body("malformed_body", CODES["malformed_body"].message), status_code=400)
        missing_upload = any(f["type"] == "missing" and "body" in f["loc"] for f in fields)
        code = "upload_missing" if missing_upload else "validation_failed"
        return JSONResponse(_body(code, CODES[code].message, {"fields": fields}), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "malformed_body",
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "request_too_large",
            415: "unsupported_media_type",
            429: "rate_limited",
        }.get(
            exc.status_code, "validation_failed" if exc.status_code < 500 else "internal_error"
        )
        msg = exc.detail if isinstance(exc.detail, str) else CODES[code].message
        return JSONResponse(_body(code, msg), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    from kyc.fleet.state import StateUnavailable  # issue 13: Redis down is a 503 to retry, not a 500

    @app.exception_handler(StateUnavailable)
    async def _state_down(request: Request, _: StateUnavailable) -> JSONResponse:
        retry = str(request.app.state.settings.broker_retry_after_s)
        return JSONResponse(_body("queue_unavailable", CODES["queue_unavailable"].message), status_code=503, headers={"Retry-After": retry})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error: %s", type(exc).__name__)
        return JSONResponse(_body("internal_error", CODES["internal_error"].message), status_code=500)
