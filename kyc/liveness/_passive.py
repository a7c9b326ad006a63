"""Passive presentation-attack detection on one selfie.

A small logistic-regression classifier over the cues in :mod:`kyc.liveness._texture`,
trained on NUAA (see ``models/cards/liveness-passive.md``); its coefficients, feature
scaling and calibrated threshold are one JSON file committed in ``models/weights/`` and
verified by SHA-256 through the model manifest (id :data:`PASSIVE_MODEL`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import numpy as np

from kyc.config import Settings, get_settings
from kyc.errors import error
from kyc.liveness._faces import FaceBox, find_one_face
from kyc.liveness._texture import border_lines, passive_features, scalar_signals
from kyc.model_registry import verify_model

__all__ = ["PassiveResult", "PassiveModel", "check_passive", "face_crop", "load_passive_model", "PASSIVE_MODEL"]

PASSIVE_MODEL = "liveness-passive-lr"
CROP_MARGIN = 0.15  # the face box grows by this share of its size on each side


@dataclass(frozen=True)
class PassiveResult:
    """``score`` is the classifier's probability of a live face (0..1, higher = more
    likely live); ``live`` is ``score >= threshold``."""

    live: bool
    score: float
    threshold: float
    signals: dict[str, float] = field(default_factory=dict)
    model: str = PASSIVE_MODEL

    def to_dict(self) -> dict[str, object]:
        return {"live": self.live, "score": self.score, "threshold": self.threshold, "signals": self.signals, "model": self.model}


@dataclass(frozen=True)
class PassiveModel:
    """Standardise, then logistic regression; ``threshold`` applies to the probability."""

    name: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float

    def logit(self, features: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(features) - self.mean) / self.scale
        return z @ self.coef + self.intercept

    def probability(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(features), -50, 50)))

    @classmethod
    def from_dict(cls, doc: dict) -> "PassiveModel":
        return cls(
            name=str(doc["name"]),
            mean=np.asarray(doc["mean"], dtype=np.float64),
            scale=np.asarray(doc["scale"], dtype=np.float64),
            coef=np.asarray(doc["coef"], dtype=np.float64),
            intercept=float(doc["intercept"]),
            threshold=float(doc["threshold"]),
        )


_lock = threading.Lock()
_models: dict[str, PassiveModel] = {}


def load_passive_model(settings: Settings | None = None) -> PassiveModel:
    """The verified passive model (``model_missing``/``model_altered`` if not fetched)."""
    path = verify_model(PASSIVE_MODEL, settings or get_settings())
    with _lock:
        model = _models.get(str(path))
        if model is None:
            model = PassiveModel.from_dict(json.loads(path.read_text()))
            _models[str(path)] = model
        return model


def face_crop(image: np.ndarray, box: FaceBox, margin: float = CROP_MARGIN) -> np.ndarray:
    """The face box grown by ``margin`` on each side, clipped to the image."""
    h, w = image.shape[:2]
    mx, my = margin * box.width, margin * box.height
    x0, y0 = max(0, int(box.x0 - mx)), max(0, int(box.y0 - my))
    x1, y1 = min(w, int(box.x1 + mx)), min(h, int(box.y1 + my))
    return image[y0:y1, x0:x1]


def check_passive(
    image: np.ndarray,
    *,
    box: FaceBox | None = None,
    model: PassiveModel | None = None,
    settings: Settings | None = None,
) -> PassiveResult:
    """Is this BGR selfie of a live face rather than a photo or screen? One image, no motion.

    Raises ``face_not_found`` / ``face_multiple``. ``box`` skips detection when the
    caller has already found the face.
    """
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        raise error("image_corrupt", "Expected a colour image.")
    model = model or load_passive_model(settings)
    box = box or find_one_face(image)
    crop = face_crop(image, box)
    if min(crop.shape[:2]) < 24:
        raise error("face_too_small")
    feats = passive_features(crop)
    logit = float(model.logit(feats)[0])
    score = float(1.0 / (1.0 + np.exp(-np.clip(logit, -50, 50))))
    signals = {k: round(v, 6) for k, v in scalar_signals(crop).items()}
    signals["border_lines"] = round(border_lines(image, (box.x0, box.y0, box.x1, box.y1)), 6)
    signals["classifier_logit"] = round(logit, 6)
    return PassiveResult(live=score >= model.threshold, score=score, threshold=model.threshold, signals=signals, model=model.name)
