"""Turning an upload (a video, or JPEG frames with capture times) into timed frames.

Frames are BGR ``uint8`` arrays no larger than :data:`MAX_FRAME_SIDE` (phones record
1080p; liveness needs far less and the session must be decided in about a second), as
the camera captured them (not mirrored), upright (the video's rotation is applied).
``t`` is the capture time in seconds from the first frame.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np

from kyc.errors import error

__all__ = ["Frame", "decode_video", "decode_frames", "MAX_FRAME_SIDE", "MAX_FRAMES", "MIN_FRAMES"]

MAX_FRAME_SIDE = 960  # px
MAX_FRAMES = 450  # 30 s at 15 fps, or 15 s at 30 fps
MIN_FRAMES = 10


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR uint8 (h, w, 3)
    t: float  # seconds since the first frame


def _fit(image: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    s = max_side / max(h, w)
    return cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def _rotate(image: np.ndarray, degrees: int) -> np.ndarray:
    """Apply a display rotation (counter-clockwise degrees, as FFmpeg's display matrix)."""
    d = degrees % 360
    if d == 90:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if d == 180:
        return cv2.rotate(image, cv2.ROTATE_180)
    if d == 270:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    return image


def decode_video(
    data: bytes, *, max_side: int = MAX_FRAME_SIDE, max_frames: int = MAX_FRAMES, min_frames: int = MIN_FRAMES
) -> list[Frame]:
    """Decode an MP4/WebM/… video with PyAV into upright, downscaled, timed frames.

    Raises ``video_unreadable`` (not a video, or no decodable frame), ``frames_too_few``
    or ``video_too_long``. Time comes from each frame's presentation timestamp; a
    stream without timestamps falls back to its average frame rate.
    """
    import av

    if not data:
        raise error("video_unreadable", "The video upload is empty.")
    frames: list[Frame] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise error("video_unreadable", "The file has no video stream.")
            stream = container.streams.video[0]
            rate = float(stream.average_rate or 15)
            t0: float | None = None
            for i, vf in enumerate(container.decode(stream)):
                if len(frames) >= max_frames:
                    raise error("video_too_long", limit_frames=max_frames)
                t = vf.time if vf.time is not None else i / rate
                t0 = t if t0 is None else t0
                img = vf.to_ndarray(format="bgr24")
                img = _rotate(img, int(round(getattr(vf, "rotation", 0) or 0)))
                frames.append(Frame(np.ascontiguousarray(_fit(img, max_side)), float(t - t0)))
    except av.error.FFmpegError:
        raise error("video_unreadable") from None
    except (ValueError, IndexError, OSError):
        raise error("video_unreadable") from None
    if not frames:
        raise error("video_unreadable", "No frame could be decoded.")
    if len(frames) < min_frames:
        raise error("frames_too_few", frames=len(frames), min_frames=min_frames)
    return frames


def decode_frames(
    images: list[bytes], timestamps: list[float], *, max_side: int = MAX_FRAME_SIDE, min_frames: int = MIN_FRAMES
) -> list[Frame]:
    """JPEG (or PNG/WebP) frames with their capture times in seconds, in capture order."""
    from kyc.images import decode_image

    if len(images) != len(timestamps):
        raise error("validation_failed", "There must be one timestamp per frame.", frames=len(images), timestamps=len(timestamps))
    if len(images) < min_frames:
        raise error("frames_too_few", frames=len(images), min_frames=min_frames)
    if len(images) > MAX_FRAMES:
        raise error("video_too_long", limit_frames=MAX_FRAMES)
    t0 = timestamps[0]
    return [Frame(_fit(decode_image(b), max_side), float(t - t0)) for b, t in zip(images, timestamps)]
