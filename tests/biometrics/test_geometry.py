"""Alignment, pose and MTCNN helpers on synthetic inputs (no model weights)."""

from __future__ import annotations

import math

import numpy as np

from kyc.biometrics.alignment import ARCFACE_112, align_arcface, similarity_transform
from kyc.biometrics.mtcnn import _nms
from kyc.biometrics.quality import _pose


def _transform(points: np.ndarray, angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = math.radians(angle_deg)
    r = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return points @ r.T + np.array(shift)


def test_similarity_transform_recovers_a_known_transform():
    src = _transform(ARCFACE_112, 17.0, 2.5, (40.0, -12.0))
    m = similarity_transform(src, ARCFACE_112)
    mapped = src @ m[:, :2].T + m[:, 2]
    assert np.abs(mapped - ARCFACE_112).max() < 1e-4


def test_align_puts_a_marked_eye_on_the_template():
    img = np.zeros((400, 400, 3), np.uint8)
    lm = _transform(ARCFACE_112, -10.0, 3.0, (100.0, 60.0)).astype(np.float32)
    x, y = np.round(lm[0]).astype(int)
    img[y - 3 : y + 4, x - 3 : x + 4] = 255
    out = align_arcface(img, lm)
    assert out.shape == (112, 112, 3)
    yy, xx = np.unravel_index(np.argmax(out[:, :, 0]), out.shape[:2])
    assert abs(xx - ARCFACE_112[0, 0]) <= 2 and abs(yy - ARCFACE_112[0, 1]) <= 2


def test_pose_of_the_template_is_frontal_and_roll_is_measured():
    yaw, pitch, roll = _pose(ARCFACE_112)
    assert abs(yaw) < 3 and abs(pitch) < 3 and abs(roll) < 1
    _, _, roll = _pose(_transform(ARCFACE_112, 25.0, 1.0, (0, 0)))
    assert abs(roll - 25.0) < 0.5
    turned = ARCFACE_112.copy()
    turned[2, 0] += 20.0  # nose far to one side: head turned
    yaw, _, _ = _pose(turned)
    assert abs(yaw) > 45


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=float)
    keep = _nms(boxes, np.array([0.5, 0.9, 0.7]), 0.5)
    assert sorted(keep.tolist()) == [1, 2]
