"""The hosted capture page, ``/capture/{token}``, and its static files.

The page is one static HTML file and plain JavaScript served by this app (no CDN, no
build step). What changes per session is only the headers: ``frame-ancestors`` and
the camera permission list the client's configured origins (none: the page cannot
be framed). Every response of the flow is ``no-store``, sends no referrer (the token
is in the page's URL) and is never sniffed.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from api.edge import public
from kyc.capture import frame_origins
from kyc.capture.sessions import TOKEN_PREFIX, token_hash

__all__ = ["install", "router", "STATIC", "page_headers"]

STATIC = Path(__file__).resolve().parent.parent / "capture_static"
router = APIRouter(include_in_schema=False)


def page_headers(origins: list[str]) -> dict[str, str]:
    """The page's security headers for a client whose page may be framed by ``origins``."""
    ancestors = " ".join(origins) if origins else "'none'"
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob: data:",
            "media-src 'self' blob: mediastream:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )
    camera = " ".join(["self", *(f'"{o}"' for o in origins)])
    return {
        "Content-Security-Policy": csp,
        "Permissions-Policy": f"camera=({camera}), microphone=(), geolocation=()",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def _client_of(request: Request, token: str) -> str | None:
    from sqlalchemy import select

    from kyc.storage.capture_models import CaptureSession

    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    with request.app.state.services.db.session() as s:
        return s.scalar(select(CaptureSession.client_id).where(CaptureSession.token_sha256 == token_hash(token)))


@router.get("/capture/{token}")
@public  # the page itself; its API calls carry the token
def capture_page(token: str, request: Request) -> Response:
    """The page; whether the token is valid the page learns from the API, in the person's language."""
    client_id = _client_of(request, token)
    origins = frame_origins(request.app.state.services.db, client_id) if client_id else []
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=page_headers(origins))


def install(app: FastAPI) -> None:
    """The page, its static files, and ``no-store`` on every response of the flow."""
    app.include_router(router)
    app.mount("/capture/static", StaticFiles(directory=str(STATIC)), name="capture-static")

    @app.middleware("http")
    async def _no_store(request: Request, call_next):
        response = await call_next(request)
        path = request.url.path
        if path.startswith("/v1/capture") or path.startswith("/capture/"):
            response.headers["Cache-Control"] = "no-store"
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
