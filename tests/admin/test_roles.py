"""Every console route × every role, checked on the server: allowed roles get the page or
the action, the others a 403 page (and an audit entry), anonymous callers the sign-in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from kyc.storage import AuditEntry
from tests.admin.conftest import Console


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the route's path template, as registered
    allowed: str  # the one role allowed
    build: Callable[[Console], tuple[str, dict]]  # -> (url, form data)
    ok: int  # the allowed role's status


def _vid(c: Console) -> str:
    return c.seed.verification(images=("selfie",))


def _image(c: Console) -> tuple[str, dict]:
    from kyc.storage import RetainedImage

    vid = _vid(c)
    with c.db.session() as s:
        rid = s.scalar(select(RetainedImage.id).where(RetainedImage.verification_id == vid))
    return f"/admin/verifications/{vid}/images/{rid}", {}


_n = iter(range(10_000))


def _target_user(c: Console) -> str:
    from kyc.admin.accounts import find_user

    return find_user(c.db, c.user("reviewer", f"target{next(_n)}")).id


CASES = [
    Case("GET", "/admin/queue", "reviewer", lambda c: ("/admin/queue", {}), 200),
    Case("GET", "/admin/verifications/{vid}", "reviewer", lambda c: (f"/admin/verifications/{_vid(c)}", {}), 200),
    Case(
        "POST", "/admin/verifications/{vid}/reveal", "reviewer",
        lambda c: (f"/admin/verifications/{_vid(c)}/reveal", {"field": "name"}), 200,
    ),
    Case("GET", "/admin/verifications/{vid}/images/{image_id}", "reviewer", _image, 200),
    Case(
        "POST", "/admin/verifications/{vid}/decision", "reviewer",
        lambda c: (f"/admin/verifications/{_vid(c)}/decision", {"decision": "reject", "note": "portrait differs"}), 303,
    ),
    Case("GET", "/admin/users", "admin", lambda c: ("/admin/users", {}), 200),
    Case(
        "POST", "/admin/users", "admin",
        lambda c: ("/admin/users", {"username": f"new{next(_n)}", "role": "auditor", "password": "a long enough password"}), 303,
    ),
    Case("POST", "/admin/users/{user_id}/unlock", "admin", lambda c: (f"/admin/users/{_target_user(c)}/unlock", {}), 303),
    Case(
        "POST", "/admin/users/{user_id}/disable", "admin",
        lambda c: (f"/admin/users/{_target_user(c)}/disable", {"disabled": "true"}), 303,
    ),
    Case(
        "POST", "/admin/users/{user_id}/role", "admin",
        lambda c: (f"/admin/users/{_target_user(c)}/role", {"role": "auditor"}), 303,
    ),
    Case("GET", "/admin/settings", "admin", lambda c: ("/admin/settings", {}), 200),
    Case(
        "POST", "/admin/settings/webhooks/{client_id}", "admin",
        lambda c: (f"/admin/settings/webhooks/{c.seed.client_id}", {"url": "https://hooks.example/kyc"}), 200,
    ),
    Case("GET", "/admin/audit", "auditor", lambda c: ("/admin/audit", {}), 200),
]
ROLES = ("reviewer", "admin", "auditor")


def _send(c: Console, case: Case, role: str | None):
    url, data = case.build(c)
    csrf = c.act_as(role)
    if case.method == "GET":
        return c.http.get(url, follow_redirects=False)
    return c.http.post(url, data={**data, "csrf_token": csrf or ""}, follow_redirects=False)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda k: f"{k.method} {k.route}")
def test_route_role(shared, case: Case, role: str):
    r = _send(shared, case, role)
    if role == case.allowed:
        assert r.status_code == case.ok, r.text[:500]
        assert r.headers["cache-control"] == "no-store"
    else:
        assert r.status_code == 403, r.text[:300]
        assert 'data-code="staff_forbidden"' in r.text
        assert "Not allowed" in r.text
        with shared.db.session() as s:
            last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (last.actor, last.action) == (f"staff:{role}1", "staff.forbidden")


@pytest.mark.parametrize("case", CASES, ids=lambda k: f"{k.method} {k.route}")
def test_route_anonymous(shared, case: Case):
    r = _send(shared, case, None)
    if case.method == "GET":
        assert r.status_code == 303
        assert r.headers["location"].startswith("/admin/login?next=/admin/")
    else:
        assert r.status_code == 401
        assert 'data-code="staff_unauthenticated"' in r.text


def test_every_console_route_is_in_the_matrix():
    from api.admin import router

    registered = {(m, r.path) for r in router.routes for m in r.methods if m != "HEAD"}
    public = {("GET", "/admin"), ("GET", "/admin/login"), ("POST", "/admin/login"), ("POST", "/admin/logout")}
    assert registered - public == {(k.method, k.route) for k in CASES}


def test_home_sends_each_role_to_its_page(shared):
    for role, page in (("reviewer", "/admin/queue"), ("admin", "/admin/users"), ("auditor", "/admin/audit")):
        shared.act_as(role)
        assert shared.http.get("/admin", follow_redirects=False).headers["location"] == page
    shared.act_as(None)
    assert shared.http.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"


def test_navigation_shows_only_the_roles_pages(shared):
    shared.act_as("reviewer")
    page = shared.http.get("/admin/queue").text
    assert 'href="/admin/queue"' in page and 'href="/admin/audit"' not in page and 'href="/admin/users"' not in page
    shared.act_as("auditor")
    page = shared.http.get("/admin/audit").text
    assert 'href="/admin/audit"' in page and 'href="/admin/queue"' not in page
