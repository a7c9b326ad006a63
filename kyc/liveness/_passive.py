"""Passive presentation-attack detection on one selfie.

Steps: one face (the face layer's fast detector) → the framing gate
(:mod:`kyc.liveness._framing`: an unusable selfie gets ``retake`` and a reason) → the
cues → their calibrated fusion (:mod:`kyc.liveness._fusion`) → ``live``, ``weak`` or
``spoof``. The cues are the texture classifier below (a logistic regression over
:mod:`kyc.liveness._texture` features, trained on NUAA, manifest id
:data:`PASSIVE_MODEL`) and the two MiniFASNet CNNs (:mod:`kyc.liveness._minifasnet`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import numpy as np

from kyc.config import Settings, get_settings
from kyc.errors import error
from kyc.biometrics.fast_detection import FaceBox, find_selfie_face
from kyc.liveness._framing import framing_metrics, framing_reasons
from kyc.liveness._fusion import FUSION_MODEL, load_fusion_model, logit
from kyc.liveness._minifasnet import minifasnet_score
from kyc.liveness._texture import border_lines, passive_features, scalar_signals
from kyc.model_registry import verify_model

__all__ = [
    "PassiveResult",
    "PassiveModel",
    "check_passive",
    "passive_cues",
    "face_crop",
    "load_passive_model",
    "PASSIVE_MODEL",
]

PASSIVE_MODEL = "liveness-passive-lr"
CROP_MARGIN = 0.15  # the face box grows by this share of its size on each side


@dataclass(frozen=True)
class PassiveResult:
    """``score`` is the fused probability of a live face (0..1, higher = more likely live).

    ``outcome``: ``live`` (score >= ``threshold``, the calibrated operating point),
    ``weak`` (between ``spoof_threshold`` and ``threshold``: review, never approval),
    ``spoof`` (below ``spoof_threshold``) or ``retake`` (the framing gate refused the
    picture; ``reasons`` say why). ``live`` is ``outcome == "live"``.
    """

    live: bool
    score: float
    threshold: float
    signals: dict[str, float] = field(default_factory=dict)
    model: str = FUSION_MODEL
    outcome: str = "live"
    reasons: tuple[str, ...] = ()
    spoof_threshold: float = 0.0
    cues: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "live": self.live,
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "score": self.score,
            "threshold": self.threshold,
            "spoof_threshold": self.spoof_threshold,
            "cues": self.cues,
            "signals": self.signals,
            "model": self.model,
        }


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


def passive_cues(
    image: np.ndarray, box: FaceBox, *, texture: PassiveModel | None = None, settings: Settings | None = None
) -> dict[str, float]:
    """The fusion's cue logits for the face ``box`` in a BGR image."""
    texture = texture or load_passive_model(settings)
    cues = {"texture": float(texture.logit(passive_features(face_crop(image, box)))[0])}
    for model_id, p in minifasnet_score(image, box.xyxy, settings).per_model.items():
        cues[model_id] = logit(p)
    return cues


def check_passive(
    image: np.ndarray,
    *,
    box: FaceBox | None = None,
    settings: Settings | None = None,
) -> PassiveResult:
    """Is this BGR selfie of a live face rather than a photo or screen? One image, no motion.

    Raises ``face_not_found`` / ``face_multiple``. ``box`` skips detection when the
    caller has already found the face. An unusable picture is not an error: its outcome
    is ``retake`` with the framing reasons.
    """
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        raise error("image_corrupt", "Expected a colour image.")
    box = box or find_selfie_face(image)
    fusion = load_fusion_model(settings)
    metrics = framing_metrics(image, box)
    reasons = tuple(framing_reasons(metrics))
    signals = {k: round(v, 6) for k, v in metrics.items()}
    if reasons and metrics["face_px"] < 24:  # too small to score at all
        return PassiveResult(False, 0.0, fusion.threshold, signals, fusion.name, "retake", reasons, fusion.spoof_threshold)
    cues = passive_cues(image, box, settings=settings)
    score = float(fusion.probability([cues])[0])
    crop = face_crop(image, box)
    signals.update({k: round(v, 6) for k, v in scalar_signals(crop).items()})
    signals["border_lines"] = round(border_lines(image, box.xyxy), 6)
    outcome = "retake" if reasons else fusion.outcome(score)
    return PassiveResult(
        live=outcome == "live",
        score=score,
        threshold=fusion.threshold,
        signals=signals,
        model=fusion.name,
        outcome=outcome,
        reasons=reasons,
        spoof_threshold=fusion.spoof_threshold,
        cues={k: round(v, 6) for k, v in cues.items()},
    )
