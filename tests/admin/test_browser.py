"""The console in a real browser: Debian's chromium, headless, driven by Playwright.

The real app runs under uvicorn in a subprocess on a free 127.0.0.1 port with a temporary
SQLite database seeded with a verification in review that has a retained image. Cookies
stay Secure: Chromium treats http://127.0.0.1 as a secure context. Screenshots go to
artefacts/browser/ (git-ignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from kyc.config import PROJECT_ROOT, Settings
from tests.admin.conftest import PASSWORD
from tests.admin.seed import Seeder

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = PROJECT_ROOT / "artefacts" / "browser"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(settings: Settings) -> str:
    from kyc.admin import create_user
    from kyc.storage import Database
    from kyc.vault import Vault

    db = Database.from_settings(settings)
    try:
        db.migrate()
        vault = Vault(settings)
        vault.ensure_service_keys(db)
        seed = Seeder.create(SimpleNamespace(db=db, vault=vault))
        seed.verification(status="rejected", reasons=("liveness_failed",), name="李四", id_number="110105194912310011")
        vid = seed.verification(reasons=("face_mismatch_borderline",), images=("selfie",))
        create_user(db, "alice", PASSWORD, "reviewer", actor="test")
        create_user(db, "carol", PASSWORD, "auditor", actor="test")
    finally:
        db.dispose()
    return vid


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser") / "data"
    settings = Settings(environment="test", data_dir=data, purge_interval_s=3600)
    vid = _seed(settings)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "KYC_ENVIRONMENT": "test",
        "KYC_DATA_DIR": str(data),
        "KYC_PURGE_INTERVAL_S": "3600",
    }
    env.pop("KYC_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/admin/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace")[-2000:]
            proc.stdout.close()
            pytest.fail(f"uvicorn did not start: {out}")
        time.sleep(0.2)
    yield SimpleNamespace(base=base, vid=vid)
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def _page(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB")
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    # Script errors and CSP violations; failed requests are listed by URL (the favicon aside).
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None)
    return ctx, page, problems


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/admin")
    page.wait_for_url("**/admin/login**")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/admin/login'] button[type=submit]")


def test_review_a_verification_then_audit_it(server, browser):
    base, vid = server.base, server.vid
    ctx, page, problems = _page(browser)

    # Sign in as a reviewer: the queue, with a Secure, HttpOnly, SameSite=Strict session cookie.
    _sign_in(page, base, "alice")
    page.wait_for_url("**/admin/queue")
    cookie = next(c for c in ctx.cookies() if c["name"] == "__Host-kyc_staff")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.locator("#queue tbody tr").count() == 2
    page.screenshot(path=str(SHOTS / "01-queue.png"), full_page=True)

    # Open the verification: reasons in words, masked fields, the retained image on request.
    page.click(f"a[href='/admin/verifications/{vid}']")
    page.wait_for_url(f"**/admin/verifications/{vid}")
    assert "close to, but below, the match threshold" in page.content()
    assert page.locator("tr[data-field=name] td.mono").inner_text() == "张*明"
    page.click("[data-show-image]")
    page.wait_for_function("() => { const i = document.querySelector('figure img'); return i && i.complete && i.naturalWidth > 0; }")
    page.screenshot(path=str(SHOTS / "02-verification.png"), full_page=True)

    # Reveal the name (a POST with the CSRF token).
    page.click("button[data-reveal=name]")
    page.wait_for_selector("tr[data-field=name] .revealed")
    assert page.locator("tr[data-field=name] .revealed").inner_text() == "张三明"
    page.screenshot(path=str(SHOTS / "03-revealed.png"), full_page=True)

    # Approve with a note.
    page.fill("textarea[name=note]", "Portrait matches the selfie; the ID photo is ten years old.")
    page.click("button[name=decision][value=approve]")
    page.wait_for_url("**decided=approved")
    assert page.locator("#status").inner_text() == "approved"
    assert "Decided approved by alice" in page.locator("#decided").inner_text()
    page.screenshot(path=str(SHOTS / "04-approved.png"), full_page=True)

    # A reviewer cannot reach the audit log.
    resp = page.goto(base + "/admin/audit")
    assert resp.status == 403 and "Not allowed" in page.content()
    page.screenshot(path=str(SHOTS / "05-reviewer-no-audit.png"), full_page=True)

    # Sign out: the cookie is gone and the queue asks for a sign-in again.
    page.goto(base + "/admin/queue")
    page.click("#sign-out")
    page.wait_for_url("**/admin/login")
    assert not [c for c in ctx.cookies() if c["name"] == "__Host-kyc_staff"]
    page.goto(base + "/admin/queue")
    page.wait_for_url("**/admin/login?next=/admin/queue")
    assert problems == [f"403 {base}/admin/audit"], problems  # no script errors, no CSP violations
    ctx.close()

    # The auditor sees the decision in the audit log, under the reviewer's name.
    ctx, page, problems = _page(browser)
    _sign_in(page, base, "carol")
    page.wait_for_url("**/admin/audit")
    rows = page.locator("#audit tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    decision = [t for t in texts if "review.decision" in t]
    assert decision and "staff:alice" in decision[0] and f"verification:{vid}" in decision[0]
    assert any("review.reveal" in t and "staff:alice" in t for t in texts)
    assert any("review.image" in t and "staff:alice" in t for t in texts)
    page.screenshot(path=str(SHOTS / "06-audit.png"), full_page=True)
    page.click("text=Verify the chain")
    assert "The chain is intact" in page.locator("#chain").inner_text()
    page.click("#sign-out")
    page.wait_for_url("**/admin/login")
    assert problems == [], problems
    ctx.close()


def test_wrong_password_shows_a_message_and_no_session(server, browser):
    ctx, page, _ = _page(browser)
    page.goto(server.base + "/admin/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not the password at all")
    page.click("form[action='/admin/login'] button[type=submit]")
    page.wait_for_selector("[data-code=staff_sign_in_failed]")
    assert "Wrong username or password" in page.content()
    assert not [c for c in ctx.cookies() if c["name"] == "__Host-kyc_staff"]
    page.screenshot(path=str(SHOTS / "07-sign-in-failed.png"), full_page=True)
    ctx.close()
