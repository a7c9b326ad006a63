"""1:1 comparison of templates against calibrated thresholds.

A matcher turns the cosine similarity of each component embedding into one similarity
in [0, 1] with a logistic model, ``sigmoid(bias + sum(weight_i * cosine_i))``: for a
single model a monotone recalibration, for ``fused`` the score fusion of dlib and
MobileFaceNet. Weights and the thresholds at each operating point (``fmr_1e-2``,
``fmr_1e-3``, ``fmr_1e-4``: the false match rate the threshold allows) are data in
``calibration.json``, written by ``kyc bench face --write-calibration``, never guessed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kyc.biometrics.template import Template
from kyc.biometrics.types import Comparison
from kyc.errors import error

__all__ = ["compare_templates", "Matcher", "load_calibration", "CALIBRATION_FILE", "OPERATING_POINTS"]

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
OPERATING_POINTS = ("fmr_1e-2", "fmr_1e-3", "fmr_1e-4")


@dataclass(frozen=True)
class Matcher:
    name: str
    components: tuple[str, ...]  # manifest ids, in template order
    weights: tuple[float, ...]
    bias: float
    thresholds: dict[str, float]

    def similarity(self, cosines: np.ndarray) -> np.ndarray:
        """Similarity in [0, 1] from cosine similarities (..., n_components)."""
        z = self.bias + np.asarray(cosines, dtype=np.float64) @ np.asarray(self.weights)
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION_FILE) -> tuple[str, dict[str, Matcher]]:
    """(default model name, matchers by name) from the calibration file."""
    doc = json.loads(Path(path).read_text())
    matchers = {
        name: Matcher(
            name=name,
            components=tuple(m["components"]),
            weights=tuple(float(w) for w in m["weights"]),
            bias=float(m["bias"]),
            thresholds={k: float(v) for k, v in m["thresholds"].items()},
        )
        for name, m in doc["models"].items()
    }
    return doc["default_model"], matchers


def default_model() -> str:
    return load_calibration()[0]


def get_matcher(name: str) -> Matcher:
    matchers = load_calibration()[1]
    if name not in matchers:
        raise KeyError(f"no calibration for face model {name!r}; known: {sorted(matchers)}")
    return matchers[name]


def compare_templates(a: Template, b: Template, operating_point: str = "fmr_1e-3") -> Comparison:
    """Compare two templates made by the same model (else ``template_model_mismatch``)."""
    if a.model != b.model or a.version != b.version:
        raise error("template_model_mismatch", model_a=a.model, model_b=b.model)
    if operating_point not in OPERATING_POINTS:
        raise error("validation_failed", f"unknown operating point; use one of {', '.join(OPERATING_POINTS)}")
    matcher = get_matcher(a.model)
    ids = tuple(v.split("@", 1)[0] for v, _ in a.components)
    if ids != matcher.components:
        raise error("template_invalid", "The template's components do not match its model's calibration.")
    if any(ea.shape != eb.shape for (_, ea), (_, eb) in zip(a.components, b.components, strict=True)):
        raise error("template_invalid")
    cos = np.array([float(np.dot(ea, eb)) for (_, ea), (_, eb) in zip(a.components, b.components, strict=True)])
    sim = float(matcher.similarity(cos))
    threshold = matcher.thresholds[operating_point]
    if not math.isfinite(sim):
        raise error("template_invalid")
    return Comparison(
        similarity=sim,
        match=bool(sim >= threshold),
        threshold=threshold,
        model=a.model,
        operating_point=operating_point,
    )
