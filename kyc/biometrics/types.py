"""Value objects of the face pipeline: a detection, a quality report, a comparison.

Coordinates are pixels of the image that was passed in, x to the right and y down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["FaceDetection", "QualityReport", "Comparison", "Role"]

Role = Literal["selfie", "id_portrait"]


@dataclass(frozen=True)
class FaceDetection:
    """One face found in an image.

    ``box`` is ``(x, y, w, h)`` in pixels; ``landmarks5`` is a 5x2 float array of
    image coordinates in the order left eye, right eye, nose tip, left mouth corner,
    right mouth corner ("left" meaning the image's left, i.e. the person's right eye),
    the order of the ArcFace alignment template. ``score`` is the detector's confidence
    in [0, 1] (dlib HOG scores are squashed into it); ``detector`` names the detector.
    """

    box: tuple[int, int, int, int]
    landmarks5: np.ndarray
    score: float
    detector: str

    @property
    def inter_eye_px(self) -> float:
        """Distance between the eye centres in pixels (the face-size measure of ISO/IEC 19794-5)."""
        return float(np.linalg.norm(self.landmarks5[1] - self.landmarks5[0]))

    @property
    def area(self) -> int:
        return int(self.box[2]) * int(self.box[3])


@dataclass(frozen=True)
class QualityReport:
    """Whether a face is good enough to enrol or compare, and why not.

    ``reasons`` are stable codes (``face_too_small``, ``blurred``, ``overexposed``,
    ``underexposed``, ``pose_yaw``, ``pose_pitch``, ``pose_roll``, ``eyes_closed``,
    ``multiple_faces``); ``metrics`` holds the measured values (units in their names).
    """

    ok: bool
    reasons: list[str]
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """A 1:1 decision: similarity in [0, 1], the threshold it was held against, and by what.

    ``stage`` is the matcher that decided: the model itself, or for the ``cascade`` its
    fast first model (score outside the band) or the full fusion (score inside it);
    ``similarity`` and ``threshold`` are that matcher's.
    """

    similarity: float
    match: bool
    threshold: float
    model: str
    operating_point: str
    stage: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "similarity": self.similarity,
            "match": self.match,
            "threshold": self.threshold,
            "model": self.model,
            "operating_point": self.operating_point,
            "stage": self.stage or self.model,
        }
