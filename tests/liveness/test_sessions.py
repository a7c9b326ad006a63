"""Single-use sessions in the in-memory store (no models)."""

import threading
import time

import pytest

from kyc.errors import KycError
from kyc.liveness import ACTIONS, InMemorySessionStore
from kyc.liveness._active import ActiveResult
from kyc.liveness._session import HEAD_ACTIONS, random_actions


def code(fn, *args):
    with pytest.raises(KycError) as exc:
        fn(*args)
    return exc.value.code


def test_random_actions_are_distinct_and_include_a_head_movement():
    seen = set()
    for _ in range(300):
        a = random_actions()
        assert 2 <= len(a) <= 3 and len(set(a)) == len(a) and set(a) <= set(ACTIONS)
        assert HEAD_ACTIONS & set(a)
        seen.add(tuple(a))
    assert len(seen) > 30  # really random


def test_session_fields_and_expiry():
    store = InMemorySessionStore(ttl_s=120)
    s = store.create_session()
    assert len(s.id) >= 20 and len(s.nonce) >= 20 and s.id != s.nonce
    assert 110 <= (s.expires_at - s.created_at).total_seconds() <= 130
    assert s.state == "created" and not s.expired()
    assert set(s.public()) == {"id", "nonce", "actions", "created_at", "expires_at"}


def test_claim_is_single_use():
    store = InMemorySessionStore()
    s = store.create_session(["nod", "blink"])
    assert store.claim(s.id).state == "claimed"
    assert code(store.claim, s.id) == "liveness_session_used"
    assert code(store.get, s.id) == "liveness_session_used"


def test_unknown_and_expired_sessions():
    store = InMemorySessionStore(ttl_s=0.05)
    assert code(store.claim, "nope") == "liveness_session_not_found"
    s = store.create_session()
    time.sleep(0.1)
    assert code(store.claim, s.id) == "liveness_session_expired"


def test_concurrent_claims_have_one_winner():
    store = InMemorySessionStore()
    s = store.create_session()
    wins, losses = [], []
    barrier = threading.Barrier(8)

    def go():
        barrier.wait()
        try:
            store.claim(s.id)
            wins.append(1)
        except KycError as exc:
            losses.append(exc.code)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and losses == ["liveness_session_used"] * 7


def test_result_is_taken_once():
    store = InMemorySessionStore()
    s = store.create_session()
    assert code(store.take_result, s.id) == "liveness_result_not_found"
    store.claim(s.id)
    result = ActiveResult(live=False, score=0.1, reasons=["planar_motion"], actions=[])
    store.finish(s.id, result)
    assert store.take_result(s.id) is result
    assert code(store.take_result, s.id) == "liveness_result_not_found"
    assert code(store.finish, s.id, result) == "liveness_session_used"


def test_bad_actions_are_refused():
    with pytest.raises(ValueError):
        InMemorySessionStore().create_session(["smile"])
