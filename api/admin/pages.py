"""The ``/admin`` pages. Each route checks the role on the server and calls ``kyc.admin``."""

from __future__ import annotations

import hmac
from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from api.admin.console import (
    SECURITY_HEADERS,
    ConsoleDep,
    ConsoleRoute,
    SignInRequired,
    csrf_checked,
    current_staff,
    error_page,
    new_login_token,
    redirect,
    render,
    require,
)
from api.edge import client_address, public
from kyc.admin import accounts, auditlog, queue, review, webhooks
from kyc.admin.reasons import KNOWN_REASONS, describe_reason
from kyc.admin.roles import HOME, ROLES
from kyc.admin.sessions import Staff, close_session, open_session
from kyc.audit import verify_chain
from kyc.errors import CODES, KycError
from kyc.storage.models import ApiClient, utcnow

router = APIRouter(prefix="/admin", route_class=ConsoleRoute, include_in_schema=False)

CSRF = Depends(csrf_checked)


def _safe_next(target: str | None, role: str) -> str:
    if target and target.startswith("/admin/") and not target.startswith("//") and "\\" not in target and target != "/admin/login":
        return target
    return HOME[role]


# --- signing in and out ---
@router.get("")
def admin_home(request: Request, console: ConsoleDep) -> Response:
    try:
        staff = current_staff(request, console)
    except SignInRequired:
        return redirect("/admin/login")
    return redirect(HOME[staff.role])


@router.get("/login")
@public
def login_page(request: Request, console: ConsoleDep, next: str | None = None) -> Response:
    token = new_login_token()
    resp = render(request, "login.html", {"login_token": token, "next": next or ""})
    console.set_cookie(resp, console.login_cookie, token, max_age=1800)
    return resp


