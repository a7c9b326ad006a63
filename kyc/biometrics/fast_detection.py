"""Fast face boxes with dlib's HOG detector: the detector of per-frame work.

Liveness tracks a face through dozens of video frames and the passive check must stay
within tens of milliseconds, so this is the cheap detector of the face layer
(:func:`kyc.biometrics.detect_faces`, MTCNN first, is the accurate one used for
templates). dlib's frontal HOG detector runs on a downscaled copy. Coordinates are
always (x, y) in pixels of the image passed in.

Each box records how far the detector placed it outside the image (``overflow``):
a face whose forehead or chin is cut off by the frame still gets a box, clipped, and
the framing gate can say "cut off" instead of guessing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from kyc.errors import KycError, error

__all__ = ["FaceBox", "find_faces", "find_one_face", "find_selfie_face", "to_gray", "SECOND_FACE_RATIO"]

DETECT_MAX_SIDE = 320  # px: HOG detection on a copy no larger than this (faces >= ~40 px there)
SECOND_FACE_RATIO = 0.5  # another face at least half as tall as the largest counts as "several"


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in image pixels, half-open: ``x0 <= x < x1``."""

    x0: int
    y0: int
    x1: int
    y1: int
    score: float = 0.0
    overflow: float = 0.0  # largest share of the box's width/height that lay outside the image

    @property
    def xyxy(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


_local = threading.local()  # one HOG detector per thread: cheap, and no shared scratch state


def _get_detector():
    det = getattr(_local, "detector", None)
    if det is None:
        import dlib

        det = _local.detector = dlib.get_frontal_face_detector()
    return det



def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def find_faces(image: np.ndarray, *, max_side: int = DETECT_MAX_SIDE, pad_retry: bool = True) -> list[FaceBox]:
    """Faces in a BGR (or grey) image, largest first.

    Detection runs on a copy whose longer side is at most ``max_side`` (upsampled
    once when the image is small). Tight face crops (forehead or chin cut off) defeat
    the HOG detector, so when nothing is found the image is padded by a quarter of its
    size with replicated edges and tried again.
    """
    gray = to_gray(image)
    h, w = gray.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = gray if scale == 1.0 else cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    upsample = 1 if max(small.shape) < 200 else 0
    boxes = _detect(small, upsample, scale, 0, 0)
    if not boxes and pad_retry:
        pad = max(small.shape) // 4
        padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        boxes = _detect(padded, upsample, scale, pad, pad)
    clipped = [
        FaceBox(max(0, b.x0), max(0, b.y0), min(w, b.x1), min(h, b.y1), b.score, _overflow(b, w, h)) for b in boxes
    ]
    clipped = [b for b in clipped if b.width > 4 and b.height > 4]
    return sorted(clipped, key=lambda b: b.width * b.height, reverse=True)


def _overflow(b: FaceBox, w: int, h: int) -> float:
    bw, bh = max(1, b.width), max(1, b.height)
    return max(0.0, -b.x0 / bw, -b.y0 / bh, (b.x1 - w) / bw, (b.y1 - h) / bh)


def _detect(small: np.ndarray, upsample: int, scale: float, ox: int, oy: int) -> list[FaceBox]:
    det = _get_detector()
    rects, scores, _ = det.run(small, upsample, 0.0)
    out = []
    for r, s in zip(rects, scores):
        out.append(
            FaceBox(
                round((r.left() - ox) / scale),
                round((r.top() - oy) / scale),
                round((r.right() + 1 - ox) / scale),
                round((r.bottom() + 1 - oy) / scale),
                float(s),
            )
        )
    return out


def find_one_face(image: np.ndarray, **kwargs) -> FaceBox:
    """The one face of a selfie: ``face_not_found`` or ``face_multiple`` otherwise."""
    faces = find_faces(image, **kwargs)
    if not faces:
        raise error("face_not_found")
    big = faces[0]
    others = [f for f in faces[1:] if f.height >= SECOND_FACE_RATIO * big.height]
    if others:
        raise error("face_multiple", faces=1 + len(others))
    return big


def find_selfie_face(image: np.ndarray, **kwargs) -> FaceBox:
    """The one face of a still selfie: the fast HOG detector first, and when it finds none
    (a turned or partly lit face), the accurate detector of the face layer
    (:func:`kyc.biometrics.detect_faces`, MTCNN). ``face_not_found`` / ``face_multiple``."""
    try:
        return find_one_face(image, **kwargs)
    except KycError as exc:
        if exc.code != "face_not_found":
            raise
    from kyc.biometrics.detection import detect_faces

    found = detect_faces(image)
    if not found:
        raise error("face_not_found")
    found = sorted(found, key=lambda f: f.box[2] * f.box[3], reverse=True)
    others = [f for f in found[1:] if f.box[3] >= SECOND_FACE_RATIO * found[0].box[3]]
    if others:
        raise error("face_multiple", faces=1 + len(others))
    h, w = image.shape[:2]
    x, y, bw, bh = found[0].box
    raw = FaceBox(int(x), int(y), int(x + bw), int(y + bh), float(found[0].score))
    return FaceBox(max(0, raw.x0), max(0, raw.y0), min(w, raw.x1), min(h, raw.y1), raw.score, _overflow(raw, w, h))
