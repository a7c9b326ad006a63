"""Face image quality: each failure a stable reason code, each measure in ``metrics``.

Measures are taken on the face aligned to the 112x112 ArcFace template (so they do not
depend on the photo's resolution) and on the landmarks:

* size: inter-eye distance in pixels of the original image (ISO/IEC 19794-5 uses it);
* sharpness: variance of the Laplacian of the aligned grey face;
* exposure: mean brightness and the share of clipped pixels of the aligned face;
* pose: roll from the eye line, yaw from the nose's offset from the eyes' midpoint, pitch
  from the nose's height between the eye and mouth lines (approximate degrees);
* eyes: eye aspect ratio (Soukupová and Čech 2016) from dlib's 68 landmarks;
* other faces: faces at least a quarter of this face's area (selfie only).

The limits are a policy per role (an ID portrait is smaller and flatter than a selfie)
in :data:`POLICIES`; ``kyc bench face`` reports how often each fires on real data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from kyc.biometrics.alignment import ARCFACE_112, align_arcface
from kyc.biometrics.types import FaceDetection, QualityReport, Role
from kyc.config import Settings, get_settings
from kyc.dlib_models import shape_predictor

__all__ = ["QualityPolicy", "POLICIES", "assess_quality", "quality_metrics", "quality_reasons"]


@dataclass(frozen=True)
class QualityPolicy:
    min_inter_eye_px: float
    min_sharpness: float  # variance of the Laplacian of the aligned 112x112 grey face
    max_brightness: float  # mean grey level, 0-255
    min_brightness: float
    max_clipped: float  # share of pixels at 0-5 or 250-255
    max_yaw_deg: float
    max_pitch_deg: float
    max_roll_deg: float
    min_eye_aspect: float  # eye aspect ratio below which the eyes count as closed
    other_face_area: float = 0.25  # another face this large (relative) is a second person


POLICIES: dict[str, QualityPolicy] = {
    "selfie": QualityPolicy(
        min_inter_eye_px=30,
        min_sharpness=15,
        max_brightness=215,
        min_brightness=40,
        max_clipped=0.3,
        max_yaw_deg=35,
        max_pitch_deg=30,
        max_roll_deg=30,
        min_eye_aspect=0.13,
    ),
    "id_portrait": QualityPolicy(
        min_inter_eye_px=16,
        min_sharpness=5,
        max_brightness=235,
        min_brightness=30,
        max_clipped=0.5,
        max_yaw_deg=35,
        max_pitch_deg=30,
        max_roll_deg=30,
        min_eye_aspect=0.10,
    ),
}

_NOSE_T = float((ARCFACE_112[2, 1] - ARCFACE_112[:2, 1].mean()) / (ARCFACE_112[3:, 1].mean() - ARCFACE_112[:2, 1].mean()))



def _eye_aspect(p: np.ndarray) -> float:
    """Eye aspect ratio of 6 eye landmarks (iBUG order): ~0.3 open, under ~0.15 closed."""
    v = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
    h = 2.0 * np.linalg.norm(p[0] - p[3])
    return float(v / h) if h > 0 else 0.0


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes: the same face found twice is ~1."""
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _pose(lm: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in approximate degrees from 5 landmarks."""
    le, re, nose, lmo, rmo = lm
    d = re - le
    roll = math.degrees(math.atan2(float(d[1]), float(d[0])))
    c, s = math.cos(-math.radians(roll)), math.sin(-math.radians(roll))
    rot = np.array([[c, -s], [s, c]])
    q = (lm - (le + re) / 2) @ rot.T  # eye midpoint at origin, eyes horizontal
    eye_dist = max(float(np.linalg.norm(d)), 1e-6)
    yaw = math.degrees(math.asin(float(np.clip(q[2, 0] / (0.6 * eye_dist), -1, 1))))
    mouth_y = float((q[3, 1] + q[4, 1]) / 2)
    t = float(q[2, 1]) / mouth_y if mouth_y > 1e-6 else _NOSE_T
    pitch = math.degrees(math.asin(float(np.clip((t - _NOSE_T) / 0.5, -1, 1))))
    return yaw, pitch, roll


def quality_metrics(
    image: np.ndarray, face: FaceDetection, settings: Settings | None = None, *, with_eyes: bool = True
) -> dict[str, float]:
    """The measures behind :func:`assess_quality`, units in the names."""
    s = settings or get_settings()
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    aligned = align_arcface(grey, face.landmarks5)
    core = aligned[16:104, 20:92]  # forehead to chin, cheek to cheek
    yaw, pitch, roll = _pose(face.landmarks5)
    metrics = {
        "inter_eye_px": face.inter_eye_px,
        "sharpness": float(cv2.Laplacian(aligned, cv2.CV_64F).var()),
        "brightness": float(core.mean()),
        "clipped": float(((core <= 5) | (core >= 250)).mean()),
        "contrast": float(core.std()),
        "yaw_deg": yaw,
        "pitch_deg": pitch,
        "roll_deg": roll,
        "detector_score": float(face.score),
    }
    if with_eyes:
        import dlib

        from kyc.biometrics.embedding import dlib_rect_for

        l, t, r, b = dlib_rect_for(face.landmarks5)
        shape = shape_predictor("dlib-landmarks68", s)(np.ascontiguousarray(grey), dlib.rectangle(l, t, r, b))
        p = np.array([[q.x, q.y] for q in shape.parts()], dtype=np.float64)
        metrics["eye_aspect"] = (_eye_aspect(p[36:42]) + _eye_aspect(p[42:48])) / 2
    return metrics


def quality_reasons(m: dict[str, float], policy: QualityPolicy) -> list[str]:
    """The reason codes that the metrics of one face (``quality_metrics``) break under
    ``policy``; ``multiple_faces`` needs the other faces and is added by ``assess_quality``."""
    reasons: list[str] = []
    if m["inter_eye_px"] < policy.min_inter_eye_px:
        reasons.append("face_too_small")
    if m["sharpness"] < policy.min_sharpness:
        reasons.append("blurred")
    if m["brightness"] > policy.max_brightness or (m["clipped"] > policy.max_clipped and m["brightness"] >= 128):
        reasons.append("overexposed")
    if m["brightness"] < policy.min_brightness or (m["clipped"] > policy.max_clipped and m["brightness"] < 128):
        reasons.append("underexposed")
    if abs(m["yaw_deg"]) > policy.max_yaw_deg:
        reasons.append("pose_yaw")
    if abs(m["pitch_deg"]) > policy.max_pitch_deg:
        reasons.append("pose_pitch")
    if abs(m["roll_deg"]) > policy.max_roll_deg:
        reasons.append("pose_roll")
    if m.get("eye_aspect", 1.0) < policy.min_eye_aspect:
        reasons.append("eyes_closed")
    return reasons


def assess_quality(
    image: np.ndarray,
    face: FaceDetection,
    role: Role = "selfie",
    *,
    faces: Sequence[FaceDetection] | None = None,
    settings: Settings | None = None,
) -> QualityReport:
    """Whether ``face`` in ``image`` (BGR uint8) is fit for matching in this ``role``.

    ``faces`` is every face found in the image (for ``multiple_faces``); when omitted
    for a selfie the image is searched again.
    """
    policy = POLICIES[role]
    m = quality_metrics(image, face, settings)
    reasons = quality_reasons(m, policy)
    if role == "selfie":
        if faces is None:
            from kyc.biometrics.detection import detect_faces

            faces = detect_faces(image, settings)
        others = [f for f in faces if _iou(f.box, face.box) < 0.5 and f.area >= policy.other_face_area * face.area]
        m["other_faces"] = float(len(others))
        if others:
            reasons.append("multiple_faces")
    return QualityReport(ok=not reasons, reasons=reasons, metrics=m)