@router.post("/login")
@public
def login(
    request: Request,
    console: ConsoleDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    login_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    # Login CSRF: the form's token must equal the SameSite=Strict cookie set with the form.
    cookie = request.cookies.get(console.login_cookie)
    if not cookie or not login_token or not hmac.compare_digest(cookie.encode(), login_token.encode()):
        info = CODES["csrf_failed"]
        return error_page(request, 403, info.code, info.message)
    try:
        account = accounts.sign_in(
            console.db, console.settings, username, password, throttle=console.sign_in_throttle, address=client_address(request)
        )
    except KycError as exc:
        if exc.code not in ("staff_sign_in_failed", "staff_sign_in_throttled"):
            raise
        token = new_login_token()
        resp = render(
            request, "login.html", {"login_token": token, "next": next, "problem": exc.message, "code": exc.code}, status_code=exc.status
        )
        console.set_cookie(resp, console.login_cookie, token, max_age=1800)
        if "retry_after_s" in exc.detail:
            resp.headers["Retry-After"] = str(max(1, int(float(exc.detail["retry_after_s"]) + 0.999)))
        return resp
    session_token, staff = open_session(console.db, console.settings, account.id)
    resp = redirect(_safe_next(next, staff.role))
    console.set_cookie(resp, console.session_cookie, session_token)
    console.clear_cookie(resp, console.login_cookie)
    return resp


@router.post("/logout")
def logout(console: ConsoleDep, staff: Staff = CSRF) -> Response:
    close_session(console.db, staff)
    resp = redirect("/admin/login")
    console.clear_cookie(resp, console.session_cookie)
    return resp


# --- reviewers: the queue, a verification, reveals, images, decisions ---
@router.get("/queue")
def queue_page(
    request: Request,
    console: ConsoleDep,
    staff: Staff = require("queue.read"),
    status: Annotated[Literal["", "review", "rejected"], Query()] = "",
    reason: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    decided: Annotated[Literal["undecided", "decided", "all"], Query()] = "undecided",
    q: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    flt = queue.QueueFilter(status or None, reason or None, since, until, decided, q or None)
    problem = None
    try:
        result = queue.list_queue(console.db, console.vault, flt, page, console.settings.admin_page_size, actor=staff.actor)
    except KycError as exc:
        if exc.code != "validation_failed":
            raise
        problem = exc.message
        result = queue.QueuePage([], 1, console.settings.admin_page_size, 0)
    reasons = sorted(set(KNOWN_REASONS) | set(result.reasons_seen) | ({reason} if reason else set()))
    params = {"status": status, "reason": reason, "since": since or "", "until": until or "", "decided": decided, "q": q}
    return render(
        request,
        "queue.html",
        {
            "result": result,
            "flt": params,
            "reasons": [(r, describe_reason(r)) for r in reasons],
            "describe": describe_reason,
            "problem": problem,
            "query": urlencode({k: v for k, v in params.items() if v}),
        },
        status_code=422 if problem else 200,
    )


def _verification_page(request: Request, console: ConsoleDep, staff: Staff, vid: str, revealed: dict | None = None, notice=None) -> Response:
    view = review.open_verification(console.db, vid, actor=staff.actor)
    return render(
        request,
        "verification.html",
        {"v": view, "revealed": revealed or {}, "labels": review.FIELD_LABELS, "notice": notice},
    )


@router.get("/verifications/{vid}")
def verification_page(request: Request, console: ConsoleDep, vid: str, staff: Staff = require("verification.read")) -> Response:
    return _verification_page(request, console, staff, vid)


@router.post("/verifications/{vid}/reveal")
def reveal(
    request: Request,
    console: ConsoleDep,
    vid: str,
    field: Annotated[str, Form(max_length=64)] = "",
    _csrf: Staff = CSRF,
    staff: Staff = require("verification.reveal"),
) -> Response:
    names = None if field in ("", "*") else [field]
    shown = review.reveal_fields(console.db, console.vault, vid, names, actor=staff.actor)
    return _verification_page(request, console, staff, vid, revealed=shown)


@router.get("/verifications/{vid}/images/{image_id}")
def image(console: ConsoleDep, vid: str, image_id: str, staff: Staff = require("verification.read")) -> Response:
    mark = f"{staff.username} · {utcnow():%Y-%m-%d %H:%M} UTC · {vid[:8]}"
    data = review.retained_image(console.db, console.vault, vid, image_id, actor=staff.actor, watermark=mark)
    headers = {**SECURITY_HEADERS, "Content-Disposition": "inline"}
    return Response(data, media_type="image/jpeg", headers=headers)


@router.post("/verifications/{vid}/decision")
def decide(
    request: Request,
    console: ConsoleDep,
    vid: str,
    decision: Annotated[Literal["approve", "reject"], Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
    _csrf: Staff = CSRF,
    staff: Staff = require("verification.decide"),
) -> Response:
    try:
        outcome = review.record_decision(console.db, vid, decision, note, reviewer=staff.username, actor=staff.actor)
    except KycError as exc:
        if exc.code != "validation_failed":
            raise
        resp = _verification_page(request, console, staff, vid, notice=("error", exc.message))
        resp.status_code = 422
        return resp
    if outcome.webhook_queued:
        console.dispatcher.wake()
    return redirect(f"/admin/verifications/{vid}?decided={outcome.status}")


# --- admins: staff accounts and settings ---
@router.get("/users")
def users_page(request: Request, console: ConsoleDep, staff: Staff = require("users.manage"), notice: str = "") -> Response:
    return render(request, "users.html", {"users": accounts.list_users(console.db), "roles": ROLES, "notice": notice[:200]})


@router.post("/users")
def create_user(
    request: Request,
    console: ConsoleDep,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
    password: Annotated[str, Form(max_length=1024)],
    _csrf: Staff = CSRF,
    staff: Staff = require("users.manage"),
) -> Response:
    try:
        accounts.create_user(console.db, username, password, role, actor=staff.actor)
    except KycError as exc:
        if exc.code not in ("validation_failed", "staff_user_exists"):
            raise
        return render(
            request,
            "users.html",
            {"users": accounts.list_users(console.db), "roles": ROLES, "problem": exc.message},
            status_code=exc.status,
        )
    return redirect("/admin/users?notice=created")


@router.post("/users/{user_id}/unlock")
def unlock_user(console: ConsoleDep, user_id: str, _csrf: Staff = CSRF, staff: Staff = require("users.manage")) -> Response:
    accounts.unlock_user(console.db, user_id, actor=staff.actor)
    return redirect("/admin/users?notice=unlocked")


@router.post("/users/{user_id}/disable")
def disable_user(
    console: ConsoleDep, user_id: str, disabled: Annotated[bool, Form()], _csrf: Staff = CSRF, staff: Staff = require("users.manage")
) -> Response:
    accounts.set_disabled(console.db, user_id, disabled, actor=staff.actor)
    return redirect("/admin/users?notice=" + ("disabled" if disabled else "enabled"))


@router.post("/users/{user_id}/role")
def change_role(
    console: ConsoleDep, user_id: str, role: Annotated[str, Form(max_length=16)], _csrf: Staff = CSRF, staff: Staff = require("users.manage")
) -> Response:
    accounts.set_role(console.db, user_id, role, actor=staff.actor)
    return redirect("/admin/users?notice=role+changed")


def _clients(console) -> list[ApiClient]:
    with console.db.session() as s:
        return list(s.scalars(select(ApiClient).where(ApiClient.revoked_at.is_(None)).order_by(ApiClient.name)).all())


@router.get("/settings")
def settings_page(request: Request, console: ConsoleDep, staff: Staff = require("settings.manage")) -> Response:
    return render(request, "settings.html", {"clients": _clients(console), "cfg": console.settings})


@router.post("/settings/webhooks/{client_id}")
def set_webhook(
    request: Request,
    console: ConsoleDep,
    client_id: str,
    url: Annotated[str, Form(max_length=2000)] = "",
    new_secret: Annotated[bool, Form()] = False,
    _csrf: Staff = CSRF,
    staff: Staff = require("settings.manage"),
) -> Response:
    secret = None
    problem = None
    try:
        if url.strip():
            secret = webhooks.set_webhook(
                console.db, console.vault, console.settings, client_id, url, actor=staff.actor, new_secret=new_secret
            )
        else:
            webhooks.clear_webhook(console.db, client_id, actor=staff.actor)
    except KycError as exc:
        if exc.code not in ("validation_failed", "residency_violation"):  # shown on the page
            raise
        problem = exc.message
    return render(
        request,
        "settings.html",
        {"clients": _clients(console), "cfg": console.settings, "secret": secret, "secret_client": client_id, "problem": problem},
        status_code=422 if problem else 200,
    )


# --- auditors: the audit log ---
@router.get("/audit")
def audit_page(
    request: Request,
    console: ConsoleDep,
    staff: Staff = require("audit.read"),
    action: Annotated[str, Query(max_length=200)] = "",
    actor: Annotated[str, Query(max_length=200)] = "",
    target: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=1000000)] = 1,
    verify: bool = False,
) -> Response:
    result = auditlog.list_audit(
        console.db, page, console.settings.admin_page_size, action=action or None, actor=actor or None, target=target or None
    )
    chain = verify_chain(console.db) if verify else None
    params = {"action": action, "actor": actor, "target": target}
    return render(
        request,
        "audit.html",
        {"result": result, "flt": params, "chain": chain, "query": urlencode({k: v for k, v in params.items() if v})},
    )
