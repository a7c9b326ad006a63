"""The session decision on landmark tracks: a synthetic 3-D head vs a flat card.

No images and no model files: the continuity and identity inputs are set to what a
clean capture of one face gives, then spoiled one at a time.
"""

import numpy as np
import pytest

from kyc.liveness._active import LIMITS, judge_track
from tests.liveness.synth import evidence_from, landmark_track, performance

REST = [("rest", 8)]
SCRIPT = REST + [("turn_left", 14), ("rest", 4), ("blink", 6), ("rest", 4), ("open_mouth", 10)] + REST
ACTIONS = ["turn_left", "blink", "open_mouth"]


def live_track(**kw):
    return landmark_track(performance(SCRIPT), **kw)


def test_a_3d_head_doing_the_actions_in_order_is_live():
    t, lms = live_track()
    result = judge_track(ACTIONS, evidence_from(t, lms))
    assert result.reasons == [] and result.live
    assert result.score >= result.threshold
    assert [a.passed for a in result.actions] == [True, True, True]
    assert result.measurements["planar_residual"] > LIMITS["planar_residual"]
    assert result.best_frame_index is not None


@pytest.mark.parametrize("seed", range(5))
def test_live_decision_is_stable_under_landmark_noise(seed):
    t, lms = live_track(noise_px=0.8, seed=seed)
    assert judge_track(ACTIONS, evidence_from(t, lms)).live


def test_the_same_performance_on_a_flat_card_is_planar():
    t, lms = live_track(flat=True)
    result = judge_track(ACTIONS, evidence_from(t, lms))
    assert not result.live
    assert "planar_motion" in result.reasons or "no_head_motion" in result.reasons
    assert result.score < result.threshold


def test_wrong_order_is_rejected():
    t, lms = live_track()
    result = judge_track(["open_mouth", "turn_left"], evidence_from(t, lms))
    assert not result.live and "action_order:turn_left" in result.reasons


def test_without_head_motion_3d_cannot_be_shown():
    t, lms = landmark_track(performance(REST + [("blink", 6), ("rest", 4), ("open_mouth", 10)] + REST))
    result = judge_track(["blink", "open_mouth"], evidence_from(t, lms))
    assert not result.live and "no_head_motion" in result.reasons


def test_frozen_frames_are_rejected():
    t, lms = live_track()
    change = np.full(len(t), 3.0)
    change[::2] = 0.0
    result = judge_track(ACTIONS, evidence_from(t, lms, frame_change=change))
    assert not result.live and "frames_frozen" in result.reasons


def test_a_cut_is_rejected():
    t, lms = live_track()
    hist = np.full(len(t), 0.01)
    change = np.full(len(t), 3.0)
    hist[20], change[20] = 0.9, 60.0
    result = judge_track(ACTIONS, evidence_from(t, lms, histogram_change=hist, frame_change=change))
    assert not result.live and "frames_cut" in result.reasons


def test_a_face_jump_is_a_cut():
    t, lms = live_track()
    lms = [lm + (200.0, 0.0) if i >= 30 else lm for i, lm in enumerate(lms)]
    change = np.full(len(t), 3.0)
    change[30] = 20.0  # the picture changed with the face: an edit
    result = judge_track(ACTIONS, evidence_from(t, lms, frame_change=change))
    assert "frames_cut" in result.reasons


def test_landmarks_flickering_on_a_steady_picture_are_not_a_cut():
    """Near profile the 68-point fit flips between solutions from one frame to the next
    (seen on real phone video); the picture barely changes, so it is not an edit."""
    t, lms = live_track()
    flicker = []
    for i, lm in enumerate(lms):
        if 20 <= i < 30 and i % 2:
            c = lm.mean(0)
            lm = (lm - c) * (1.6, 1.0) + c + (0.7 * np.ptp(lm[:, 0]), 0.0)
        flicker.append(lm)
    steady = judge_track(ACTIONS, evidence_from(t, flicker))
    assert "frames_cut" not in steady.reasons
    change = np.full(len(t), 3.0)
    change[21] = 30.0
    assert "frames_cut" in judge_track(ACTIONS, evidence_from(t, flicker, frame_change=change)).reasons


@pytest.mark.parametrize(
    "times",
    [
        lambda n: np.zeros(n),  # all at once
        lambda n: np.arange(n) / 15.0 * 0.05,  # 300 fps: no phone records that
        lambda n: np.r_[np.arange(n - 1) / 15.0, 10.0],  # a long gap
        lambda n: np.arange(n)[::-1] / 15.0,  # backwards
    ],
)
def test_implausible_timestamps_are_rejected(times):
    t, lms = live_track()
    ev = evidence_from(t, lms)
    ev.measurements.t = times(len(t)).astype(float)
    assert "timestamps_implausible" in judge_track(ACTIONS, ev).reasons


def test_another_face_is_rejected():
    t, lms = live_track()
    result = judge_track(ACTIONS, evidence_from(t, lms, descriptor_distances=[0.2, 0.75, 0.3]))
    assert not result.live and "face_changed" in result.reasons


def test_two_faces_are_rejected():
    t, lms = live_track()
    faces = [1] * ((len(t) + 4) // 5)
    faces[3] = 2
    assert "multiple_faces" in judge_track(ACTIONS, evidence_from(t, lms, faces_on_detection=faces)).reasons


def test_a_lost_face_is_rejected():
    t, lms = live_track()
    lms = [None if i % 3 == 0 else lm for i, lm in enumerate(lms)]
    assert "face_lost" in judge_track(ACTIONS, evidence_from(t, lms)).reasons


def test_best_frame_has_a_face_even_when_no_pose_was_measured():
    from kyc.liveness._active import _best_frame

    t, lms = live_track()
    lms = [None, None] + list(lms[2:])
    ev = evidence_from(t, lms, sharpness=np.full(len(t), np.nan))
    ev.measurements.yaw[:] = np.nan
    best = _best_frame(ev, 0.0, 0.0, 0.3)
    assert best is not None and lms[best] is not None
