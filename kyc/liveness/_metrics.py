"""ISO/IEC 30107-3 presentation-attack detection figures: pure functions.

Scores are "higher = more likely a bona fide (live) presentation"; a presentation is
accepted as live when ``score >= threshold``.

* APCER: share of attack presentations accepted as live (per attack type; the
  standard reports the worst type).
* BPCER: share of bona fide presentations rejected as attacks.
* BPCER at APCER x%: BPCER at the threshold where APCER is at most x%.
"""

from __future__ import annotations

import numpy as np

__all__ = ["apcer", "bpcer", "threshold_at_apcer", "bpcer_at_apcer", "pad_report"]


def apcer(attack_scores: np.ndarray, threshold: float) -> float:
    a = np.asarray(attack_scores, dtype=np.float64)
    return float((a >= threshold).mean()) if a.size else float("nan")


def bpcer(live_scores: np.ndarray, threshold: float) -> float:
    b = np.asarray(live_scores, dtype=np.float64)
    return float((b < threshold).mean()) if b.size else float("nan")


def threshold_at_apcer(attack_scores: np.ndarray, target: float = 0.05) -> float:
    """The lowest threshold whose APCER is at most ``target`` (ties count as accepted)."""
    a = np.sort(np.asarray(attack_scores, dtype=np.float64))[::-1]
    if a.size == 0:
        raise ValueError("no attack scores")
    allowed = int(np.floor(target * a.size + 1e-9))  # attacks that may pass
    if allowed >= a.size:
        return float(a[-1])
    return float(np.nextafter(a[allowed], np.inf))


def bpcer_at_apcer(live_scores: np.ndarray, attack_scores: np.ndarray, target: float = 0.05) -> tuple[float, float]:
    """(BPCER, threshold) at the threshold where APCER <= ``target``."""
    t = threshold_at_apcer(attack_scores, target)
    return bpcer(live_scores, t), t


def pad_report(scores: np.ndarray, live: np.ndarray, attack_types: list[str], threshold: float) -> dict[str, object]:
    """APCER per attack type and BPCER at ``threshold``, plus BPCER at APCER 5% and 10%."""
    scores = np.asarray(scores, dtype=np.float64)
    live = np.asarray(live, dtype=bool)
    types = np.asarray(attack_types)
    out: dict[str, object] = {
        "threshold": threshold,
        "n_bona_fide": int(live.sum()),
        "n_attack": int((~live).sum()),
        "bpcer": bpcer(scores[live], threshold),
        "apcer_per_type": {str(t): apcer(scores[~live & (types == t)], threshold) for t in sorted(set(types[~live]))},
    }
    per = list(out["apcer_per_type"].values())  # type: ignore[union-attr]
    out["apcer_max"] = max(per) if per else float("nan")
    if (~live).any() and live.any():
        for target in (0.05, 0.10):
            b, t = bpcer_at_apcer(scores[live], scores[~live], target)
            out[f"bpcer_at_apcer_{int(target * 100)}"] = b
            out[f"threshold_at_apcer_{int(target * 100)}"] = t
    return out
