"""The hosted capture page in a real browser, with the REAL engines: Debian's chromium,
headless, phone-sized, driven by Playwright, its camera faked from files this test makes.

* The camera plays a still picture of a face (a photo from ../shared/data held up to the
  camera, as a Y4M file). The ID card steps first see that picture (the page takes it
  by itself when the picture is steady, and the reader finds no card: the retake path),
  then take the synthetic card photos from the file picker, the back given for the front
  first (the wrong-side path). The liveness challenge sees the same still picture: the
  engine must fail it, the page says "try again", and the stored verification, its
  consent and the signed webhook are checked through the API.
* The flow runs in English and in Simplified Chinese (the browser's language), with a
  switch of language on the way; screenshots of each step go to artefacts/browser/.

The server runs under uvicorn in a subprocess with a temporary SQLite database.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import quote
from types import SimpleNamespace

import cv2
import httpx
import numpy as np
import pytest

from kyc.config import PROJECT_ROOT, Settings, get_settings

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = PROJECT_ROOT / "artefacts" / "browser"
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
MESSAGES = json.loads((PROJECT_ROOT / "api" / "capture_static" / "messages.json").read_text())
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
POLICY_TEXT = (
    "隐私政策 2026-03\n我们读取您的身份证，并将您的面部与证件照片比对，以核验您的身份。\n\n"
    "Privacy policy 2026-03\nWe read your ID card and compare your face with its photo to verify who you are."
)
POLICY_SHA = hashlib.sha256(POLICY_TEXT.encode()).hexdigest()
FRAME_ORIGIN = "https://app.example"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.models,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Receiver(BaseHTTPRequestHandler):
    """The client's webhook endpoint: keeps what it got."""

    got: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def webhooks():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/kyc", got=_Receiver.got)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def materials(shared_data, tmp_path_factory):
    from tests.capture.media import card_photos, still_picture, write_y4m

    d = tmp_path_factory.mktemp("capture-media")
    faces = shared_data / "faces" / "deepface_tests"
    front, back = card_photos(faces / "img1.jpg")
    (d / "front.jpg").write_bytes(front)
    (d / "back.jpg").write_bytes(back)
    still = still_picture(cv2.imread(str(faces / "img2.jpg")))  # the holder's other photo, held up
    write_y4m(d / "still.y4m", [still] * 30)
    rng = np.random.default_rng(0)  # an empty wall with camera noise: nobody in the picture
    write_y4m(d / "wall.y4m", [np.clip(118 + rng.normal(0, 3, (480, 640, 3)), 0, 255).astype(np.uint8) for _ in range(30)])
    return SimpleNamespace(front=d / "front.jpg", back=d / "back.jpg", still=d / "still.y4m", wall=d / "wall.y4m")


@pytest.fixture(scope="module")
def server(tmp_path_factory, webhooks, app_host):
    from kyc.access import create_client
    from kyc.admin import set_webhook
    from kyc.capture import set_frame_origins
    from kyc.consent import publish_policy
    from kyc.storage import Database
    from kyc.vault import Vault

    data = tmp_path_factory.mktemp("capture-browser") / "data"
    models = get_settings().resolved_models_dir
    settings = Settings(environment="test", data_dir=data, models_dir=models, purge_interval_s=3600)
    db = Database.from_settings(settings)
    try:
        db.migrate()
        vault = Vault(settings)
        vault.ensure_service_keys(db)
        client, key = create_client(db, "phone-app")
        publish_policy(db, "2026-03", POLICY_SHA, False, actor="test")
        secret = set_webhook(db, vault, settings, client.id, webhooks.url, actor="test")
        set_frame_origins(db, client.id, [FRAME_ORIGIN, app_host.origin], actor="test")
    finally:
        db.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "KYC_ENVIRONMENT": "test",
        "KYC_DATA_DIR": str(data),
        "KYC_MODELS_DIR": str(models),
        "KYC_PURGE_INTERVAL_S": "3600",
        "KYC_WEBHOOK_POLL_S": "0.5",
        "KYC_VERIFICATION_DEADLINE_S": "120",
    }
    env.pop("KYC_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/v1/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace")[-2000:]
            proc.stdout.close()
            pytest.fail(f"uvicorn did not start: {out}")
        time.sleep(0.2)
    yield SimpleNamespace(base=base, key=key, secret=secret, headers={"X-API-Key": key})
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        yield p


