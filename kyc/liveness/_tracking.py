"""Following one face through the frames of a session, cheaply.

The HOG detector (the slow part) runs on a downscaled copy every
:data:`DETECT_EVERY` frames and whenever the track is lost; in between, the face box
is carried over from the previous frame's landmarks. Landmarks come every frame.
Per-frame image statistics for the continuity checks are taken on a small grey copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from kyc.config import Settings
from kyc.liveness._actions import Measurements
from kyc.liveness._faces import SECOND_FACE_RATIO, FaceBox, face_landmarks, find_faces, to_gray
from kyc.liveness._pose import eye_aspect_ratio, head_pose, inter_ocular, mouth_aspect_ratio
from kyc.liveness._video import Frame

__all__ = ["FaceTrack", "track_faces", "measurements_from_landmarks", "DETECT_EVERY"]

DETECT_EVERY = 5  # frames between two full detections
STATS_SIZE = (160, 120)  # px, grey copy for frame-difference statistics


@dataclass
class FaceTrack:
    """What the tracker saw; ``landmarks[i]`` is None where no face was found."""

    landmarks: list[np.ndarray | None]
    boxes: list[FaceBox | None]
    faces_on_detection: list[int]  # comparable faces on each detection frame
    frame_change: np.ndarray  # mean |grey difference| to the previous frame, grey levels (0 for frame 0)
    histogram_change: np.ndarray  # 1 - correlation of grey histograms with the previous frame
    sharpness: np.ndarray  # variance of the Laplacian inside the face, grey levels^2 (NaN: no face)
    image_size: tuple[int, int]  # (width, height) of the frames
    measurements: Measurements
    detections: int = 0
    descriptors: dict[int, np.ndarray] = field(default_factory=dict)


def measurements_from_landmarks(
    t: np.ndarray, landmarks: list[np.ndarray | None], image_size: tuple[int, int], *, mirrored: bool = False
) -> Measurements:
    """Eye and mouth ratios and head pose per frame (NaN where there is no face).

    ``mirrored`` frames (a selfie preview) have their yaw and roll negated so that
    ``turn_left`` still means the person's own left.
    """
    n = len(landmarks)
    vals = np.full((n, 5), np.nan)
    for i, lm in enumerate(landmarks):
        if lm is None:
            continue
        yaw, pitch, roll = head_pose(lm, image_size)
        if mirrored:
            yaw, roll = -yaw, -roll
        vals[i] = (eye_aspect_ratio(lm), mouth_aspect_ratio(lm), yaw, pitch, roll)
    return Measurements(np.asarray(t, dtype=np.float64), *vals.T)


def _box_from_landmarks(lm: np.ndarray, ratios: tuple[float, float, float, float]) -> FaceBox:
    """A detector-like box from landmarks, using offsets learnt on the last detection."""
    x0, y0 = lm.min(axis=0)
    x1, y1 = lm.max(axis=0)
    w, h = x1 - x0, y1 - y0
    a, b, c, d = ratios
    return FaceBox(int(x0 + a * w), int(y0 + b * h), int(x1 + c * w), int(y1 + d * h))


def _ratios(box: FaceBox, lm: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = lm.min(axis=0)
    x1, y1 = lm.max(axis=0)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    return ((box.x0 - x0) / w, (box.y0 - y0) / h, (box.x1 - x1) / w, (box.y1 - y1) / h)


def _nearest(faces: list[FaceBox], prev: FaceBox | None) -> FaceBox:
    if prev is None:
        return faces[0]
    cx, cy = (prev.x0 + prev.x1) / 2, (prev.y0 + prev.y1) / 2
    return min(faces, key=lambda f: np.hypot((f.x0 + f.x1) / 2 - cx, (f.y0 + f.y1) / 2 - cy))


def track_faces(
    frames: list[Frame], *, detect_every: int = DETECT_EVERY, mirrored: bool = False, settings: Settings | None = None
) -> FaceTrack:
    n = len(frames)
    h, w = frames[0].image.shape[:2]
    landmarks: list[np.ndarray | None] = [None] * n
    boxes: list[FaceBox | None] = [None] * n
    faces_count: list[int] = []
    frame_change = np.zeros(n)
    hist_change = np.zeros(n)
    sharp = np.full(n, np.nan)
    prev_small = prev_hist = None
    prev_lm: np.ndarray | None = None
    prev_box: FaceBox | None = None
    ratios = (-0.05, -0.25, 0.05, 0.05)
    detections = 0
    for i, fr in enumerate(frames):
        gray = to_gray(fr.image)
        small = cv2.resize(gray, STATS_SIZE, interpolation=cv2.INTER_AREA)
        hist = cv2.calcHist([small], [0], None, [32], [0, 256])
        if prev_small is not None:
            frame_change[i] = float(np.abs(small.astype(np.int16) - prev_small).mean())
            hist_change[i] = 1.0 - float(cv2.compareHist(prev_hist, hist, cv2.HISTCMP_CORREL))
        prev_small, prev_hist = small.astype(np.int16), hist

        if gray.shape != (h, w):
            prev_lm = None  # frame size changed: a cut; the continuity check reports it
        box: FaceBox | None = None
        if prev_lm is None or i % detect_every == 0:
            faces = find_faces(fr.image, pad_retry=False)
            detections += 1
            if faces:
                big = faces[0]
                faces_count.append(1 + sum(f.height >= SECOND_FACE_RATIO * big.height for f in faces[1:]))
                box = _nearest(faces, prev_box)
            else:
                faces_count.append(0)
        if box is None and prev_lm is not None:
            box = _box_from_landmarks(prev_lm, ratios)
        if box is None:
            prev_lm = prev_box = None
            continue
        lm = face_landmarks(gray, box, settings)
        spread = lm.max(axis=0) - lm.min(axis=0)
        if min(spread) < 8 or inter_ocular(lm) < 4:
            prev_lm = prev_box = None
            continue
        if i % detect_every == 0 or prev_box is None:
            ratios = _ratios(box, lm)
        landmarks[i], boxes[i] = lm, box
        prev_lm, prev_box = lm, box
        x0, y0 = np.clip(lm.min(axis=0).astype(int), 0, [w - 1, h - 1])
        x1, y1 = np.clip(lm.max(axis=0).astype(int), 0, [w, h])
        if x1 - x0 > 4 and y1 - y0 > 4:
            sharp[i] = float(cv2.Laplacian(gray[y0:y1, x0:x1], cv2.CV_64F).var())
    t = np.array([f.t for f in frames])
    meas = measurements_from_landmarks(t, landmarks, (w, h), mirrored=mirrored)
    return FaceTrack(landmarks, boxes, faces_count, frame_change, hist_change, sharp, (w, h), meas, detections)
