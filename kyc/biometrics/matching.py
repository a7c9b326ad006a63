"""1:1 comparison of templates against calibrated thresholds.

A matcher turns the cosine similarity of each component embedding into one similarity
in [0, 1] with a logistic model, ``sigmoid(bias + sum(weight_i * cosine_i))``: for a
single model a monotone recalibration, for ``fused`` the score fusion of dlib and
MobileFaceNet. Weights and the thresholds at each operating point (``fmr_1e-2``,
``fmr_1e-3``, ``fmr_1e-4``: the false match rate the threshold allows) are data in
``calibration.json``, written by ``kyc bench face --write-calibration``, never guessed.

The ``cascade`` scorer spends the expensive model only where it changes decisions: the
fast first matcher (MobileFaceNet) decides at once when its similarity is outside a
band around the operating point, and the full fusion decides inside it. The band per
operating point is calibrated so that the cascade's FNMR stays within 0.2 points of
the fusion's (``calibration.json``, ``cascade``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kyc.biometrics.template import Template
from kyc.biometrics.types import Comparison
from kyc.errors import error

__all__ = [
    "compare_templates",
    "Matcher",
    "Cascade",
    "Calibration",
    "load_calibration",
    "calibration",
    "CALIBRATION_FILE",
    "OPERATING_POINTS",
    "CASCADE",
]

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
OPERATING_POINTS = ("fmr_1e-2", "fmr_1e-3", "fmr_1e-4")
CASCADE = "cascade"


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


@dataclass(frozen=True)
class Cascade:
    """``first`` decides alone outside ``bands[op] = (low, high)`` (no match below
    ``low``, match at or above ``high``, both on its similarity); ``second`` decides
    inside, at its own threshold."""

    first: str
    second: str
    bands: dict[str, tuple[float, float]]

    def first_decision(self, similarity: float, operating_point: str) -> bool | None:
        """True/False when the first matcher decides, None inside the band."""
        low, high = self.bands[operating_point]
        if similarity >= high:
            return True
        if similarity < low:
            return False
        return None


@dataclass(frozen=True)
class Calibration:
    default_model: str  # the scorer used when none is named
    matchers: dict[str, Matcher]
    cascade: Cascade | None
    flip: dict[str, bool]  # manifest id -> embed the mirror image too

    def components(self, model: str) -> tuple[str, ...]:
        """Manifest ids a template of ``model`` carries when made (the cascade: its first matcher's)."""
        if model == CASCADE and self.cascade is not None:
            return self.matchers[self.cascade.first].components
        if model not in self.matchers:
            raise KeyError(f"no calibration for face model {model!r}; known: {sorted(self.models)}")
        return self.matchers[model].components

    @property
    def models(self) -> tuple[str, ...]:
        return (*self.matchers, *((CASCADE,) if self.cascade is not None else ()))


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """The matchers, cascade and flip choices of the calibration file."""
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
    c = doc.get("cascade")
    cascade = None
    if c is not None:
        cascade = Cascade(c["first"], c["second"], {op: (float(lo), float(hi)) for op, (lo, hi) in c["bands"].items()})
    flip = {k: bool(v) for k, v in doc.get("flip", {}).items()}
    return Calibration(doc["default_model"], matchers, cascade, flip)


def calibration() -> Calibration:
    return load_calibration()


def default_model() -> str:
    return load_calibration().default_model


def get_matcher(name: str) -> Matcher:
    matchers = load_calibration().matchers
    if name not in matchers:
        raise KeyError(f"no calibration for face model {name!r}; known: {sorted(matchers)}")
    return matchers[name]


def _similarity(matcher: Matcher, a: Template, b: Template) -> float:
    ea, eb = a.embeddings, b.embeddings
    if any(c not in ea or c not in eb for c in matcher.components):
        raise error("template_invalid", "The template's components do not match its model's calibration.")
    va = {v.split("@", 1)[0]: v for v, _ in a.components}
    vb = {v.split("@", 1)[0]: v for v, _ in b.components}
    if any(va[c] != vb[c] for c in matcher.components):
        raise error("template_model_mismatch", model_a=a.version, model_b=b.version)
    if any(ea[c].shape != eb[c].shape for c in matcher.components):
        raise error("template_invalid")
    cos = np.array([float(np.dot(ea[c], eb[c])) for c in matcher.components])
    sim = float(matcher.similarity(cos))
    if not math.isfinite(sim):
        raise error("template_invalid")
    return sim


Completer = Callable[[Template, Template, tuple[str, ...]], tuple[Template, Template]]


def compare_templates(
    a: Template, b: Template, operating_point: str = "fmr_1e-3", *, complete: Completer | None = None
) -> Comparison:
    """Compare two templates made by the same model (else ``template_model_mismatch``).

    For ``cascade`` templates whose first similarity falls in the band, ``complete``
    (default: :func:`kyc.biometrics.pipeline.complete_templates`) adds the second
    matcher's components from the templates' in-memory source faces.
    """
    if a.model != b.model:
        raise error("template_model_mismatch", model_a=a.model, model_b=b.model)
    if operating_point not in OPERATING_POINTS:
        raise error("validation_failed", f"unknown operating point; use one of {', '.join(OPERATING_POINTS)}")
    cal = load_calibration()
    if a.model == CASCADE and cal.cascade is not None:
        return _compare_cascade(cal.cascade, a, b, operating_point, complete)
    if a.version != b.version:
        raise error("template_model_mismatch", model_a=a.model, model_b=b.model)
    matcher = get_matcher(a.model)
    ids = tuple(v.split("@", 1)[0] for v, _ in a.components)
    if ids != matcher.components:
        raise error("template_invalid", "The template's components do not match its model's calibration.")
    sim = _similarity(matcher, a, b)
    threshold = matcher.thresholds[operating_point]
    return Comparison(sim, bool(sim >= threshold), threshold, a.model, operating_point, a.model)


def _compare_cascade(cascade: Cascade, a: Template, b: Template, op: str, complete: Completer | None) -> Comparison:
    first = get_matcher(cascade.first)
    sim = _similarity(first, a, b)
    decided = cascade.first_decision(sim, op)
    if decided is not None:
        return Comparison(sim, decided, first.thresholds[op], CASCADE, op, cascade.first)
    second = get_matcher(cascade.second)
    if any(c not in t.embeddings for t in (a, b) for c in second.components):
        if complete is None:
            from kyc.biometrics.pipeline import complete_templates as complete
        a, b = complete(a, b, second.components)
    sim2 = _similarity(second, a, b)
    threshold = second.thresholds[op]
    return Comparison(sim2, bool(sim2 >= threshold), threshold, CASCADE, op, cascade.second)
