"""Faults: a worker SIGKILLed mid-job, the broker stopped for a few seconds, an API process
killed with jobs in flight. Nothing is lost, nothing is stored twice, no plaintext is left
in the broker (its append-only file and memory), in shared state or on disk, and clients
get 503 with Retry-After while the queue is unreachable.

The broker is a private ``redis-server`` on 127.0.0.1:18131 that these tests start and
stop (with its append-only file on, so a restart keeps queued jobs, as a deployment
would). Shared state is the test Redis (database 13). FAKE engines in the workers
(tests/fleet/fleet_fakes.py): this checks the fleet, not the models.
``KYC_FAULT_REPEAT=20`` runs each fault that many times in one test.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kyc.storage import AuditEntry, Verification
from tests.fleet.conftest import REDIS_URL
from tests.fleet.fleet_fakes import id_card
from tests.fleet.harness import ROOT, Fleet, PrivateRedis, fleet_settings, skip_without_redis_server, start_api
from tests.service.fakes import png

ALICE = (200, 150, 120)
REPEAT = int(os.environ.get("KYC_FAULT_REPEAT", "1"))
pytestmark = pytest.mark.slow


class AofRedis(PrivateRedis):
    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", self.bind, "--dir", str(self.dir), "--save", "",
               "--appendonly", "yes", "--appendfsync", "always"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 10
        while time.time() < end:
            try:
                if self.client().ping():
                    return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")


@pytest.fixture
def fault_fleet(tmp_path, redis_prefix):
    skip_without_redis_server()
    broker = AofRedis(tmp_path)
    broker.start()
    settings, env = fleet_settings(tmp_path, broker.url, REDIS_URL, redis_prefix, broker_visibility_timeout_s=3)
    api = start_api(settings)
    f = Fleet(settings, env)
    f.api, f.broker = api, broker
    yield f
    f.stop()
    api.http.__exit__(None, None, None)
    from kombu import pools

    pools.reset()  # close this process's pooled broker connections
    broker.stop()


def _markers(*uploads: bytes) -> list[bytes]:
    """Byte strings that would betray a plaintext upload or ID field: raw slices of each
    upload, those slices in base64 (every alignment), and the card's name and number."""
    out = ["张三明".encode(), b"11010519491231183X"]
    for data in uploads:
        chunk = data[40:88]
        out.append(chunk)
        for shift in range(3):
            out.append(base64.b64encode(data[40 + shift : 40 + shift + 48])[4:40])
    return out


def _assert_no_plaintext(fleet: Fleet, uploads: list[bytes]) -> None:
    marks = _markers(*uploads)
    # the broker: every key's serialised value, and its append-only file on disk
    r = fleet.broker.client()
    blobs = [r.dump(k) or b"" for k in r.scan_iter("*")]
    r.close()
    for path in Path(fleet.broker.dir).rglob("*"):
        if path.is_file():
            blobs.append(path.read_bytes())
    # shared state under this test's prefix
    import redis

    state = redis.Redis.from_url(REDIS_URL)
    blobs += [state.dump(k) or b"" for k in state.scan_iter(fleet.settings.redis_prefix + "*")]
    state.close()
    # the data directory: database, key file, worker logs
    for path in Path(fleet.settings.data_dir).rglob("*"):
        if path.is_file():
            blobs.append(path.read_bytes())
    for blob in blobs:
        for m in marks:
            assert m not in blob, "plaintext found"


def _count(api, vid: str | None = None) -> tuple[int, int]:
    with api.services.db.session() as s:
        q = select(func.count()).select_from(Verification)
        a = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "verification.create")
        if vid:
            q = q.where(Verification.id == vid)
            a = a.where(AuditEntry.target == f"verification:{vid}")
        return s.scalar(q), s.scalar(a)


