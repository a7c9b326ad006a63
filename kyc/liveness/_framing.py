"""The framing and quality gate of the passive check: is this selfie usable at all?

MiniFASNet judges a face by its surroundings and the texture classifier by its colour;
a grayscale picture, a face cropped to the chin, a face too close or too far, a dark
or blurred frame make both say "spoof" for reasons that have nothing to do with an
attack. Such a selfie gets a *retake* with a reason the user can act on, never a
"spoof" verdict. The limits are set a priori from what the models need (the models'
crop of 2.7x the face, their 80x80 input, colour), not fitted to a data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kyc.biometrics.fast_detection import FaceBox

__all__ = ["FramingPolicy", "FRAMING_REASONS", "framing_reasons", "framing_metrics"]

FRAMING_REASONS = ("face_too_small", "face_too_large", "face_cut_off", "image_grayscale", "face_too_dark", "face_blurred")


@dataclass(frozen=True)
class FramingPolicy:
    min_face_px: int = 64  # face box height: below this the models see a smudge
    # The frame must be at least this many times the face box in both directions, so
    # that the models see some background around the head (MiniFASNet was trained on
    # 2.7x and 4x the box; it tolerates less, not none).
    min_context: float = 1.25
    max_overflow: float = 0.08  # share of the box the detector placed outside the image
    min_colour: float = 4.0  # mean |B-G| + |G-R| of the face, 0 for a grey image
    min_brightness: float = 45.0  # mean grey level of the face, 0..255
    min_sharpness: float = 8.0  # Laplacian variance of the face resized to 128x128


def framing_metrics(image: np.ndarray, box: FaceBox) -> dict[str, float]:
    h, w = image.shape[:2]
    face = image[max(0, box.y0) : box.y1, max(0, box.x0) : box.x1]
    b, g, r = (face[..., i].astype(np.float32) for i in range(3))
    grey = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (128, 128), interpolation=cv2.INTER_AREA)
    return {
        "face_px": float(box.height),
        "context": float(min(w / max(1, box.width), h / max(1, box.height))),
        "overflow": float(box.overflow),
        "colour": float(np.abs(b - g).mean() + np.abs(g - r).mean()),
        "brightness": float(grey.mean()),
        "sharpness": float(cv2.Laplacian(small, cv2.CV_64F).var()),
    }


def framing_reasons(m: dict[str, float], policy: FramingPolicy = FramingPolicy()) -> list[str]:
    """Reason codes (from :data:`FRAMING_REASONS`) that ``framing_metrics`` break."""
    out = []
    if m["face_px"] < policy.min_face_px:
        out.append("face_too_small")
    if m["context"] < policy.min_context:
        out.append("face_too_large")
    if m["overflow"] > policy.max_overflow:
        out.append("face_cut_off")
    if m["colour"] < policy.min_colour:
        out.append("image_grayscale")
    if m["brightness"] < policy.min_brightness:
        out.append("face_too_dark")
    if m["sharpness"] < policy.min_sharpness:
        out.append("face_blurred")
    return out
