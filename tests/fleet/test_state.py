"""The shared-state interface: the same behaviour from process memory and from Redis."""

from __future__ import annotations

import threading
import time

import pytest

from kyc.fleet.state import RedisState, StateUnavailable


def test_token_bucket_allows_capacity_then_says_how_long_to_wait(state):
    assert all(state.token_bucket("b", 3, 1.0) is None for _ in range(3))
    wait = state.token_bucket("b", 3, 1.0)
    assert wait is not None and 0 < wait <= 1.0
    assert state.token_bucket("other", 3, 1.0) is None  # keys are independent
    time.sleep(0.35)
    wait2 = state.token_bucket("b", 3, 1.0)
    assert wait2 is not None and wait2 < wait  # refills with time


def test_events_are_counted_in_a_sliding_window(state):
    assert state.count_events("e", 0.5) == 0
    assert state.add_event("e", 0.5) == 1
    assert state.add_event("e", 0.5) == 2
    assert state.count_events("e", 0.5) == 2
    time.sleep(0.6)
    assert state.count_events("e", 0.5) == 0
    assert state.add_event("e", 0.5) == 1


def test_lease_has_one_holder_and_expires(state):
    token = state.acquire("l", 0.4)
    assert token and state.acquire("l", 0.4) is None
    state.release("l", "not-the-token")  # a stranger cannot release it
    assert state.acquire("l", 0.4) is None
    state.release("l", token)
    t2 = state.acquire("l", 0.3)
    assert t2 is not None
    time.sleep(0.45)  # its holder died: the lease runs out
    assert state.acquire("l", 0.3) is not None


def test_values_expire_take_is_once_and_swap_compares(state):
    assert state.put("v", b"a", 0.3)
    assert not state.put("v", b"b", 5, only_if_absent=True)
    assert state.get("v") == b"a"
    assert not state.swap("v", b"x", b"c", 5)
    assert state.swap("v", b"a", b"c", 5) and state.get("v") == b"c"
    assert state.take("v") == b"c" and state.take("v") is None and state.get("v") is None
    state.put("w", b"1", 0.2)
    time.sleep(0.3)
    assert state.get("w") is None and not state.swap("w", b"1", b"2", 5)
    state.put("d", b"x", 5)
    state.delete("d")
    assert state.get("d") is None


def test_concurrent_takes_and_swaps_have_one_winner(state):
    state.put("t", b"prize", 5)
    state.put("s", b"created", 5)
    takes, swaps = [], []

    def contend():
        takes.append(state.take("t"))
        swaps.append(state.swap("s", b"created", b"claimed", 5))

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [t for t in takes if t is not None] == [b"prize"]
    assert swaps.count(True) == 1


def test_unreachable_redis_raises_state_unavailable():
    s = RedisState("redis://127.0.0.1:1/0", timeout_s=0.5)
    with pytest.raises(StateUnavailable):
        s.get("x")
    assert s.ping() is False


def test_sliding_window_allows_exactly_n_per_window(state):
    assert all(state.window_hit("w", 3, 0.6) is None for _ in range(3))
    wait = state.window_hit("w", 3, 0.6)
    assert wait is not None and 0 < wait <= 0.6
    assert state.window_hit("w", 3, 0.6, count=False) is not None  # a check counts nothing
    time.sleep(wait + 0.05)
    assert state.window_hit("w", 3, 0.6) is None