def _browser(playwright, video: Path):
    """Chromium whose camera plays ``video`` (Y4M) and whose camera prompt is accepted."""
    args = [*ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
    yield b
    b.close()


@pytest.fixture(scope="module")
def still_browser(playwright, materials):
    """The camera shows a still photo of a face."""
    yield from _browser(playwright, materials.still)


@pytest.fixture
def wall_browser(playwright, materials):
    """The camera shows an empty wall."""
    yield from _browser(playwright, materials.wall)


def new_capture_session(server, ref: str) -> dict:
    r = httpx.post(
        server.base + "/v1/capture-sessions",
        json={"subject_ref": ref, "purposes": ["real_name_verification", "biometric_processing", "retain_for_review"],
              "policy_version": "2026-03", "policy_text": POLICY_TEXT},
        headers=server.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def open_page(browser, lang: str):
    ctx = browser.new_context(**PHONE, locale="zh-CN" if lang == "zh-CN" else "en-US", permissions=["camera"])
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return ctx, page, problems


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"capture-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def app_host():
    """A client app on another origin (localhost, not 127.0.0.1) that opens the flow with the SDK."""
    sdk = PROJECT_ROOT / "sdk" / "js" / "dist" / "kyc-capture.js"
    if not sdk.exists():
        pytest.fail(f"{sdk} is missing: run `npm ci && npm run build` (scripts/setup.sh does)")
    files = {
        "/kyc-capture.js": ("text/javascript", sdk.read_bytes()),
        "/app.html": ("text/html; charset=utf-8", APP_HTML.encode()),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            ctype, data = files.get(self.path.split("?")[0], ("text/plain", b""))
            self.send_response(200 if data else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(origin=f"http://localhost:{server.server_port}")
    server.shutdown()
    server.server_close()


APP_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>An app</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>html,body{margin:0;height:100%} #flow{height:100vh}</style></head>
<body><main id="flow"></main><script type="module">
import { openCapture } from "/kyc-capture.js";
const url = new URLSearchParams(location.search).get("url");
openCapture({ url, container: document.getElementById("flow") })
  .then((r) => { window.captureResult = r; }, (e) => { window.captureError = e.code; });
</script></body></html>"""


def text_of(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def wait_for_text(page, selector: str, timeout_s: float = 60) -> str:
    page.wait_for_function("s => document.querySelector(s).textContent.trim().length > 0", arg=selector, timeout=timeout_s * 1000)
    return text_of(page, selector)


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(frame) -> list[str]:
    """axe-core (from npm, node_modules/) on the current step: rule ids with the nodes that fail.

    Injected through the DevTools protocol (``evaluate``), so the page's own CSP stays on.
    """
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (scripts/setup.sh does)")
    if not frame.evaluate("() => typeof window.axe !== 'undefined'"):
        frame.evaluate(AXE.read_text())
    found = frame.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))",
        AXE_TAGS,
    )
    return list(found)


def storage_is_empty(page) -> bool:
    """Nothing in the page's storage (a third-party iframe may have no storage at all: also empty)."""
    return page.evaluate(
        "() => { try { return localStorage.length === 0 && sessionStorage.length === 0 && document.cookie === ''; }"
        " catch (e) { return e.name === 'SecurityError'; } }"
    )


def wait_for_webhook(webhooks, capture_id: str, timeout_s: float = 30) -> tuple[dict, bytes]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for headers, body in list(webhooks.got):
            if json.loads(body).get("capture_session_id") == capture_id:
                return headers, body
        time.sleep(0.2)
    raise AssertionError("no verification.completed webhook for the capture session")


@pytest.mark.parametrize(("lang", "mode"), [("en", "page"), ("zh-CN", "sdk-iframe")])
def test_a_still_picture_goes_through_the_flow_and_fails_the_challenge(server, still_browser, materials, webhooks, app_host, lang, mode):
    """``page``: the session URL opened as the page itself. ``sdk-iframe``: an app on
    another origin opens it with the JS SDK in an iframe, and gets the verification id."""
    from kyc.admin import verify_signature

    m = MESSAGES[lang]
    session = new_capture_session(server, f"phone-user-{lang}")
    head = httpx.get(session["url"])
    assert head.headers["cache-control"] == "no-store"
    ancestors = head.headers["content-security-policy"].split("frame-ancestors ")[1].split(";")[0].split()
    assert sorted(ancestors) == sorted([FRAME_ORIGIN, app_host.origin])
    ctx, page, problems = open_page(still_browser, lang)
    try:
        if mode == "page":
            page.goto(session["url"])
            ui = page.main_frame
        else:
            page.goto(app_host.origin + "/app.html?url=" + quote(session["url"], safe=""))
            page.wait_for_selector("iframe")
            ui = page.locator("iframe").element_handle().content_frame()
        ui.wait_for_selector("#step-consent:not([hidden])")
        # 1. consent, in the browser's language; the required items are enforced
        assert ui.evaluate("document.documentElement.lang") == lang
        assert text_of(ui, "#step-consent h1") == m["consent_title"]
        assert POLICY_TEXT.splitlines()[0] in text_of(ui, "#policy-text")
        shot(page, f"{lang}-1-consent")
        assert axe_violations(ui) == []
        ui.click("#lang")  # switch, and back
        other = "zh-CN" if lang == "en" else "en"
        assert text_of(ui, "#step-consent h1") == MESSAGES[other]["consent_title"]
        shot(page, f"{lang}-1-consent-switched-to-{other}")
        ui.click("#lang")
        ui.click("#consent-go")
        assert text_of(ui, "#consent-error") == m["consent_missing"]
        ui.check("#purpose-real_name_verification")
        ui.check("#purpose-biometric_processing")
        ui.click("#consent-go")

        # 2. the ID card: the camera sees a face, not a card -> a retake message
        ui.wait_for_selector("#step-card:not([hidden])")
        assert text_of(ui, "#card-title") == m["card_front_title"]
        retake = wait_for_text(ui, "#card-error")
        assert retake in {m[f"reason_{r}"] for r in ("document_not_found", "document_unreadable", "blurred", "glare", "document_cut_off")}
        shot(page, f"{lang}-2-card-front-retake")
        assert axe_violations(ui) == []
        ui.set_input_files("#card-file", str(materials.back))  # the back for the front
        ui.wait_for_function("m => document.querySelector('#card-error').textContent === m", arg=m["reason_wrong_side"])
        shot(page, f"{lang}-3-card-front-wrong-side")
        ui.set_input_files("#card-file", str(materials.front))
        ui.wait_for_function("t => document.querySelector('#card-title').textContent === t", arg=m["card_back_title"])
        wait_for_text(ui, "#card-error")  # the camera's face again, taken by itself
        shot(page, f"{lang}-4-card-back")
        ui.set_input_files("#card-file", str(materials.back))

        # 3. the face and the challenge: prompts in the page's language
        ui.wait_for_selector("#step-selfie:not([hidden])")
        shot(page, f"{lang}-5-selfie")
        assert axe_violations(ui) == []
        ui.click("#selfie-go")
        prompts = {m[f"action_{a}"] for a in ("blink", "turn_left", "turn_right", "nod", "open_mouth")}
        ui.wait_for_function("p => p.includes(document.querySelector('#prompt').textContent)", arg=list(prompts))
        shot(page, f"{lang}-6-challenge")

        # 4. the result: a still picture must not pass; never a score on the page
        ui.wait_for_selector("#step-result:not([hidden])", timeout=120_000)
        shot(page, f"{lang}-7-result")
        assert axe_violations(ui) == []
        assert ui.evaluate("document.body.dataset.result") == "retry"
        assert text_of(ui, "#result-title") == m["result_retry_title"]
        assert "score" not in ui.content().lower()
        assert storage_is_empty(ui)
        assert not problems, problems
        if mode == "sdk-iframe":  # the app got the id from the SDK's promise
            page.wait_for_function("() => window.captureResult !== undefined || window.captureError !== undefined")
            sdk_result = page.evaluate("() => window.captureResult || window.captureError")
    finally:
        ctx.close()

    # the backend's side: the signed webhook, the verification and its consent
    headers, body = wait_for_webhook(webhooks, session["id"])
    assert headers["x-kyc-event"] == "verification.completed"
    assert verify_signature(server.secret, body, headers["x-kyc-signature"])
    event = json.loads(body)
    if mode == "sdk-iframe":
        assert sdk_result == {"verificationId": event["verification_id"], "result": "retry"}
    v = httpx.get(f"{server.base}/v1/verifications/{event['verification_id']}", headers=server.headers).json()
    assert v["status"] == "rejected" == event["status"]
    assert v["subject_ref"] == f"phone-user-{lang}"
    assert v["scores"]["liveness"]["kind"] == "active" and v["scores"]["liveness"]["live"] is False
    assert v["document"]["type"] == "cn_id_front" and v["document"]["fields"]["id_number"]
    c = httpx.get(f"{server.base}/v1/consents/{v['consent_id']}", headers=server.headers).json()
    assert (c["channel"], c["text_sha256"], c["locale"], c["policy_version"]) == ("capture", POLICY_SHA, lang, "2026-03")
    assert sorted(c["purposes"]) == ["biometric_processing", "real_name_verification"]  # the optional one was not ticked
    # single use
    page_again = httpx.get(f"{server.base}/v1/capture/session", headers={"X-Capture-Token": session["token"]})
    assert page_again.status_code == 409


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_bad_link_says_what_to_do_in_the_browsers_language(server, still_browser, lang):
    ctx, page, problems = open_page(still_browser, lang)
    try:
        response = page.goto(server.base + "/capture/cap_not-a-real-token")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_selector("#step-error:not([hidden])")
        assert text_of(page, "#error-text") == MESSAGES[lang]["capture_session_not_found"]
        shot(page, f"{lang}-0-bad-link")
        assert axe_violations(page) == []
        assert not [p for p in problems if "404" not in p], problems  # the session lookup's 404 is the answer
    finally:
        ctx.close()


def test_consent_focus_order_follows_the_page(server, still_browser):
    """Each step puts focus on its heading; Tab then goes: the policy (scrollable, focusable),
    each purpose in order, the button; Shift+Tab from the heading reaches the language switch."""
    session = new_capture_session(server, "phone-user-focus")
    ctx, page, _ = open_page(still_browser, "en")
    try:
        page.goto(session["url"])
        page.wait_for_selector("#step-consent:not([hidden])")
        assert page.evaluate("document.activeElement.tagName") == "H1"
        order = []
        for _ in range(5):
            page.keyboard.press("Tab")
            order.append(page.evaluate("document.activeElement.id"))
        assert order == ["policy", "purpose-real_name_verification", "purpose-biometric_processing", "purpose-retain_for_review", "consent-go"]
        page.focus("#step-consent h1")
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.id") == "lang"
        page.focus("#consent-go")
        page.keyboard.press("Enter")  # the button by keyboard: the required items are asked for
        assert text_of(page, "#consent-error") == MESSAGES["en"]["consent_missing"]
    finally:
        ctx.close()


def test_nobody_in_the_picture_gets_the_retake_message_and_a_new_challenge(server, wall_browser, materials):
    """A quality reason (the face is not in the picture) is the person's to fix: the page
    says so and offers a new challenge, counted against the session's attempts."""
    session = new_capture_session(server, "phone-user-wall")
    ctx, page, problems = open_page(wall_browser, "en")
    m = MESSAGES["en"]
    try:
        page.goto(session["url"])
        page.wait_for_selector("#step-consent:not([hidden])")
        page.check("#purpose-real_name_verification")
        page.check("#purpose-biometric_processing")
        page.click("#consent-go")
        page.wait_for_selector("#step-card:not([hidden])")
        assert wait_for_text(page, "#card-error") == m["reason_document_not_found"]  # the wall, taken by itself
        page.set_input_files("#card-file", str(materials.front))
        page.wait_for_function("t => document.querySelector('#card-title').textContent === t", arg=m["card_back_title"])
        wait_for_text(page, "#card-error")
        page.set_input_files("#card-file", str(materials.back))
        page.wait_for_selector("#step-selfie:not([hidden])")
        page.click("#selfie-go")
        page.wait_for_function("m => document.querySelector('#selfie-error').textContent === m", arg=m["reason_face_lost"], timeout=90_000)
        assert text_of(page, "#selfie-go") == m["selfie_again"]
        assert page.is_enabled("#selfie-go")
        shot(page, "en-5b-selfie-retake")
        assert axe_violations(page) == []
        page.click("#lang")  # the same message, in Chinese
        assert text_of(page, "#selfie-error") == MESSAGES["zh-CN"]["reason_face_lost"]
        shot(page, "zh-CN-5b-selfie-retake")
        assert not problems, problems
    finally:
        ctx.close()
    left = httpx.get(server.base + "/v1/capture/session", headers={"X-Capture-Token": session["token"]}).json()
    assert left["state"] == "consented" and left["liveness_attempts_left"] == 2  # not spent: a new challenge may follow
