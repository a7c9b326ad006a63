"""Liveness sessions in shared state: the SessionStore contract, from memory and Redis."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from kyc.errors import KycError
from kyc.fleet.sessions import StateSessionStore, result_from_bytes, result_to_bytes
from kyc.liveness import ActionEvidence, ActiveResult, InMemorySessionStore

KEY = b"k" * 32


def _result() -> ActiveResult:
    frame = np.arange(48 * 40 * 3, dtype=np.uint8).reshape(48, 40, 3)
    return ActiveResult(
        live=True,
        score=0.93,
        reasons=[],
        actions=[ActionEvidence("blink", True, 3, 9, {"ear_drop": 0.4})],
        best_frame=frame,
        best_frame_index=5,
        checks={"motion": 0.8},
        measurements={"frames": 30.0},
    )


@pytest.fixture(params=["in-memory-store", "state-store"])
def store(request, state):
    if request.param == "in-memory-store":
        return InMemorySessionStore(ttl_s=2)
    return StateSessionStore(state, KEY, ttl_s=2)


def _code(fn, *args) -> str:
    with pytest.raises(KycError) as e:
        fn(*args)
    return e.value.code


def test_session_lifecycle_is_single_use(store):
    s = store.create_session(["blink", "turn_left"])
    assert store.get(s.id).nonce == s.nonce and store.get(s.id).actions == ["blink", "turn_left"]
    assert store.claim(s.id).state == "claimed"
    assert _code(store.claim, s.id) == "liveness_session_used"
    assert _code(store.get, s.id) == "liveness_session_used"
    store.finish(s.id, _result())
    got = store.take_result(s.id)
    assert got.live and got.actions[0].measurements == {"ear_drop": 0.4}
    assert np.array_equal(got.best_frame, _result().best_frame)
    assert _code(store.take_result, s.id) == "liveness_result_not_found"
    assert _code(store.get, "nope") == "liveness_session_not_found"


def test_concurrent_claims_have_one_winner(store):
    s = store.create_session()
    wins, losses = [], []

    def claim():
        try:
            store.claim(s.id)
            wins.append(1)
        except KycError as exc:
            losses.append(exc.code)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and set(losses) == {"liveness_session_used"}


def test_result_is_sealed_in_shared_state(state):
    store = StateSessionStore(state, KEY)
    s = store.create_session()
    store.claim(s.id)
    store.finish(s.id, _result())
    raw = state.get("lvres:" + s.id)
    assert raw is not None and _result().best_frame.tobytes()[:64] not in raw and b"blink" not in raw
    assert StateSessionStore(state, b"x" * 32).take_result  # a store with another key cannot read it:
    with pytest.raises(Exception):
        StateSessionStore(state, b"x" * 32).take_result(s.id)


def test_result_round_trips_without_a_frame():
    r = _result()
    r.best_frame = None
    assert result_from_bytes(result_to_bytes(r)).best_frame is None