def _post_async(api, cid, front, selfie, idem=None):
    files = {"id_front": ("f.png", front, "image/png"), "selfie": ("s.png", selfie, "image/png")}
    headers = {**api.headers, "Prefer": "respond-async", **({"Idempotency-Key": idem} if idem else {})}
    return api.http.post("/v1/verifications", data={"consent_id": cid}, files=files, headers=headers)


def _wait_done(api, vid, timeout=40.0) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        got = api.http.get(f"/v1/verifications/{vid}", headers=api.headers).json()
        if got["status"] != "processing":
            return got
        time.sleep(0.1)
    raise AssertionError(f"job {vid} still processing")


def _wait_log(path: Path, text: bytes, timeout=30.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if text in path.read_bytes():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in {path.name}")


def test_worker_killed_mid_job_is_retried_and_stored_once(fault_fleet):
    api = fault_fleet.api
    cid = api.consent("alice")
    spare = fault_fleet.start_worker()  # a healthy worker, taking no face work until the victim dies
    fault_fleet.kill_worker(spare, signal.SIGTERM)
    uploads = []
    for i in range(REPEAT):
        victim = fault_fleet.start_worker(extra_env={"KYC_TEST_ENGINE_DELAY_S": "30"})
        front, selfie = id_card(ALICE, marker=i), png(ALICE, marker=i)
        uploads += [front, selfie]
        r = _post_async(api, cid, front, selfie)
        assert r.status_code == 202
        vid = r.json()["id"]
        _wait_log(fault_fleet.logs[-1], b"staged:face")
        time.sleep(0.5)  # the face stage is running (it sleeps in the template)
        assert api.http.get(f"/v1/verifications/{vid}", headers=api.headers).json()["status"] == "processing"
        fault_fleet.kill_worker(victim)  # SIGKILL, the whole process group
        rescuer = fault_fleet.start_worker()
        got = _wait_done(api, vid)
        assert got["status"] == "approved", got
        assert _count(api, vid) == (1, 1)
        fault_fleet.kill_worker(rescuer, signal.SIGTERM)
    assert _count(api) == (REPEAT, REPEAT)
    _assert_no_plaintext(fault_fleet, uploads)


def test_a_job_delivered_twice_is_stored_once(fault_fleet):
    """The worst case of a kill: after the commit, before the acknowledgement. The second
    delivery finds the row and stores nothing."""
    from kyc.fleet.queue import JobQueue
    from kyc.fleet.worker import WorkerContext, run_job
    from kyc.verification import VerificationService, load_rules
    from tests.fleet.fleet_fakes import engines

    api = fault_fleet.api
    cid = api.consent("alice")
    sent: list[dict] = []

    class Capture:
        def send_task(self, name, kwargs, **_):
            sent.append(kwargs)

    svc = api.services.verifications
    queue = JobQueue(svc.settings, svc.state, api.services.vault, celery_app=Capture())
    queue.enqueue("job-twice", client_id=svc.get.__self__ and _client_id(api), actor="test", consent_id=cid, subject_id="s",
                  inp=__import__("kyc.verification", fromlist=["VerificationInput"]).VerificationInput(id_card(ALICE), None, png(ALICE)),
                  idempotency_key=None, fingerprint="f", completed_event=False)
    worker_svc = VerificationService(svc.settings, api.services.db, api.services.vault, engines(), load_rules(None), state=svc.state)
    ctx = WorkerContext(svc.settings, svc.state, svc.jobs, worker_svc)
    message = {**sent[0], "stage": "face"}
    wrapped = svc.state.get("jobkey:job-twice")
    assert run_job(ctx, **message) == "done"
    svc.state.put("jobkey:job-twice", wrapped, 60)  # as if the first worker died before deleting it
    svc.jobs.move("job-twice", "running", ("done",))  # and before marking the job done
    assert run_job(ctx, **message) == "done"
    assert _count(api, "job-twice") == (1, 1)


def _client_id(api) -> str:
    from kyc.storage import ApiClient

    with api.services.db.session() as s:
        return s.query(ApiClient).filter_by(name="app-one").one().id


def test_broker_down_gives_503_then_recovers_without_loss(fault_fleet):
    api = fault_fleet.api
    cid = api.consent("alice")
    fault_fleet.start_worker(extra_env={"KYC_TEST_ENGINE_DELAY_S": "1.5"})
    uploads = []
    for i in range(REPEAT):
        front, selfie = id_card(ALICE, marker=1000 + i), png(ALICE, marker=1000 + i)
        uploads += [front, selfie]
        r = _post_async(api, cid, front, selfie)  # in flight while the broker goes away
        assert r.status_code == 202
        inflight = r.json()["id"]
        time.sleep(0.3)
        fault_fleet.broker.stop()
        t0 = time.time()
        down = api.verify(cid, id_card(ALICE, marker=5000 + i), png(ALICE))
        assert down.status_code == 503 and down.json()["error"]["code"] == "queue_unavailable"
        assert int(down.headers["Retry-After"]) >= 1 and time.time() - t0 < 10
        time.sleep(2.0)
        fault_fleet.broker.start()
        got = _wait_done(api, inflight, timeout=60)
        assert got["status"] == "approved" and _count(api, inflight) == (1, 1)
        ok = api.verify(cid, id_card(ALICE, marker=9000 + i), png(ALICE))
        assert ok.status_code == 201, ok.text
    assert _count(api) == (2 * REPEAT, 2 * REPEAT)
    _assert_no_plaintext(fault_fleet, uploads)


def _serve(env: dict, port: int, log: Path) -> subprocess.Popen:
    from tests.fleet.harness import port_open

    assert not port_open("127.0.0.1", port), f"port {port} is taken (a server left over?)"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from kyc.cli import main; main()", "serve", "--port", str(port)],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    end = time.time() + 60
    while time.time() < end:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code < 500:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("API did not start:\n" + log.read_text()[-3000:])


def test_api_killed_with_jobs_in_flight_loses_nothing(fault_fleet):
    api = fault_fleet.api
    cid = api.consent("alice")
    fault_fleet.start_worker(extra_env={"KYC_TEST_ENGINE_DELAY_S": "0.3"})
    port = 18133
    log = Path(fault_fleet.settings.data_dir) / "api.log"
    servers: list[subprocess.Popen] = []
    try:
        _api_restarts(api, cid, fault_fleet, port, log, servers)
    finally:
        for p in servers:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)


