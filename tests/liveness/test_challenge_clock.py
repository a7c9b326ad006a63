"""The active check's clock: footage longer than the time since the challenge was issued
was recorded before the random actions were known (a pre-recorded replay)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from kyc.liveness import Frame, InMemorySessionStore
from kyc.liveness._active import LIMITS, ActiveResult, _check_challenge_clock


def _frames(seconds: float, fps: float = 15.0) -> list[Frame]:
    img = np.zeros((8, 8, 3), np.uint8)
    return [Frame(img, i / fps) for i in range(int(seconds * fps) + 1)]


def _result() -> ActiveResult:
    return ActiveResult(live=True, score=0.9, reasons=[], actions=[], checks={"x": 0.9})


def test_footage_recorded_after_the_challenge_passes():
    s = InMemorySessionStore().create_session(["turn_left", "nod"])
    r = _result()
    _check_challenge_clock(r, _frames(4.0), s, now=s.created_at + timedelta(seconds=6))
    assert r.live and r.checks["challenge_clock"] == 1.0 and r.measurements["challenge_age_s"] == 6.0


def test_footage_longer_than_the_challenge_is_old_is_refused():
    s = InMemorySessionStore().create_session(["turn_left", "nod"])
    r = _result()
    _check_challenge_clock(r, _frames(10.0), s, now=s.created_at + timedelta(seconds=3))
    assert not r.live and r.score == 0.0 and "capture_before_challenge" in r.reasons
    # within the slack: a capture that started the instant the challenge arrived
    r2 = _result()
    _check_challenge_clock(r2, _frames(3.0), s, now=s.created_at + timedelta(seconds=3.0 - LIMITS["challenge_clock_slack_s"] / 2))
    assert r2.live
