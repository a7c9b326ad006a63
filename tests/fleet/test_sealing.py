"""Sealed jobs and stage findings: round trips, and nothing readable without the key."""

from __future__ import annotations

import pytest

from kyc.errors import KycError
from kyc.fleet.sealing import open_job, seal_job, unwrap_job_key, wrap_job_key
from kyc.fleet.stages import STAGES, next_stage, open_findings, replay_engines, run_stage, seal_findings
from kyc.vault.envelope import VaultIntegrityError
from kyc.vault.keyring import KeyRing
from kyc.verification import VerificationInput
from tests.fleet.fleet_fakes import engines, id_card
from tests.service.fakes import png


def test_job_round_trip_and_binding():
    inp = VerificationInput(b"front-bytes" * 50, None, b"selfie-bytes" * 50, None)
    key, blob = seal_job("job-1", inp)
    assert b"front-bytes" not in blob and b"selfie-bytes" not in blob
    assert open_job(key, "job-1", blob) == inp
    with pytest.raises(VaultIntegrityError):
        open_job(key, "job-2", blob)  # bound to its job id
    with pytest.raises(VaultIntegrityError):
        open_job(b"x" * 32, "job-1", blob)
    ring = KeyRing([b"k" * 32])
    wrapped = wrap_job_key(ring, "job-1", key)
    assert key not in wrapped and unwrap_job_key(ring, "job-1", wrapped) == key
    with pytest.raises(Exception):
        unwrap_job_key(KeyRing([b"o" * 32]), "job-1", wrapped)  # another KEK cannot
    session = VerificationInput(b"f", b"b", None, "sess-1")
    key2, blob2 = seal_job("job-3", session)
    assert open_job(key2, "job-3", blob2) == session


def test_stages_replay_what_earlier_stages_found():
    assert list(STAGES) == ["ocr", "liveness", "face"] and next_stage("face") is None
    real = engines()
    inp = VerificationInput(id_card((200, 150, 120)), None, png((200, 150, 120)), None)
    found = {}
    for stage in STAGES[:-1]:
        found.update(run_stage(stage, real, inp))
    key = b"j" * 32
    found = open_findings(key, "job", seal_findings(key, "job", found))
    calls = []

    def boom(*_):
        calls.append(1)
        raise AssertionError("must not be called again")

    import dataclasses

    replay = replay_engines(dataclasses.replace(real, read_document=boom, check_passive=boom), found)
    assert replay.read_document(inp.id_front).documents[0].type == "cn_id_front"
    from kyc.images import decode_image

    assert replay.check_passive(decode_image(inp.selfie)).live
    assert not calls
    # an engine's error found earlier is raised again, with its code
    bad = VerificationInput(png((9, 9, 9)), None, png((1, 2, 3)), None)
    replay_bad = replay_engines(real, run_stage("ocr", real, bad))
    with pytest.raises(KycError) as e:
        replay_bad.read_document(bad.id_front)
    assert e.value.code == "document_not_found"


def test_a_worker_puts_the_job_back_when_shared_state_is_away(monkeypatch):
    from celery.exceptions import Reject

    from kyc.config import Settings
    from kyc.fleet import worker
    from kyc.fleet.jobs import JobBook
    from kyc.fleet.state import RedisState

    down = RedisState("redis://127.0.0.1:1/0", timeout_s=0.3)
    settings = Settings(environment="test", broker_retry_after_s=1)
    ctx = worker.WorkerContext(settings, down, JobBook(down, 60), service=None)
    monkeypatch.setattr(worker, "worker_context", lambda: ctx)
    message = dict(job_id="j", client_id="c", actor="a", consent_id="x", subject_id="s", idempotency_key=None,
                   fingerprint="f", completed_event=False, sealed="", stage="ocr", expires_at=0.0)
    with pytest.raises(Reject) as e:
        worker.verify.run(**message)
    assert e.value.requeue
