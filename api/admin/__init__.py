"""The admin review console at ``/admin``: server-rendered pages in the service's app.

``install(app)`` adds the pages and static files and starts the console's parts (the
webhook dispatcher) inside the app's lifespan, after the service's own.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.admin.console import HERE, Console
from api.admin.pages import router
from api.edge import mark_staff

__all__ = ["install", "router"]


def install(app: FastAPI) -> None:
    mark_staff(router)  # staff-session routes; the sign-in page is marked public in pages.py
    app.include_router(router)  # sign-in and review forms: the app's 1 MiB body cap (api/uploads.py)
    app.mount("/admin/static", StaticFiles(directory=str(HERE / "static")), name="admin-static")
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI):
        async with inner(a) as state:
            services = a.state.services
            console = await asyncio.to_thread(Console.start, a.state.settings, services.db, services.vault)
            a.state.admin_console = console
            try:
                yield state
            finally:
                await asyncio.to_thread(console.stop)

    app.router.lifespan_context = lifespan
