"""68-point face landmarks (iBUG 300-W order: jaw 0-16, brows 17-26, nose 27-35, eyes
36-47, mouth 48-67) with dlib's shape predictor, on the full-resolution grey image.

The 5-point landmarks used to align templates come with :func:`kyc.biometrics.detect_faces`;
these 68 serve head pose, blinks and mouth opening (liveness) and the dlib descriptor.
"""

from __future__ import annotations

import numpy as np

from kyc.biometrics.fast_detection import FaceBox
from kyc.config import Settings
from kyc.dlib_models import shape_predictor

__all__ = ["face_landmarks", "LANDMARKS_MODEL"]

LANDMARKS_MODEL = "dlib-landmarks68"


def face_landmarks(gray: np.ndarray, box: FaceBox, settings: Settings | None = None) -> np.ndarray:
    """68 landmarks ``(68, 2)`` float32, (x, y) pixels, for a face box in a grey image."""
    import dlib

    pred = shape_predictor(LANDMARKS_MODEL, settings)
    shape = pred(gray, dlib.rectangle(int(box.x0), int(box.y0), int(box.x1) - 1, int(box.y1) - 1))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
