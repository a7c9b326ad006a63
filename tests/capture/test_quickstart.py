"""The README's quickstart, run as written against a freshly started service.

The service is started the way ``make serve`` starts it (``kyc serve``, development
mode, an empty data directory, so it writes the development keys), on a free port.
The README's ``sh`` and ``python`` blocks (marked ``<!-- quickstart:... -->``) then run
in a directory whose ``var`` is that data directory, with the user's photos made from
a synthetic ID card carrying a real face and another photo of the same person.
The REAL engines decide; the test checks that each call answered and what it stored.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kyc.config import PROJECT_ROOT, get_settings

pytestmark = [pytest.mark.models, pytest.mark.slow]

README = PROJECT_ROOT / "README.md"


def block(kind: str) -> str:
    text = README.read_text()
    m = re.search(rf"<!-- quickstart:{kind} -->\n```\w+\n(.*?)\n```", text, re.S)
    assert m, f"README has no quickstart:{kind} block"
    return m.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory, shared_data):
    from tests.capture.media import card_photos

    work = tmp_path_factory.mktemp("quickstart")
    data = work / "data"
    data.mkdir()
    (work / "var").symlink_to(data)
    faces = shared_data / "faces" / "deepface_tests"
    front, back = card_photos(faces / "img1.jpg", seed="quickstart")
    (work / "front.jpg").write_bytes(front)
    (work / "back.jpg").write_bytes(back)
    (work / "selfie.jpg").write_bytes((faces / "img2.jpg").read_bytes())  # the same person (deepface master.csv)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KYC_")},
        "PYTHONPATH": str(PROJECT_ROOT),
        "KYC_ENVIRONMENT": "development",
        "KYC_DATA_DIR": str(data),
        "KYC_MODELS_DIR": str(get_settings().resolved_models_dir),
        "KYC_PORT": str(port),
    }
    proc = subprocess.Popen([sys.executable, "-c", "from kyc.cli import app; app()", "serve"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(base + "/v1/health", timeout=2).status_code == 200 and (data / "dev-api-key").exists():
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace")[-3000:]
            proc.stdout.close()
            pytest.fail(f"kyc serve did not start: {out}")
        time.sleep(0.3)
    yield work, base, env
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


def test_the_curl_quickstart(served):
    work, base, _ = served
    script = block("curl").replace("http://127.0.0.1:8000", base)
    # show every answer, one per line, to check them here
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    answers = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    policy, verification, export, deletion = answers
    assert policy["version"] == "2026-01"
    assert verification["status"] in ("approved", "review", "rejected") and verification["subject_ref"] == "user-42"
    assert verification["document"]["type"] == "cn_id_front" and "*" in verification["document"]["fields"]["id_number"]
    assert verification["scores"]["face"]["similarity"] is not None
    assert [v["id"] for v in export["verifications"]] == [verification["id"]]
    assert deletion["deleted"] is True and deletion["verifications"] == 1
    key = (work / "var" / "dev-api-key").read_text().strip()
    gone = httpx.get(f"{base}/v1/verifications/{verification['id']}", headers={"X-API-Key": key})
    assert gone.status_code == 404


def test_the_python_quickstart(served):
    work, base, env = served
    script = block("python").replace("http://127.0.0.1:8000", base)
    r = subprocess.run([sys.executable, "-c", script], cwd=work, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert lines[0].split()[0] in ("approved", "review", "rejected")
    assert lines[1] == lines[0].split()[0]
    assert lines[2] == "True"
    assert "'deleted': True" in lines[3]


def test_the_capture_session_call_of_the_readme(served):
    work, base, _ = served
    script = block("capture").replace("http://127.0.0.1:8000", base)
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    session = json.loads(r.stdout.strip().splitlines()[-1])
    assert session["url"].startswith(base + "/capture/cap_")
    page = httpx.get(session["url"])
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
