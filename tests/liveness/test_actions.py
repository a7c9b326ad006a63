"""Action detectors on synthetic landmark tracks (no images, no model files)."""

import numpy as np
import pytest

from kyc.liveness._actions import TURN_DEG, baseline_of, detect_action, match_sequence
from kyc.liveness._tracking import measurements_from_landmarks
from tests.liveness.synth import SIZE, landmark_track, performance


def track(segments, **kw):
    t, lms = landmark_track(performance(segments), **kw)
    return measurements_from_landmarks(t, lms, SIZE)


REST = [("rest", 10)]
ALL = ["blink", "turn_left", "turn_right", "nod", "open_mouth"]


@pytest.mark.parametrize("action", ALL)
def test_each_action_is_found_where_it_happens(action):
    m = track(REST + [(action, 12)] + REST)
    ev = detect_action(action, m)
    assert ev is not None and ev.passed
    assert 8 <= ev.start_frame <= ev.end_frame <= 24
    assert ev.measurements


@pytest.mark.parametrize("action", ALL)
def test_no_action_is_found_in_a_still_face(action):
    m = track([("rest", 40)], noise_px=0.6, seed=3)
    assert detect_action(action, m) is None


@pytest.mark.parametrize("action", ALL)
def test_each_action_is_not_mistaken_for_another(action):
    m = track(REST + [(action, 12)] + REST)
    others = [a for a in ALL if a != action]
    found = [a for a in others if detect_action(a, m) is not None]
    assert found == []


def test_turn_direction_follows_the_persons_own_left():
    m = track(REST + [("turn_left", 12)] + REST)
    ev = detect_action("turn_left", m)
    assert ev.measurements["peak_change"] >= TURN_DEG and ev.measurements["peak_yaw_deg"] > 0
    assert detect_action("turn_right", m) is None


def test_a_mirrored_capture_swaps_left_and_right():
    t, lms = landmark_track(performance(REST + [("turn_left", 12)] + REST))
    m = measurements_from_landmarks(t, lms, SIZE, mirrored=True)
    assert detect_action("turn_right", m) is not None
    assert detect_action("turn_left", m) is None


def test_a_small_turn_is_not_enough():
    states = performance(REST + [("turn_left", 12)] + REST)
    for s in states:
        s["yaw"] *= 0.35  # about 10 degrees
    t, lms = landmark_track(states)
    assert detect_action("turn_left", measurements_from_landmarks(t, lms, SIZE)) is None


def test_a_slow_eye_closure_is_not_a_blink():
    m = track(REST + [("blink", 40)] + REST)  # 2.7 s closing and opening
    assert detect_action("blink", m) is None


def test_blink_needs_open_eyes_after():
    states = performance(REST) + performance([("blink", 10)])[:5]  # the capture ends with the eyes closed
    t, lms = landmark_track(states)
    assert detect_action("blink", measurements_from_landmarks(t, lms, SIZE)) is None


def test_a_nod_is_not_read_as_a_blink():
    m = track(REST + [("nod", 12)] + REST)
    assert detect_action("blink", m) is None


def test_sequence_in_order_passes():
    m = track(REST + [("turn_right", 12), ("rest", 5), ("blink", 6), ("rest", 5), ("open_mouth", 12)] + REST)
    evidence, reasons = match_sequence(["turn_right", "blink", "open_mouth"], m)
    assert reasons == []
    assert [e.passed for e in evidence] == [True, True, True]
    assert evidence[0].end_frame < evidence[1].start_frame <= evidence[1].end_frame < evidence[2].start_frame


def test_sequence_in_the_wrong_order_fails():
    m = track(REST + [("turn_right", 12), ("rest", 5), ("turn_left", 12)] + REST)
    evidence, reasons = match_sequence(["turn_left", "turn_right"], m)
    assert reasons == ["action_order:turn_right"]
    assert [e.passed for e in evidence] == [True, False]


def test_missing_action_is_named():
    m = track(REST + [("nod", 12)] + REST)
    _, reasons = match_sequence(["nod", "open_mouth"], m)
    assert reasons == ["action_missing:open_mouth"]


def test_baseline_comes_from_the_resting_start():
    m = track(REST + [("turn_left", 12)] + REST)
    b = baseline_of(m)
    assert abs(b.yaw - np.nanmedian(m.yaw[:5])) < 1e-6
    assert b.ear > 0.2 and b.mar < 0.1
