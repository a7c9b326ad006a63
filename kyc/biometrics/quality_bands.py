"""Quality bands of the ID portrait: which operating point a comparison may trust.

A portrait cut from a phone photo of a card can be too small, too blurred or turned
too far for the matcher's calibrated error rates to hold (the card-portrait benchmark
shows how fast the false non-match rate grows as the portrait degrades). Such a
portrait lands in the ``low`` band: a mismatch there goes to human review with the
reasons (``portrait_small``, ``portrait_blurred``, ``portrait_pose``) instead of
rejecting the holder. The limits are data (``calibration.json``,
``portrait_quality_bands``), fitted by ``kyc bench face --card-portraits``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kyc.biometrics.matching import CALIBRATION_FILE

__all__ = ["QualityBand", "BandLimit", "portrait_band", "band_limits"]


@dataclass(frozen=True)
class BandLimit:
    metric: str  # a key of quality_metrics()
    below: float | None  # the portrait is low quality when the metric is below this ...
    abs_above: float | None  # ... or its absolute value above this
    reason: str


@dataclass(frozen=True)
class QualityBand:
    name: str  # "good" or "low"
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"band": self.name, "reasons": list(self.reasons)}


def band_limits(doc: Mapping[str, object] | None = None) -> tuple[BandLimit, ...]:
    """The limits of the ``low`` band from the calibration file (none when it has no bands)."""
    if doc is None:
        import json

        doc = json.loads(CALIBRATION_FILE.read_text())
    raw = doc.get("portrait_quality_bands", {}).get("low_if", {})  # type: ignore[union-attr]
    return tuple(
        BandLimit(metric, v.get("below"), v.get("abs_above"), v["reason"]) for metric, v in raw.items()  # type: ignore[union-attr]
    )


def portrait_band(metrics: Mapping[str, float] | None, limits: tuple[BandLimit, ...] | None = None) -> QualityBand:
    """The band of a portrait from its quality metrics (``QualityReport.metrics``);
    ``unknown`` when no metrics were measured."""
    if not metrics:
        return QualityBand("unknown", ())
    reasons = []
    for lim in band_limits() if limits is None else limits:
        v = metrics.get(lim.metric)
        if v is None:
            continue
        if (lim.below is not None and v < lim.below) or (lim.abs_above is not None and abs(v) > lim.abs_above):
            reasons.append(lim.reason)
    return QualityBand("low" if reasons else "good", tuple(reasons))
