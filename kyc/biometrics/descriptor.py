"""Is it the same face? dlib's descriptor on 68 landmarks, for comparisons within a session.

Liveness compares the face of one frame with another of the same capture (not a selfie
with an ID portrait: that is :func:`kyc.biometrics.compare_templates`). It uses dlib's 128-D ResNet descriptor (manifest id ``dlib-resnet``) computed from the
68 landmarks the tracker already has; Euclidean distance under 0.6 is dlib's
"same person" rule (99.38% on LFW by dlib's figures).
"""

from __future__ import annotations


import cv2
import numpy as np

from kyc.config import Settings
from kyc.dlib_models import compute_face_descriptor

__all__ = ["face_descriptor", "descriptor_distance", "SAME_FACE_DISTANCE", "DESCRIPTOR_MODEL"]

DESCRIPTOR_MODEL = "dlib-resnet"
SAME_FACE_DISTANCE = 0.6

def face_descriptor(image: np.ndarray, landmarks: np.ndarray, settings: Settings | None = None) -> np.ndarray:
    """128-D descriptor of the face with these 68 landmarks in a BGR image."""
    import dlib

    pts = [dlib.point(int(round(x)), int(round(y))) for x, y in landmarks]
    x0, y0 = np.floor(landmarks.min(axis=0)).astype(int)
    x1, y1 = np.ceil(landmarks.max(axis=0)).astype(int)
    shape = dlib.full_object_detection(dlib.rectangle(int(x0), int(y0), int(x1), int(y1)), pts)
    rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return np.asarray(compute_face_descriptor(rgb, shape, model_id=DESCRIPTOR_MODEL, settings=settings), dtype=np.float32)


def descriptor_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
