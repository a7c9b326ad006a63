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
from kyc.biometrics.fast_detection import SECOND_FACE_RATIO, FaceBox, find_faces, to_gray
from kyc.biometrics.landmarks import face_landmarks
from kyc.liveness._pose import eye_aspect_ratio, head_pose, inter_ocular, mouth_aspect_ratio
from kyc.liveness._video import Frame

__all__ = ["FaceTrack", "track_faces", "measurements_from_landmarks", "texture_residual", "DETECT_EVERY"]

DETECT_EVERY = 5  # frames between two full detections
STATS_SIZE = (160, 120)  # px, grey copy for frame-difference statistics
NORMALISED_STD = 48.0  # grey levels: the contrast every frame is set to before frames are compared
TEXTURE_POINTS = 150  # corner points followed by optical flow inside the face
_LK = dict(winSize=(21, 21), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
PATCH = 128  # px, side of the window used to follow the face between detections
_HANN = cv2.createHanningWindow((PATCH, PATCH), cv2.CV_32F)


@dataclass
class FaceTrack:
    """What the tracker saw; ``landmarks[i]`` is None where no face was found."""

    landmarks: list[np.ndarray | None]
    boxes: list[FaceBox | None]
    faces_on_detection: list[int]  # comparable faces on each detection frame
    frame_change: np.ndarray  # mean |grey difference| to the previous frame, exposure-normalised grey levels (0 for frame 0)
    histogram_change: np.ndarray  # 1 - correlation of exposure-normalised grey histograms with the previous frame
    sharpness: np.ndarray  # variance of the Laplacian inside the face, grey levels^2 (NaN: no face)
    image_size: tuple[int, int]  # (width, height) of the frames
    measurements: Measurements
    detections: int = 0
    descriptors: dict[int, np.ndarray] = field(default_factory=dict)
    texture_ref: int | None = None  # frame the texture points were picked on
    texture_points: list[np.ndarray | None] = field(default_factory=list)  # (k, 2) per frame, NaN = lost


def texture_residual(track: FaceTrack, i: int, min_points: int = 12) -> float:
    """How badly one homography explains the motion of the face's texture.

    Corner points picked inside the face on :attr:`FaceTrack.texture_ref` are followed
    by optical flow; the least-squares homography from there to frame ``i`` leaves an
    RMS error, here in inter-ocular distances of the reference face. A flat picture
    leaves only tracking noise; a real head that turned leaves the parallax of the
    nose, cheeks and eye sockets. Unlike the landmark residual, this does not rely on
    the shape predictor, whose 3-D face prior bends landmarks on a tilted photo.
    """
    ref = track.texture_ref
    if ref is None or i >= len(track.texture_points):
        return float("nan")
    a, b = track.texture_points[ref], track.texture_points[i]
    lm = track.landmarks[ref]
    if a is None or b is None or lm is None:
        return float("nan")
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if ok.sum() < min_points:
        return float("nan")
    src, dst = a[ok].astype(np.float64), b[ok].astype(np.float64)
    hmat, _ = cv2.findHomography(src, dst, 0)
    if hmat is None:
        return float("nan")
    err = np.linalg.norm(cv2.perspectiveTransform(src.reshape(-1, 1, 2), hmat).reshape(-1, 2) - dst, axis=1)
    err = np.sort(err)[: max(min_points, int(0.9 * len(err)))]  # a few lost tracks do not decide
    return float(np.sqrt((err**2).mean())) / max(inter_ocular(lm), 1e-9)


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


def _window(box: FaceBox, shape: tuple[int, int], grow: float = 0.3) -> tuple[int, int, int, int]:
    h, w = shape
    gx, gy = grow * box.width, grow * box.height
    return (max(0, int(box.x0 - gx)), max(0, int(box.y0 - gy)), min(w, int(box.x1 + gx)), min(h, int(box.y1 + gy)))


def _patch(gray: np.ndarray, win: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = win
    return cv2.resize(gray[y0:y1, x0:x1], (PATCH, PATCH), interpolation=cv2.INTER_AREA).astype(np.float32)


def _carried_box(det_box: FaceBox, det_patch: np.ndarray, win: tuple[int, int, int, int], gray: np.ndarray) -> FaceBox:
    """The last detector box, shifted by the image motion measured since that detection.

    The shift comes from phase correlation of the same window in both frames, never
    from the previous landmarks: boxes derived from landmarks feed the shape
    predictor's own drift back into it.
    """
    (dx, dy), _ = cv2.phaseCorrelate(det_patch, _patch(gray, win), _HANN)
    sx = (win[2] - win[0]) / PATCH
    sy = (win[3] - win[1]) / PATCH
    ox, oy = int(round(dx * sx)), int(round(dy * sy))
    return FaceBox(det_box.x0 + ox, det_box.y0 + oy, det_box.x1 + ox, det_box.y1 + oy)


def _nearest(faces: list[FaceBox], prev: FaceBox | None) -> FaceBox:
    if prev is None:
        return faces[0]
    cx, cy = (prev.x0 + prev.x1) / 2, (prev.y0 + prev.y1) / 2
    return min(faces, key=lambda f: np.hypot((f.x0 + f.x1) / 2 - cx, (f.y0 + f.y1) / 2 - cy))


def _exposure_normalised(small: np.ndarray) -> np.ndarray:
    """The frame with its mean and contrast set to fixed values: a phone's auto-exposure
    changes gain and offset from one frame to the next, which is not a change of scene.
    Frames that are identical stay identical (the frozen-frame check still sees them)."""
    f = small.astype(np.float32)
    std = float(f.std())
    if std < 1.0:
        return small
    return np.clip((f - f.mean()) * (NORMALISED_STD / std) + 128.0, 0, 255).astype(np.uint8)


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
    det_box: FaceBox | None = None
    det_win: tuple[int, int, int, int] | None = None
    det_patch: np.ndarray | None = None
    detections = 0
    tex_ref: int | None = None
    tex_pts: list[np.ndarray | None] = [None] * n
    prev_gray: np.ndarray | None = None
    for i, fr in enumerate(frames):
        gray = to_gray(fr.image)
        if tex_ref is not None and prev_gray is not None and tex_pts[i - 1] is not None and gray.shape == prev_gray.shape:
            tex_pts[i] = _follow(prev_gray, gray, tex_pts[i - 1])
        prev_gray = gray
        small = _exposure_normalised(cv2.resize(gray, STATS_SIZE, interpolation=cv2.INTER_AREA))
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
        detected = box is not None
        if box is None and prev_lm is not None and det_box is not None and det_win is not None:
            box = _carried_box(det_box, det_patch, det_win, gray)
        if box is None:
            prev_lm = prev_box = None
            continue
        lm = face_landmarks(gray, box, settings)
        spread = lm.max(axis=0) - lm.min(axis=0)
        if min(spread) < 8 or inter_ocular(lm) < 4:
            prev_lm = prev_box = None
            continue
        if detected:
            det_box, det_win = box, _window(box, gray.shape)
            det_patch = _patch(gray, det_win)
        landmarks[i], boxes[i] = lm, box
        if tex_ref is None:
            picked = _pick_points(gray, lm)
            if picked is not None:
                tex_ref, tex_pts[i] = i, picked
        prev_lm, prev_box = lm, box
        x0, y0 = np.clip(lm.min(axis=0).astype(int), 0, [w - 1, h - 1])
        x1, y1 = np.clip(lm.max(axis=0).astype(int), 0, [w, h])
        if x1 - x0 > 4 and y1 - y0 > 4:
            sharp[i] = float(cv2.Laplacian(gray[y0:y1, x0:x1], cv2.CV_64F).var())
    t = np.array([f.t for f in frames])
    meas = measurements_from_landmarks(t, landmarks, (w, h), mirrored=mirrored)
    return FaceTrack(
        landmarks, boxes, faces_count, frame_change, hist_change, sharp, (w, h), meas, detections,
        texture_ref=tex_ref, texture_points=tex_pts,
    )


def _pick_points(gray: np.ndarray, lm: np.ndarray) -> np.ndarray | None:
    """Corners inside the face outline (jaw and brows), float32 (k, 2)."""
    hull = cv2.convexHull(lm[:27].astype(np.int32))
    mask = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
    pts = cv2.goodFeaturesToTrack(gray, TEXTURE_POINTS, 0.01, max(3.0, inter_ocular(lm) / 12.0), mask=mask)
    if pts is None or len(pts) < 12:
        return None
    return pts.reshape(-1, 2).astype(np.float32)


def _follow(prev: np.ndarray, cur: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points moved by pyramidal Lucas-Kanade, checked forward and backward; lost = NaN."""
    out = np.full_like(pts, np.nan)
    ok = np.isfinite(pts).all(axis=1)
    if ok.sum() < 4:
        return out
    p0 = pts[ok].reshape(-1, 1, 2)
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, **_LK)
    p0r, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, None, **_LK)
    good = (st1.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm((p0 - p0r).reshape(-1, 2), axis=1) < 0.7)
    idx = np.flatnonzero(ok)
    out[idx[good]] = p1.reshape(-1, 2)[good]
    return out
