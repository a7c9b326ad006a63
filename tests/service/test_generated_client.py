"""A client generated from /openapi.json by openapi-python-client (in a temporary
directory, never committed) drives a consent and a verification against the app.

openapi-python-client pins typer<0.28, which the project's own typer pin excludes, so it
runs from its own virtual environment made here (``pip install
openapi-python-client==0.29.1``); the test skips, with the reason, where that cannot be
installed (no package registry). Real service, FAKE engines (fakes.py).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.service.conftest import CONSENT_TEXT_SHA
from tests.service.fakes import png

GENERATOR = "openapi-python-client==0.29.1"
ALICE = (200, 150, 120)  # a "person" of the fake engines (a colour)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def generator(tmp_path_factory) -> Path:
    found = shutil.which("openapi-python-client")
    if found:
        return Path(found)
    env = tmp_path_factory.mktemp("generator") / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    pip = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "install", "-q", GENERATOR], capture_output=True, text=True, timeout=600
    )
    if pip.returncode != 0:
        pytest.skip(f"could not install {GENERATOR}: {pip.stderr.strip().splitlines()[-1:]}")
    return env / "bin" / "openapi-python-client"


@pytest.fixture
def db_url(tmp_path):
    """SQLite only: the schema and the generated client are under test."""
    return f"sqlite:///{tmp_path / 'data' / 'kyc.db'}"


def test_generated_client_drives_a_consent_and_a_verification(api, generator, tmp_path, monkeypatch):
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(api.http.get("/openapi.json").json()))
    out = tmp_path / "gen" / "kyc_api_client"
    env = {**os.environ, "PATH": f"{generator.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        [str(generator), "generate", "--path", str(spec), "--output-path", str(out), "--meta", "none"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr  # nothing dropped from the client
    monkeypatch.syspath_prepend(str(out.parent))
    for name in [m for m in sys.modules if m.startswith("kyc_api_client")]:
        del sys.modules[name]
    client_mod = importlib.import_module("kyc_api_client")
    post_consent = importlib.import_module("kyc_api_client.api.consent.post_consent")
    post_verification = importlib.import_module("kyc_api_client.api.verifications.post_verification")
    get_verification = importlib.import_module("kyc_api_client.api.verifications.get_verification")
    get_export = importlib.import_module("kyc_api_client.api.subjects.get_export_by_query")
    models = importlib.import_module("kyc_api_client.models")
    types = importlib.import_module("kyc_api_client.types")

    api.http.headers["X-API-Key"] = api.key
    client = client_mod.Client(base_url="http://testserver")
    client.set_httpx_client(api.http)

    consent = post_consent.sync(
        client=client,
        body=models.ConsentIn(
            subject_ref="acct/42",
            purposes=[models.ConsentInPurposesItem.REAL_NAME_VERIFICATION, models.ConsentInPurposesItem.BIOMETRIC_PROCESSING],
            policy_version="2026-01",
            locale="zh-CN",
            channel="ios_app",
            text_sha256=CONSENT_TEXT_SHA,
        ),
    )
    assert isinstance(consent, models.ConsentOut) and consent.subject_ref == "acct/42"

    form = models.VerificationForm(
        consent_id=consent.id,
        id_front=types.File(payload=io.BytesIO(api.fake.id_card(ALICE)), file_name="front.png", mime_type="image/png"),
        selfie=types.File(payload=io.BytesIO(png(ALICE)), file_name="selfie.png", mime_type="image/png"),
    )
    verification = post_verification.sync(client=client, body=form)
    assert isinstance(verification, models.VerificationOut), verification
    assert verification.status == models.VerificationOutStatus.APPROVED
    again = get_verification.sync(client=client, verification_id=verification.id)
    assert isinstance(again, models.VerificationOut) and again.id == verification.id

    export = get_export.sync(client=client, subject_ref="acct/42")
    assert isinstance(export, models.SubjectExportOut) and export.subject_ref == "acct/42"
