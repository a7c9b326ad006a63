"""Several hosts on one machine: the broker (a private redis-server, also the shared
state), the API and two workers each in a network namespace of its own, joined by veth
pairs, so every message crosses a real network path (10.213.x.x addresses only).
Namespaces and links are made by the test and removed after it. The database is a SQLite
file all of them open (a deployment uses PostgreSQL; what is under test is the queue).
Needs root, iproute2 (`ip`) and redis-server; skips with the reason otherwise.
FAKE engines in the workers (tests/fleet/fleet_fakes.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fleet.fleet_fakes import id_card
from tests.fleet.harness import ROOT, Fleet, PrivateRedis, fleet_settings
from tests.service.conftest import CONSENT_TEXT_SHA, POLICY_TEXT_SHA
from tests.service.fakes import png

pytestmark = pytest.mark.slow
ALICE = (200, 150, 120)
TAG = f"k13{os.getpid() % 100000}"
# namespace -> (its address on the link to the broker, the broker's address on that link)
LINKS = {"api": ("10.213.1.2", "10.213.1.1"), "w1": ("10.213.2.2", "10.213.2.1"), "w2": ("10.213.3.2", "10.213.3.1")}
ROOT_LINK = ("10.213.9.1", "10.213.9.2")  # this test (root namespace) <-> the API namespace


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _ns(name: str) -> str:
    return f"{TAG}-{name}"


@pytest.fixture
def namespaces():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (`ip`) is not installed")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    made: list[str] = []
    try:
        for name in ("broker", *LINKS):
            _ip("netns", "add", _ns(name))
            made.append(_ns(name))
            _ip("-n", _ns(name), "link", "set", "lo", "up")
        for i, (name, (addr, broker_addr)) in enumerate(LINKS.items()):
            a, b = f"{TAG}b{i}", f"{TAG}p{i}"
            _ip("link", "add", a, "netns", _ns("broker"), "type", "veth", "peer", "name", b, "netns", _ns(name))
            _ip("-n", _ns("broker"), "addr", "add", f"{broker_addr}/30", "dev", a)
            _ip("-n", _ns("broker"), "link", "set", a, "up")
            _ip("-n", _ns(name), "addr", "add", f"{addr}/30", "dev", b)
            _ip("-n", _ns(name), "link", "set", b, "up")
        host, api = f"{TAG}h", f"{TAG}a"
        _ip("link", "add", host, "type", "veth", "peer", "name", api, "netns", _ns("api"))
        _ip("addr", "add", f"{ROOT_LINK[0]}/30", "dev", host)
        _ip("link", "set", host, "up")
        _ip("-n", _ns("api"), "addr", "add", f"{ROOT_LINK[1]}/30", "dev", api)
        _ip("-n", _ns("api"), "link", "set", api, "up")
    except subprocess.CalledProcessError as exc:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        pytest.skip(f"could not make network namespaces here: {exc.stderr.decode().strip()}")
    yield _ns
    for ns in made:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)  # their veths go with them


def test_api_two_workers_and_broker_on_separate_network_namespaces(namespaces, tmp_path):
    broker = PrivateRedis(tmp_path, port=18137, bind="0.0.0.0", netns=namespaces("broker"))
    _start_redis_in_ns(broker)
    procs: list[subprocess.Popen] = []
    try:
        # the API: reaches the broker at 10.213.1.1, is reached by this test at 10.213.9.2
        api_addr, api_broker = LINKS["api"]
        settings, env = fleet_settings(tmp_path, f"redis://{api_broker}:18137/0", f"redis://{api_broker}:18137/1", "kyc:")
        key = _prepare_database(settings)
        api_log = tmp_path / "api.log"
        with api_log.open("wb") as out:
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", namespaces("api"), sys.executable, "-c", "from kyc.cli import main; main()",
                 "serve", "--host", ROOT_LINK[1], "--port", "18136"],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            ))
        base = f"http://{ROOT_LINK[1]}:18136"
        _wait_http(base, api_log)
        # two workers, each on its own link to the broker
        fleets = []
        for name in ("w1", "w2"):
            _, broker_addr = LINKS[name]
            wenv = {**env, "KYC_BROKER_URL": f"redis://{broker_addr}:18137/0", "KYC_REDIS_URL": f"redis://{broker_addr}:18137/1"}
            f = Fleet(settings, wenv, prefix=["ip", "netns", "exec", namespaces(name)])
            procs.append(f.start_worker(concurrency=1))
            fleets.append(f)
        # nothing but the network joins them: the workers cannot see the API's address
        blocked = subprocess.run(["ip", "netns", "exec", namespaces("w1"), "ping", "-c1", "-W1", ROOT_LINK[1]], capture_output=True)
        assert blocked.returncode != 0
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as http:
            consent = http.post("/v1/consents", json={
                "subject_ref": "alice", "purposes": ["real_name_verification", "biometric_processing"],
                "policy_version": "2026-01", "locale": "zh-CN", "channel": "ios_app", "text_sha256": CONSENT_TEXT_SHA,
            })
            assert consent.status_code == 201, consent.text
            cid = consent.json()["id"]
            ids = set()
            for i in range(8):
                files = {"id_front": ("f.png", id_card(ALICE, marker=i), "image/png"), "selfie": ("s.png", png(ALICE, marker=i), "image/png")}
                headers = {"Prefer": "respond-async"} if i % 2 else {}
                r = http.post("/v1/verifications", data={"consent_id": cid}, files=files, headers=headers)
                assert r.status_code in (201, 202), r.text
                ids.add(r.json()["id"])
            end = time.time() + 60
            pending = set(ids)
            while pending and time.time() < end:
                pending = {v for v in pending if http.get(f"/v1/verifications/{v}").json()["status"] == "processing"}
                time.sleep(0.2)
            assert not pending
            assert all(http.get(f"/v1/verifications/{v}").json()["status"] == "approved" for v in ids)
        work = [f.logs[0].read_bytes().count(b"stage=") for f in fleets]
        assert sum(work) == 8 * 3 and all(w > 0 for w in work), work  # both workers took stages over the network
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        broker.stop()


def _start_redis_in_ns(broker: PrivateRedis) -> None:
    cmd = ["ip", "netns", "exec", broker.netns, "redis-server", "--port", str(broker.port), "--bind", "0.0.0.0",
           "--protected-mode", "no", "--dir", str(broker.dir), "--save", "", "--appendonly", "no"]
    broker.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 10
    while time.time() < end:
        r = subprocess.run(["ip", "netns", "exec", broker.netns, "redis-cli", "-p", str(broker.port), "ping"], capture_output=True)
        if r.stdout.strip() == b"PONG":
            return
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start in its namespace")


def _prepare_database(settings) -> str:
    from kyc.access import create_client
    from kyc.consent import publish_policy
    from kyc.storage import Database
    from kyc.vault import Vault

    db = Database.from_settings(settings)
    db.migrate()
    Vault(settings).ensure_service_keys(db)
    _, key = create_client(db, "app-one")
    publish_policy(db, "2026-01", POLICY_TEXT_SHA, False, actor="test")
    db.dispose()
    return key


def _wait_http(base: str, log: Path) -> None:
    end = time.time() + 60
    while time.time() < end:
        try:
            if httpx.get(base + "/v1/health", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("API did not start:\n" + log.read_text()[-3000:])
