"""What the browser tests feed Chromium's fake camera and file picker, made on the fly.

Chromium's ``--use-file-for-fake-video-capture`` plays a Y4M file (4:2:0) in a loop,
from its first frame each time a page opens the camera. Everything here is made from
the project's synthetic ID cards and the public face photos in ``../shared/data``.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from benchmarks.synthetic_cards import photograph, random_identity, render_back, render_front

SIZE = (640, 480)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """BGR frames (all ``SIZE``) as a 4:2:0 Y4M file."""
    w, h = SIZE
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for f in frames:
            fh.write(b"FRAME\n")
            fh.write(cv2.cvtColor(cv2.resize(f, SIZE), cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def still_picture(photo: np.ndarray) -> np.ndarray:
    """A face photo filling most of the frame's height on a grey wall (a print held up)."""
    w, h = SIZE
    s = 0.9 * h / photo.shape[0]
    ph = cv2.resize(photo, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)[:h, :w]
    out = np.full((h, w, 3), 118, np.uint8)
    y0, x0 = (h - ph.shape[0]) // 2, (w - ph.shape[1]) // 2
    out[y0 : y0 + ph.shape[0], x0 : x0 + ph.shape[1]] = ph
    return out


def video_frames(path: Path, fps: int = 15, max_s: float = 20.0) -> list[np.ndarray]:
    """A phone video's frames, upright, resampled to ``fps`` and letterboxed into ``SIZE``."""
    import av

    out: list[np.ndarray] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        next_t = 0.0
        for frame in container.decode(stream):
            t = float(frame.time or 0.0)
            if t > max_s:
                break
            if t + 1e-6 < next_t:
                continue
            next_t += 1.0 / fps
            img = frame.to_ndarray(format="bgr24")
            rot = int(round(getattr(frame, "rotation", 0) or 0)) % 360
            if rot == 90:
                img = cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
            elif rot == 270:
                img = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
            elif rot == 180:
                img = cv2.rotate(img, cv2.ROTATE_180)
            out.append(_letterbox(img))
    return out


def _letterbox(img: np.ndarray) -> np.ndarray:
    w, h = SIZE
    s = min(w / img.shape[1], h / img.shape[0])
    small = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
    out = np.zeros((h, w, 3), np.uint8)
    y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    out[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return out


def card_photos(holder: Path, seed: str = "capture-card") -> tuple[bytes, bytes]:
    """JPEG photos of a synthetic Chinese ID card (front carrying ``holder``'s face, and back)."""
    rng = random.Random(seed)
    ident = random_identity(rng)
    face = Image.open(holder).convert("RGB")
    w, h = face.size
    portrait = face.crop((int(w * 0.15), int(h * 0.1), int(w * 0.85), int(h * 0.75)))
    return photograph(render_front(ident, rng, portrait=portrait), seed=1), photograph(render_back(ident, rng), seed=2)


def jpeg(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)).save(buf, format="JPEG", quality=92)
    return buf.getvalue()
