"""The application factory: ``uvicorn api.main:create_app --factory``."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.admin import install as install_admin_console
from api.errors import install_error_handlers
from api.routes import capture, clients, consents, documents, faces, health, liveness, policies, subjects, verifications
from api.routes.capture_page import install as install_capture_page
from api.services import service_lifespan
from kyc import __version__
from kyc.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with service_lifespan(app, settings):  # database, vault, worker pool, purge task
            yield

    app = FastAPI(title="kyc", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)
    for module in (health, documents, faces, liveness, policies, consents, verifications, subjects, clients):
        app.include_router(module.router)
    app.include_router(capture.router)  # capture flow API (issue 14): its own token dependency
    install_capture_page(app)  # the hosted capture page /capture/{token} (issue 14)
    install_admin_console(app)  # admin review console (issue 6)
    return app
