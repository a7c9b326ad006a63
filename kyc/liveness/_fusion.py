"""Fusion of the passive cues into one calibrated score with three outcomes.

Cues (each a logit, "higher = more likely live"):

* ``texture``: the small colour-texture classifier (:mod:`kyc.liveness._passive`),
  trained on NUAA; it sees the face's skin and print texture;
* ``minifasnet-v2`` and ``minifasnet-v1se``: the Silent-Face CNNs on 2.7x and 4x crops
  around the face; they see screens, bezels, paper edges and moiré.

The fusion is a logistic regression over the clipped cue logits whose weights and
thresholds are fitted on several data sets with each data set weighted equally
(``kyc liveness calibrate``; figures leave-one-dataset-out in ``kyc bench liveness``).
Two thresholds on its probability:

* ``threshold``: the operating point, APCER <= 5% on every calibration data set;
  a score at or above it is ``live``;
* ``spoof_threshold``: BPCER <= 5% on the calibration bona fide; below it is ``spoof``.

Between the two the evidence is ``weak``: not enough to approve on a still selfie,
not enough to call an attack, so the verification goes to review.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kyc.config import Settings, get_settings
from kyc.model_registry import verify_model

__all__ = ["FUSION_MODEL", "CUES", "FusionModel", "PassiveOutcome", "load_fusion_model", "cue_matrix"]

FUSION_MODEL = "liveness-passive-fusion"
CUES = ("texture", "minifasnet-v2", "minifasnet-v1se")
PassiveOutcome = Literal["live", "weak", "spoof", "retake"]


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def cue_matrix(cues: list[dict[str, float]], names: tuple[str, ...] = CUES, clip: float = 8.0) -> np.ndarray:
    """Rows of cue logits in ``names`` order, clipped to +-``clip`` (a texture logit of 20
    on a studio photo says no more than one of 8)."""
    return np.clip(np.array([[c[n] for n in names] for c in cues], dtype=np.float64), -clip, clip)


@dataclass(frozen=True)
class FusionModel:
    name: str
    cues: tuple[str, ...]
    clip: float
    coef: np.ndarray
    intercept: float
    threshold: float
    spoof_threshold: float
    meta: dict = field(default_factory=dict)

    def probability(self, cues: list[dict[str, float]]) -> np.ndarray:
        z = cue_matrix(cues, self.cues, self.clip) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def outcome(self, score: float) -> PassiveOutcome:
        if score >= self.threshold:
            return "live"
        if score < min(self.spoof_threshold, self.threshold):
            return "spoof"
        return "weak"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": "logistic regression over clipped cue logits (kyc.liveness._fusion)",
            "cues": list(self.cues),
            "clip": self.clip,
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
            "threshold": float(self.threshold),
            "spoof_threshold": float(self.spoof_threshold),
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, doc: dict) -> "FusionModel":
        return cls(
            name=str(doc["name"]),
            cues=tuple(doc["cues"]),
            clip=float(doc["clip"]),
            coef=np.asarray(doc["coef"], dtype=np.float64),
            intercept=float(doc["intercept"]),
            threshold=float(doc["threshold"]),
            spoof_threshold=float(doc["spoof_threshold"]),
            meta=dict(doc.get("meta", {})),
        )


_lock = threading.Lock()
_models: dict[str, FusionModel] = {}


def load_fusion_model(settings: Settings | None = None) -> FusionModel:
    path = verify_model(FUSION_MODEL, settings or get_settings())
    with _lock:
        model = _models.get(str(path))
        if model is None:
            model = _models[str(path)] = FusionModel.from_dict(json.loads(path.read_text()))
        return model


logit = _logit
