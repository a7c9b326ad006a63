"""Continuity statistics that real phone video must not trip: auto-exposure steps."""

from __future__ import annotations

import cv2
import numpy as np

from kyc.liveness._tracking import STATS_SIZE, _exposure_normalised


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 255, (120, 160)).astype(np.uint8), (0, 0), 3)
    return cv2.normalize(img, None, 30, 220, cv2.NORM_MINMAX)


def _change(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(_exposure_normalised(a).astype(np.int16) - _exposure_normalised(b).astype(np.int16)).mean())


def test_an_exposure_step_is_not_a_change_of_scene():
    frame = _scene()
    brighter = np.clip(frame.astype(np.float32) * 1.35 + 10, 0, 255).astype(np.uint8)
    raw = float(np.abs(frame.astype(np.int16) - brighter.astype(np.int16)).mean())
    assert raw > 25  # the old statistic called this a cut
    assert _change(frame, brighter) < 3


def test_another_scene_still_is():
    assert _change(_scene(0), _scene(1)) > 25
    assert _exposure_normalised(_scene()).shape == (STATS_SIZE[1], STATS_SIZE[0])
    flat = np.full((120, 160), 77, np.uint8)
    assert (_exposure_normalised(flat) == flat).all()  # frozen frames stay identical
