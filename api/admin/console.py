"""The console's long-lived parts (made in the app's lifespan) and its page plumbing:
templates, security headers, cookies, the signed-in staff member and the CSRF check."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from kyc.admin.roles import HOME, allowed, require_permission
from kyc.admin.sessions import Staff, csrf_matches, load_session
from kyc.admin.throttle import SignInThrottle
from kyc.admin.webhooks import WebhookDispatcher, ensure_webhook_key
from kyc.audit import append_audit
from kyc.config import Settings
from kyc.errors import CODES, KycError, error
from kyc.storage.db import Database
from kyc.vault import Vault

__all__ = ["Console", "ConsoleRoute", "ConsoleDep", "StaffDep", "require", "csrf_checked", "render", "SECURITY_HEADERS"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
}


def _dt(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _left(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{max(minutes, 1)} min" if seconds >= 60 else "under a minute"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


templates.env.filters["dt"] = _dt
templates.env.filters["left"] = _left
templates.env.filters["num"] = _num
templates.env.globals["allowed"] = allowed


@dataclass
class Console:
    settings: Settings
    db: Database
    vault: Vault
    dispatcher: WebhookDispatcher
    sign_in_throttle: SignInThrottle

    @property
    def session_cookie(self) -> str:
        # The __Host- prefix pins the cookie to this host and path "/" (browsers require Secure for it).
        return "__Host-kyc_staff" if self.settings.admin_cookie_secure else "kyc_staff"

    @property
    def login_cookie(self) -> str:
        return "__Host-kyc_login" if self.settings.admin_cookie_secure else "kyc_login"

    @classmethod
    def start(cls, settings: Settings, db: Database, vault: Vault) -> Console:
        ensure_webhook_key(db, vault)
        dispatcher = WebhookDispatcher(db, vault, settings)
        dispatcher.start()
        throttle = SignInThrottle(
            per_address_per_minute=settings.admin_sign_in_per_address_per_minute,
            threshold=settings.admin_lockout_threshold,
            base_s=settings.admin_backoff_base_s,
            max_s=settings.admin_backoff_max_s,
        )
        return cls(settings, db, vault, dispatcher, throttle)

    def stop(self) -> None:
        self.dispatcher.stop()

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=self.settings.admin_cookie_secure, httponly=True, samesite="strict"
        )

    def clear_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.settings.admin_cookie_secure, httponly=True, samesite="strict")


def get_console(request: Request) -> Console:
    return request.app.state.admin_console


ConsoleDep = Annotated[Console, Depends(get_console)]


class SignInRequired(Exception):
    """No valid session: GET pages redirect to the sign-in page, actions answer 401."""


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> HTMLResponse:
    ctx = {"staff": getattr(request.state, "staff", None), "home": HOME, **(context or {})}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=SECURITY_HEADERS)


def error_page(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "code": code, "message": message}, status_code=status)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


class ConsoleRoute(APIRoute):
    """Turns errors into HTML pages (not the JSON of the API) and missing sessions into sign-in."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                if request.method == "GET":
                    return redirect("/admin/login?next=" + quote(request.url.path, safe="/"))
                info = CODES["staff_unauthenticated"]
                return error_page(request, info.status, info.code, info.message)
            except KycError as exc:
                return error_page(request, exc.status, exc.code, exc.message)
            except RequestValidationError:
                info = CODES["validation_failed"]
                return error_page(request, 422, info.code, "The form or link is missing a value or has a wrong one.")

        return console_handler


def current_staff(request: Request, console: ConsoleDep) -> Staff:
    staff = load_session(console.db, console.settings, request.cookies.get(console.session_cookie))
    if staff is None:
        raise SignInRequired()
    request.state.staff = staff
    return staff


StaffDep = Annotated[Staff, Depends(current_staff)]


def require(permission: str):
    """A dependency: the signed-in staff member, after checking the role allows ``permission``.

    A refusal is audited (who tried what), then shown as a 403 page.
    """

    def dependency(request: Request, staff: StaffDep, console: ConsoleDep) -> Staff:
        if not allowed(staff.role, permission):
            with console.db.session() as s:
                append_audit(
                    s, actor=staff.actor, action="staff.forbidden", detail={"permission": permission, "path": request.url.path[:200]}
                )
            require_permission(staff.role, permission)
        return staff

    return Depends(dependency)


async def csrf_checked(request: Request, staff: StaffDep) -> Staff:
    """Every POST carries the session's CSRF token in the ``csrf_token`` form field."""
    form = await request.form()
    token = form.get("csrf_token")
    if not isinstance(token, str) or not csrf_matches(staff.csrf_token, token):
        raise error("csrf_failed")
    return staff


def new_login_token() -> str:
    return secrets.token_urlsafe(24)
