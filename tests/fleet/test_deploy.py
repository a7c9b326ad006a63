"""``kyc serve --workers N`` and the deployment files in deploy/."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from kyc.config import Settings
from tests.fleet.conftest import REDIS_URL
from tests.fleet.harness import ROOT, port_open

DEPLOY = ROOT / "deploy"


def _kyc_vars(text: str) -> set[str]:
    return set(re.findall(r"\bKYC_[A-Z_]+", text))


def test_deploy_files_name_real_settings_and_commands():
    fields = {f"KYC_{name.upper()}" for name in Settings.model_fields}
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert {"postgres", "rabbitmq", "redis", "api", "worker"} <= set(compose["services"])
    for path in DEPLOY.iterdir():
        unknown = _kyc_vars(path.read_text()) - fields - {"KYC_WORKER_QUEUES"}
        assert not unknown, f"{path.name} names settings that do not exist: {unknown}"
    from typer.testing import CliRunner

    from kyc.cli import app

    assert "--workers" in CliRunner().invoke(app, ["serve", "--help"]).output
    out = CliRunner().invoke(app, ["worker", "--help"]).output
    assert "--queues" in out and "--concurrency" in out
    for service in ("worker", "worker-gpu"):
        queues = compose["services"][service]["command"][compose["services"][service]["command"].index("--queues") + 1]
        assert set(queues.split(",")) <= {"ocr", "liveness", "face"}


def test_worker_refuses_to_start_without_a_broker(tmp_path):
    from typer.testing import CliRunner

    from kyc.cli import app

    env = {"KYC_BROKER_URL": "", "KYC_DATA_DIR": str(tmp_path)}
    from kyc.config import get_settings

    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["worker"], env=env)
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2 and "KYC_BROKER_URL" in r.output


@pytest.mark.slow
def test_serve_workers_runs_n_processes_sharing_limits(tmp_path, redis_prefix):
    port = 18134
    assert not port_open("127.0.0.1", port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
    env.update(
        PYTHONPATH=str(ROOT),
        KYC_ENVIRONMENT="development",
        KYC_DATA_DIR=str(tmp_path / "data"),
        KYC_REDIS_URL=REDIS_URL,
        KYC_REDIS_PREFIX=redis_prefix,
        KYC_RATE_LIMIT_PER_MINUTE="10",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from kyc.cli import main; main()", "serve", "--port", str(port), "--workers", "2"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        end = time.time() + 90
        key_file = tmp_path / "data" / "dev-api-key"
        while time.time() < end:
            kids = psutil.Process(proc.pid).children(recursive=True)
            if key_file.exists() and port_open("127.0.0.1", port) and len(kids) >= 2:
                break
            time.sleep(0.3)
        key = key_file.read_text().strip()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            codes = [http.get("/v1/verifications/none", headers={"X-API-Key": key}).status_code for _ in range(14)]
        assert codes.count(429) == 4, codes  # one limit (10 a minute) for the key across both processes
        pids = {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
        assert len(pids) >= 2
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
