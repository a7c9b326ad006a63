"""The application factory: ``uvicorn api.main:create_app --factory``."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api.admin import install as install_admin_console
from api.edge import edge_policy
from api.errors import install_error_handlers
from api.routes import clients, consents, documents, faces, health, liveness, policies, subjects, verifications
from api.openapi import install_openapi
from api.services import service_lifespan
from api.uploads import BodyLimitMiddleware
from kyc import __version__
from kyc.config import Settings, get_settings


JSON_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with service_lifespan(app, settings):  # database, vault, worker pool, purge task
            yield

    # The edge policy runs in front of every route: authenticated unless marked public (api/edge.py).
    # Bodies: 1 MiB for JSON routes and forms; upload routes check their own limits (api/uploads.py).
    # Swagger UI and ReDoc load their assets from a CDN: only in development. /openapi.json
    # (public, for generating SDKs) is always served.
    dev = settings.environment == "development"
    app = FastAPI(
        title="kyc",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(edge_policy)],
        generate_unique_id_function=lambda route: route.name,  # operation ids: the endpoint's name, stable
        docs_url="/docs" if dev else None,
        redoc_url="/redoc" if dev else None,
    )
    app.add_middleware(BodyLimitMiddleware, limit=JSON_BODY_BYTES)
    app.state.settings = settings
    install_error_handlers(app)
    for module in (health, documents, faces, liveness, policies, consents, verifications, subjects, clients):
        app.include_router(module.router)
    install_admin_console(app)  # admin review console (issue 6)
    install_openapi(app)  # the edge's shared error statuses on every operation
    return app