def _api_restarts(api, cid, fault_fleet, port, log, servers) -> None:
    for i in range(REPEAT):
        server = _serve(fault_fleet.env, port, log)
        servers.append(server)
        base = f"http://127.0.0.1:{port}"
        keys = [f"restart-{i}-{n}" for n in range(3)]
        bodies = {}

        def call(k, n):
            files = {"id_front": ("f.png", id_card(ALICE, marker=20000 + i * 10 + n), "image/png"),
                     "selfie": ("s.png", png(ALICE, marker=n), "image/png")}
            try:
                httpx.post(f"{base}/v1/verifications", data={"consent_id": cid}, files=files,
                           headers={**api.headers, "Idempotency-Key": k}, timeout=30)
            except httpx.HTTPError:
                pass  # the API died under it: the client retries below
            bodies[k] = files

        threads = [threading.Thread(target=call, args=(k, n)) for n, k in enumerate(keys)]
        for t in threads:
            t.start()
        time.sleep(0.4)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
        for t in threads:
            t.join()
        server = _serve(fault_fleet.env, port, log)  # the replacement
        servers.append(server)
        ids = set()
        for k in keys:
            r = httpx.post(f"{base}/v1/verifications", data={"consent_id": cid}, files=bodies[k],
                           headers={**api.headers, "Idempotency-Key": k}, timeout=30)
            assert r.status_code in (200, 201), r.text
            ids.add(r.json()["id"])
        assert len(ids) == 3 and all(_count(api, v) == (1, 1) for v in ids)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    assert _count(api) == (3 * REPEAT, 3 * REPEAT)
