"""MiniFASNet passive scores: the two Silent-Face models on wide crops around the face.

Where the texture classifier looks at the face's skin, MiniFASNet looks at the face *in
its surroundings* (crops 2.7x and 4x the face box), which is where a phone screen's
bezel, a print's edge or a replay's moiré show. Crops follow the models' training
recipe: the box is scaled about its centre, the scale reduced if the image is too small,
and the box shifted (not cut) to stay inside the image; then resized to 80x80 BGR 0-255.

The score is the two models' "real" probabilities averaged (0..1).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kyc.config import Settings
from kyc.model_registry import load_manifest, onnx_session

__all__ = ["MiniFasScore", "minifasnet_crop", "minifasnet_score", "minifasnet_models"]

INPUT_SIZE = 80
REAL_INDEX = 1


@dataclass(frozen=True)
class MiniFasScore:
    score: float  # mean probability of "real" over the models
    per_model: dict[str, float]


def minifasnet_crop(image: np.ndarray, box: tuple[int, int, int, int], scale: float, size: int = INPUT_SIZE) -> np.ndarray:
    """The ``size`` x ``size`` crop of ``box`` (x0, y0, x1, y1) scaled by ``scale`` about its
    centre; the scale shrinks to fit the image and the box shifts inside it."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    bw, bh = max(1, x1 - x0), max(1, y1 - y0)
    scale = min((h - 1) / bh, (w - 1) / bw, scale)
    nw, nh = bw * scale, bh * scale
    cx, cy = x0 + bw / 2, y0 + bh / 2
    left, top = cx - nw / 2, cy - nh / 2
    right, bottom = cx + nw / 2, cy + nh / 2
    if left < 0:
        right -= left
        left = 0
    if top < 0:
        bottom -= top
        top = 0
    if right > w - 1:
        left -= right - w + 1
        right = w - 1
    if bottom > h - 1:
        top -= bottom - h + 1
        bottom = h - 1
    crop = image[int(top) : int(bottom) + 1, int(left) : int(right) + 1]
    return cv2.resize(crop, (size, size))


def minifasnet_models(settings: Settings | None = None) -> dict[str, float]:
    """The MiniFASNet ONNX models and their crop scales, from the manifest: every
    presentation-attack model whose I/O spec names a ``crop_scale``."""
    return {
        spec.id: float(spec.io["crop_scale"])
        for spec in load_manifest(settings).values()
        if spec.task == "presentation-attack-detection" and "crop_scale" in spec.io
    }


def minifasnet_score(image: np.ndarray, box: tuple[int, int, int, int], settings: Settings | None = None) -> MiniFasScore:
    """Mean "real" probability of the MiniFASNet models for the face ``box`` in a BGR image."""
    per: dict[str, float] = {}
    for model_id, scale in minifasnet_models(settings).items():
        crop = minifasnet_crop(image, box, scale)
        x = np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32)
        sess = onnx_session(model_id, settings)
        probs = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        per[model_id] = float(probs[0, REAL_INDEX])
    return MiniFasScore(score=float(np.mean(list(per.values()))), per_model=per)
