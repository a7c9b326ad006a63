"""Face detection with 5 landmarks: MTCNN first, dlib HOG as the fallback.

Tight crops (an LFW image, a portrait cut from an ID card) cut off the forehead or
chin, and detectors trained on whole faces then miss them; every image is padded by a
border before detecting. Large photos are shrunk for detection only (the landmarks are
mapped back to the full-resolution image, which alignment uses).
"""

from __future__ import annotations

import cv2
import numpy as np

from kyc.biometrics.mtcnn import MtcnnParams, detect_mtcnn
from kyc.biometrics.types import FaceDetection
from kyc.config import Settings

__all__ = ["detect_faces", "DETECT_MAX_SIDE", "PAD_FRACTION"]

DETECT_MAX_SIDE = 640  # px: longest side of the padded image the detector sees
PAD_FRACTION = 0.2  # border added on each side, as a fraction of the image's side
MIN_FACE_FRACTION = 0.1  # smallest face searched, as a fraction of the shorter side
_ATTEMPTS = ((cv2.BORDER_CONSTANT, (0.6, 0.7, 0.7)), (cv2.BORDER_REPLICATE, (0.5, 0.6, 0.6)))


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return np.ascontiguousarray(image[:, :, ::-1])


def _hog_faces(rgb: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """dlib HOG boxes with 5 landmarks from dlib's 5-point predictor (mouth corners
    placed by the ArcFace template's geometry, as that model has none)."""
    import dlib

    from kyc.biometrics.alignment import ARCFACE_112, similarity_transform
    from kyc.dlib_models import shape_predictor

    sp = shape_predictor("dlib-landmarks5")
    det = dlib.get_frontal_face_detector()
    upsample = 1 if min(rgb.shape[:2]) < 400 else 0
    rects, scores, _ = det.run(rgb, upsample, 0.0)
    out = []
    for r, sc in zip(rects, scores, strict=True):
        s = sp(rgb, r)
        p = np.array([[q.x, q.y] for q in s.parts()], dtype=np.float32)
        left_eye, right_eye, nose = (p[2] + p[3]) / 2, (p[0] + p[1]) / 2, p[4]
        src = np.stack([ARCFACE_112[0], ARCFACE_112[1], ARCFACE_112[2] + [0, 8.0]])
        m = similarity_transform(src, np.stack([left_eye, right_eye, nose]))
        mouth = ARCFACE_112[3:] @ m[:, :2].T + m[:, 2]
        lm = np.vstack([left_eye, right_eye, nose, mouth]).astype(np.float32)
        box = np.array([r.left(), r.top(), r.right(), r.bottom()], dtype=np.float32)
        out.append((box, lm, float(1.0 / (1.0 + np.exp(-2.0 * sc)))))
    return out


def detect_faces(image: np.ndarray, settings: Settings | None = None) -> list[FaceDetection]:
    """Every face in a BGR (or grayscale/BGRA) uint8 image, largest first.

    Boxes and landmarks are in the input image's pixel coordinates (they may reach
    past its edge for a face cut off by a tight crop).
    """
    if image is None or image.size == 0:
        return []
    rgb = _to_rgb(image)
    h, w = rgb.shape[:2]
    pad = int(round(PAD_FRACTION * max(h, w)))
    scale = min(1.0, DETECT_MAX_SIDE / (max(h, w) + 2 * pad))
    min_face = max(20.0, MIN_FACE_FRACTION * min(h, w) * scale)
    found: list[tuple[np.ndarray, np.ndarray, float, str]] = []
    # A black border first; when that finds nothing, a replicated border (a tight crop's
    # edge then continues into the border, which MTCNN sometimes needs) with looser
    # stage thresholds; then dlib's HOG detector.
    for border, thresholds in _ATTEMPTS:
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, border, value=(0, 0, 0))
        work = padded if scale == 1.0 else cv2.resize(padded, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        boxes, points = detect_mtcnn(work, MtcnnParams(min_face_px=min_face, thresholds=thresholds), settings)
        found = [(b[:4], p, float(b[4]), "mtcnn") for b, p in zip(boxes, points, strict=True)]
        if found:
            break
    if not found:
        found = [(b, p, sc, "dlib-hog") for b, p, sc in _hog_faces(work)]
    faces = []
    for box, lm, score, name in found:
        box = box / scale - pad
        lm = lm / scale - pad
        x, y = int(round(box[0])), int(round(box[1]))
        bw, bh = int(round(box[2] - box[0])), int(round(box[3] - box[1]))
        faces.append(FaceDetection(box=(x, y, bw, bh), landmarks5=lm.astype(np.float32), score=score, detector=name))
    faces.sort(key=lambda f: f.area, reverse=True)
    return faces
