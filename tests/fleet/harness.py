"""A fleet for tests: the API (in this process) plus ``kyc worker`` processes, over a real
broker and Redis. Brokers: RabbitMQ on 127.0.0.1:5672 (guest) with queue names of the
test's own, Redis database 13, or a private ``redis-server`` this harness starts (so a
test may stop and restart it). Everything it makes is removed afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kyc.config import Settings
from tests.fleet.conftest import REDIS_URL, redis_reason
from tests.service.conftest import POLICY_TEXT_SHA, Api

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("KYC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PRIVATE_REDIS_PORT = 18131


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def amqp_reason() -> str | None:
    return None if port_open("127.0.0.1", 5672) else "no RabbitMQ answers at 127.0.0.1:5672"


class PrivateRedis:
    """A redis-server of this test's own (no persistence by default), to stop and start at will."""

    def __init__(self, tmp: Path, port: int = PRIVATE_REDIS_PORT, bind: str = "127.0.0.1", netns: str | None = None) -> None:
        self.dir = tmp / f"redis-{port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port, self.bind, self.netns = port, bind, netns
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.bind}:{self.port}/0"

    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", self.bind, "--dir", str(self.dir), "--save", "", "--appendonly", "no"]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns, *cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 10
        while time.time() < end:
            try:
                import redis

                if redis.Redis(host=self.bind, port=self.port, socket_connect_timeout=0.3).ping():
                    return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def client(self):
        import redis

        return redis.Redis(host=self.bind, port=self.port)


def skip_without_redis_server() -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")


@dataclass
class Fleet:
    settings: Settings
    env: dict[str, str]
    workers: list[subprocess.Popen] = field(default_factory=list)
    prefix: list[str] = field(default_factory=list)  # e.g. ["ip", "netns", "exec", NAME]
    logs: list[Path] = field(default_factory=list)

    def start_worker(
        self, concurrency: int = 1, extra_env: dict[str, str] | None = None, wait: bool = True, queues: str = "ocr,liveness,face"
    ) -> subprocess.Popen:
        log = Path(self.env["KYC_DATA_DIR"]) / f"worker-{len(self.workers)}-{time.time_ns()}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*self.prefix, sys.executable, "-c", "from kyc.cli import main; main()", "worker", "--concurrency", str(concurrency), "--queues", queues],
                env={**self.env, **(extra_env or {})},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL takes the pool children too
            )
        self.workers.append(proc)
        if wait:
            end = time.time() + 60
            while time.time() < end and b"ready." not in log.read_bytes():
                if proc.poll() is not None:
                    raise RuntimeError("worker exited:\n" + log.read_text()[-3000:])
                time.sleep(0.1)
            if b"ready." not in log.read_bytes():
                raise RuntimeError("worker not ready:\n" + log.read_text()[-3000:])
        return proc

    def kill_worker(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(20)

    def stop(self) -> None:
        for p in self.workers:
            if p.poll() is None:
                self.kill_worker(p, signal.SIGTERM)
        self.workers.clear()


def fleet_settings(tmp_path: Path, broker_url: str, redis_url: str, redis_prefix: str, **overrides) -> tuple[Settings, dict[str, str]]:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    queue_prefix = "kyct" + uuid.uuid4().hex[:8]
    # The fake engines' selfies stand for a passive "live"; these tests are about the
    # fleet, so passive evidence may approve (the default, active only, is tested in
    # tests/service/test_liveness_rules.py).
    rules = data / "rules.toml"
    rules.write_text('liveness_evidence = "either"\n')
    values = dict(
        environment="test",
        data_dir=data,
        decision_rules_file=rules,
        database_url=f"sqlite:///{data / 'kyc.db'}",
        verification_deadline_s=20,
        purge_interval_s=3600,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        broker_url=broker_url,
        queue_prefix=queue_prefix,
        broker_visibility_timeout_s=4,
        engines_factory="tests.fleet.fleet_fakes:engines",
        webhook_poll_s=0.3,
    )
    values.update(overrides)
    settings = Settings(**values)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
    env.update({f"KYC_{k.upper()}": str(v) for k, v in values.items()})
    env["PYTHONPATH"] = str(ROOT)
    return settings, env


def start_api(settings: Settings):
    """The API in this process (TestClient), with two client keys and a policy."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from kyc.access import create_client
    from kyc.consent import publish_policy

    app = create_app(settings)
    http = TestClient(app)
    http.__enter__()
    db = app.state.services.db
    _, key = create_client(db, "app-one")
    _, other = create_client(db, "app-two")
    publish_policy(db, "2026-01", POLICY_TEXT_SHA, False, actor="test")
    return Api(http, app, None, key, "", other)


def delete_amqp_queues(url: str, names: list[str]) -> None:
    from kombu import Connection

    with Connection(url, connect_timeout=3) as conn:
        ch = conn.channel()
        for n in names:
            try:
                ch.queue_delete(n)
            except Exception:  # noqa: BLE001 - never declared
                ch = conn.channel()


def broker_params():
    return ["amqp", "redis"]


def resolve_broker(kind: str) -> str:
    if kind == "amqp":
        reason = amqp_reason()
        if reason:
            pytest.skip(reason)
        return AMQP_URL
    reason = redis_reason()
    if reason:
        pytest.skip(reason)
    return REDIS_URL
