"""Sign-in, lock-out, cookie flags, server-side sessions, sign-out and CSRF on every form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from kyc.storage import AuditEntry, utcnow
from kyc.storage.admin_models import StaffSession, StaffUser
from tests.admin.conftest import PASSWORD
from tests.admin.test_roles import CASES


def _audit(c, action: str) -> list[AuditEntry]:
    with c.db.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).all())


def _set_cookie_headers(r) -> dict[str, str]:
    out = {}
    for h in r.headers.get_list("set-cookie"):
        out[h.split("=", 1)[0]] = h
    return out


def test_sign_in_sets_a_secure_httponly_samesite_cookie(con):
    con.user("reviewer", "alice")
    r = con.sign_in("alice")
    assert r.status_code == 303 and r.headers["location"] == "/admin/queue"
    cookie = _set_cookie_headers(r)["__Host-kyc_staff"]
    flags = [p.strip().lower() for p in cookie.split(";")]
    assert "secure" in flags and "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert not any(f.startswith("domain=") for f in flags)  # __Host-: host-only
    assert not any(f.startswith(("max-age", "expires")) for f in flags)  # ends with the browser session
    # The server keeps only the token's hash.
    token = cookie.split("=", 1)[1].split(";", 1)[0]
    with con.db.session() as s:
        ids = s.scalars(select(StaffSession.id)).all()
    assert len(ids) == 1 and token not in ids[0]
    assert con.http.get("/admin/queue").status_code == 200
    assert [e.actor for e in _audit(con, "staff.sign_in")] == ["staff:alice"]


def test_sign_in_page_and_login_csrf_cookie(con):
    r = con.http.get("/admin/login")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    flags = _set_cookie_headers(r)["__Host-kyc_login"].lower()
    assert "secure" in flags and "httponly" in flags and "samesite=strict" in flags
    con.user("reviewer", "alice")
    # A sign-in form posted without the matching cookie (another site's form) is refused.
    con.http.cookies.clear()
    r = con.http.post("/admin/login", data={"username": "alice", "password": PASSWORD, "login_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and 'data-code="csrf_failed"' in r.text


def test_plain_http_cookies_when_configured_off(make_console):
    con = make_console(admin_cookie_secure=False)
    con.user("auditor", "carol")
    r = con.sign_in("carol")
    cookie = _set_cookie_headers(r)["kyc_staff"].lower()
    assert "secure" not in cookie and "httponly" in cookie and "samesite=strict" in cookie


def _clock(con) -> list[float]:
    """Drive the sign-in throttle's clock by hand."""
    now = [1000.0]
    con.app.state.admin_console.sign_in_throttle.clock = lambda: now[0]
    return now


def test_wrong_passwords_back_off_instead_of_locking(con):
    con.user("reviewer", "alice")
    now = _clock(con)
    for _ in range(3):  # threshold 3: the same answer each time
        r = con.sign_in("alice", "wrong password!!")
        assert r.status_code == 401 and 'data-code="staff_sign_in_failed"' in r.text
    # the next try must wait (2 s, doubling), even with the right password; no 423, no lock in the database
    r = con.sign_in("alice")
    assert r.status_code == 429 and 'data-code="staff_sign_in_throttled"' in r.text and int(r.headers["Retry-After"]) >= 1
    with con.db.session() as s:
        assert s.scalar(select(StaffUser.locked_until)) is None
    now[0] += 2.5
    assert con.sign_in("alice").status_code == 303  # the real user gets in after seconds, not 15 minutes
    assert [e.detail["reason"] for e in _audit(con, "staff.sign_in_failed")] == ["bad_password"] * 3


def test_backoff_doubles_and_is_capped(con):
    now = _clock(con)
    throttle = con.app.state.admin_console.sign_in_throttle
    for i in range(8):
        throttle.failed("bob")
    assert throttle.wait_s("bob") == pytest.approx(min(60.0, 2.0 * 2**5))
    now[0] += 61
    assert throttle.wait_s("bob") == 0


def test_unknown_and_real_usernames_get_the_same_answers(con):
    con.user("reviewer", "alice")
    _clock(con)
    real = [con.sign_in("alice", "wrong password!!") for _ in range(4)]
    unknown = [con.sign_in("nobody-here", "wrong password!!") for _ in range(4)]
    assert [r.status_code for r in real] == [r.status_code for r in unknown] == [401, 401, 401, 429]
    codes = lambda rs: [r.text.split('data-code="', 1)[1].split('"', 1)[0] for r in rs]  # noqa: E731
    assert codes(real) == codes(unknown)


def test_per_address_limit_runs_before_the_password_hash(make_console, monkeypatch):
    con = make_console(admin_sign_in_per_address_per_minute=3, admin_lockout_threshold=100)
    con.user("reviewer", "alice")
    hashed: list[int] = []
    import kyc.admin.accounts as accounts

    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda *a: hashed.append(1) or real(*a))
    codes = [con.sign_in(f"user{i}", "wrong password!!").status_code for i in range(5)]
    assert codes == [401, 401, 401, 429, 429] and len(hashed) == 3


