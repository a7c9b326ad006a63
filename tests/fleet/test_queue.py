"""Verifications through the real task queue: the API (this process) enqueues, a
``kyc worker`` process runs the job and stores it; over RabbitMQ and over Redis.
(FAKE engines in the worker, tests/fleet/fleet_fakes.py: this checks the fleet, not the models.)"""

from __future__ import annotations

import time

import pytest

from tests.fleet.fleet_fakes import id_card
from tests.fleet.harness import Fleet, broker_params, delete_amqp_queues, fleet_settings, resolve_broker, start_api
from tests.fleet.conftest import REDIS_URL
from tests.service.fakes import png

ALICE = (200, 150, 120)
BOB = (40, 90, 200)


@pytest.fixture(params=broker_params())
def fleet(request, tmp_path, redis_prefix):
    broker = resolve_broker(request.param)
    settings, env = fleet_settings(tmp_path, broker, REDIS_URL, redis_prefix)
    api = start_api(settings)
    f = Fleet(settings, env)
    f.api = api
    yield f
    f.stop()
    api.http.__exit__(None, None, None)
    queues = [f"{settings.queue_prefix}.{r}" for r in ("ocr", "face", "liveness")]
    if request.param == "amqp":
        delete_amqp_queues(broker, queues)
        from kombu import pools

        pools.reset()  # close this process's pooled broker connections
    else:
        import redis

        r = redis.Redis.from_url(broker)
        for q in queues:
            r.delete(q, f"_kombu.binding.{q}", f"_kombu.binding_permanent.{q}")
            r.zrem("_kombu.binding_deadlines", q, "celery.pidbox")
        if not r.zcard("_kombu.binding_deadlines"):
            r.delete("_kombu.binding_deadlines")
        r.close()


@pytest.mark.slow
def test_sync_and_async_verifications_run_on_a_worker(fleet):
    api = fleet.api
    fleet.start_worker()
    cid = api.consent("alice")
    r = api.verify(cid, id_card(ALICE), png(ALICE))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "approved" and body["document"]["fields"]["id_number"] == "1101**********183X"
    # the same Idempotency-Key replays across the queue too
    r1 = api.verify(cid, id_card(ALICE, marker=1), png(ALICE), idem="k")
    r2 = api.verify(cid, id_card(ALICE, marker=1), png(ALICE), idem="k")
    assert (r1.status_code, r2.status_code) == (201, 200) and r1.json()["id"] == r2.json()["id"]
    # input the subject must fix comes back with its code
    bad = api.verify(cid, png((9, 9, 9)), png(ALICE))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "document_not_found"
    # asynchronous: 202 at once, then the result
    files = {"id_front": ("f.png", id_card(BOB), "image/png"), "selfie": ("s.png", png(ALICE), "image/png")}
    a = api.http.post("/v1/verifications", data={"consent_id": cid}, files=files, headers={**api.headers, "Prefer": "respond-async"})
    assert a.status_code == 202, a.text
    end = time.time() + 20
    while time.time() < end:
        got = api.http.get(a.headers["Location"], headers=api.headers).json()
        if got["status"] != "processing":
            break
        time.sleep(0.1)
    assert got["status"] == "rejected" and "face_mismatch" in got["reasons"]
    # nothing of the job is left in shared state but its record: the job key is gone
    assert api.services.verifications.state.get("jobkey:" + a.json()["id"]) is None


@pytest.mark.slow
def test_no_worker_means_deadline_then_the_job_is_dropped(fleet, tmp_path):
    api = fleet.api
    api.app.state.services.verifications.settings = api.app.state.settings.model_copy(update={"verification_deadline_s": 1.0})
    cid = api.consent("alice")
    r = api.verify(cid, id_card(ALICE), png(ALICE))
    assert r.status_code == 504 and r.json()["error"]["code"] == "deadline_exceeded"
    jobs = api.services.verifications.jobs
    fleet.start_worker()  # comes up late: it must not store the abandoned job
    time.sleep(2.0)
    from sqlalchemy import func, select

    from kyc.storage import Verification

    with api.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Verification)) == 0
    assert jobs is not None


@pytest.mark.slow
def test_stages_go_to_their_resource_queues(fleet):
    """A worker taking only ``ocr`` reads the document but cannot finish the job; a worker
    for ``liveness,face`` (a GPU host, say) finishes it."""
    api = fleet.api
    fleet.start_worker(queues="ocr")
    cid = api.consent("alice")
    files = {"id_front": ("f.png", id_card(ALICE), "image/png"), "selfie": ("s.png", png(ALICE), "image/png")}
    a = api.http.post("/v1/verifications", data={"consent_id": cid}, files=files, headers={**api.headers, "Prefer": "respond-async"})
    assert a.status_code == 202
    time.sleep(2.0)
    assert api.http.get(a.headers["Location"], headers=api.headers).json()["status"] == "processing"
    assert b"staged:liveness" in fleet.logs[0].read_bytes()
    fleet.start_worker(queues="liveness,face")
    end = time.time() + 20
    while time.time() < end:
        got = api.http.get(a.headers["Location"], headers=api.headers).json()
        if got["status"] != "processing":
            break
        time.sleep(0.1)
    assert got["status"] == "approved"
    assert b"staged:face" in fleet.logs[1].read_bytes() and b"done stage=face" in fleet.logs[1].read_bytes()