def test_an_admin_lock_is_answered_like_a_wrong_password(con):
    con.user("reviewer", "alice")
    with con.db.session() as s:
        s.execute(update(StaffUser).values(locked_until=utcnow() + timedelta(minutes=5)))
    r = con.sign_in("alice")
    assert r.status_code == 401 and 'data-code="staff_sign_in_failed"' in r.text
    assert len(_audit(con, "staff.sign_in_refused")) == 1


def test_success_resets_the_failure_count(con):
    con.user("reviewer", "alice")
    _clock(con)
    con.sign_in("alice", "wrong password!!")
    con.sign_in("alice", "wrong password!!")
    assert con.sign_in("alice").status_code == 303
    con.sign_in("alice", "wrong password!!")
    con.sign_in("alice", "wrong password!!")
    assert con.sign_in("alice").status_code == 303  # 2 failures after the reset: no backoff yet


def test_unknown_user_and_disabled_user(con):
    r = con.sign_in("nobody")
    assert r.status_code == 401
    entry = _audit(con, "staff.sign_in_failed")[-1]
    assert entry.actor == "anonymous" and "nobody" not in str(entry.detail)
    con.user("reviewer", "alice")
    from kyc.admin.accounts import find_user, set_disabled

    set_disabled(con.db, find_user(con.db, "alice").id, True, actor="test")
    assert con.sign_in("alice").status_code == 401


def test_sign_out_ends_the_session_on_the_server(con):
    con.user("reviewer", "alice")
    r = con.sign_in("alice")
    token = con.http.cookies.get("__Host-kyc_staff")
    page = con.http.get("/admin/queue").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = con.http.post("/admin/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    assert "max-age=0" in _set_cookie_headers(r)["__Host-kyc_staff"].lower()
    # Replaying the old cookie gets the sign-in page: the session is gone server-side.
    con.http.cookies.clear()
    con.http.cookies.set("__Host-kyc_staff", token, domain="testserver.local", path="/")
    assert con.http.get("/admin/queue", follow_redirects=False).status_code == 303
    assert [e.actor for e in _audit(con, "staff.sign_out")] == ["staff:alice"]


def test_sign_out_needs_csrf(con):
    con.act_as("reviewer")
    r = con.http.post("/admin/logout", data={}, follow_redirects=False)
    assert r.status_code == 403 and 'data-code="csrf_failed"' in r.text
    assert con.http.get("/admin/queue", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
def test_idle_and_absolute_expiry(con, column):
    con.act_as("reviewer")
    assert con.http.get("/admin/queue", follow_redirects=False).status_code == 200
    past = utcnow() - timedelta(hours=24 if column == "last_seen_at" else 0, seconds=1)
    with con.db.session() as s:
        s.execute(update(StaffSession).values({column: past}))
    assert con.http.get("/admin/queue", follow_redirects=False).status_code == 303
    with con.db.session() as s:
        assert s.scalar(select(StaffSession.id)) is None  # deleted when found expired


def test_role_change_ends_the_sessions(con):
    con.act_as("reviewer")
    from kyc.admin.accounts import find_user, set_role

    set_role(con.db, find_user(con.db, "reviewer1").id, "auditor", actor="staff:root")
    assert con.http.get("/admin/queue", follow_redirects=False).status_code == 303


def test_open_redirect_is_refused(con):
    con.user("reviewer", "alice")
    assert con.sign_in("alice", next="//evil.example/x").headers["location"] == "/admin/queue"
    assert con.sign_in("alice", next="https://evil.example/").headers["location"] == "/admin/queue"
    assert con.sign_in("alice", next="/admin/audit").headers["location"] == "/admin/audit"


def test_secure_cookie_is_not_sent_over_plain_http_to_another_host(con):
    """httpx, like browsers, keeps Secure cookies off plain http (other than localhost)."""
    con.user("reviewer", "alice")
    con.sign_in("alice")
    r = con.http.get("http://testserver/admin/queue", follow_redirects=False)
    assert r.status_code == 303


# --- CSRF on every POST the console has ---
POSTS = [k for k in CASES if k.method == "POST"]


@pytest.mark.parametrize("case", POSTS, ids=lambda k: k.route)
@pytest.mark.parametrize("token", ["missing", "wrong", "other_session"])
def test_every_form_rejects_a_bad_csrf_token(shared, case, token):
    con = shared
    url, data = case.build(con)
    con.act_as("auditor")  # another session's token must not work either
    other = con.staff["auditor"][2]
    con.act_as(case.allowed)
    sent = {"missing": {}, "wrong": {"csrf_token": "x" * 43}, "other_session": {"csrf_token": other}}[token]
    with con.db.session() as s:
        before = s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    r = con.http.post(url, data={**data, **sent}, follow_redirects=False)
    assert r.status_code == 403 and 'data-code="csrf_failed"' in r.text
    with con.db.session() as s:
        after = s.scalars(select(AuditEntry.action).where(AuditEntry.seq > before)).all()
    assert [a for a in after if a not in ("staff.forbidden",)] == []  # nothing was done
