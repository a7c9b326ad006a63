"""The cascade's band: where the fast model's score is too close to call.

Pure functions on score arrays. ``s1`` is the first (fast) matcher's similarity, ``s2``
the full fusion's, per comparison. The cascade accepts when ``s1 >= high``, rejects when
``s1 < low`` and otherwise holds ``s2`` against the fusion's threshold ``t2``.
:func:`fit_band` picks ``(low, high)`` on calibration data: the band that sends the
fewest comparisons to the second model while the cascade's FNMR stays within
``margin`` of the fusion's and its FMR within the target; the benchmark then measures
it on folds the fit never saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Band", "fit_band", "cascade_accepts", "band_share", "FMR_TOLERANCE"]

# Candidate band edges, as quantiles of the genuine first-stage scores (low) and as
# fractions of the target FMR among impostor first-stage scores (high).
_LOW_Q = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3)
_HIGH_F = (1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.0)
FMR_TOLERANCE = 1.1  # the cascade's FMR may exceed the target (or the fusion's) by 10%
_LOW_IMP_Q = (0.999, 0.995, 0.99, 0.98, 0.95, 0.9, 0.8, 0.5)


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    fnmr: float  # the cascade's, on the data it was fitted on
    fmr: float
    fnmr_full: float  # the fusion's alone
    share_genuine: float  # share of genuine comparisons that needed the second model
    share_impostor: float


def cascade_accepts(s1: np.ndarray, s2: np.ndarray, low: float, high: float, t2: float) -> np.ndarray:
    return (s1 >= high) | ((s1 >= low) & (s2 >= t2))


def band_share(s1: np.ndarray, low: float, high: float) -> float:
    return float(np.mean((s1 >= low) & (s1 < high))) if len(s1) else 0.0


def fit_band(
    gen1: np.ndarray, gen2: np.ndarray, imp1: np.ndarray, imp2: np.ndarray, t2: float, fmr: float, t1: float, margin: float = 0.001
) -> Band:
    """The band sending the fewest comparisons to the second model (genuine and impostor
    shares weighted alike) while meeting the constraints; ``t1``
    (the first matcher's own threshold at this FMR) is always inside the band."""
    fnmr_full = float(np.mean(gen2 < t2))
    # impostors that matter: any the cascade could accept (s1 near the top, or s2 over t2)
    imp_desc = np.sort(imp1)[::-1]
    n_imp = len(imp1)
    highs = []
    for f in _HIGH_F:
        k = int(np.floor(f * fmr * n_imp))
        highs.append(float(np.nextafter(imp_desc[k], np.inf)) if k < n_imp else float(imp_desc[-1]))
    # low edges: genuine quantiles (rejecting a few genuine comparisons at once), and, below
    # the lowest genuine score, impostor quantiles (rejecting impostors only)
    lows = [float(np.quantile(gen1, q)) for q in _LOW_Q if q > 0] + [float(np.min(gen1)) if len(gen1) else 0.0]
    lows += [min(float(np.quantile(imp1, q)), lows[-1]) for q in _LOW_IMP_Q] + [0.0]
    imp_asc = imp_desc[::-1]
    # the fusion's own FMR at t2 may already be a little over the target (thresholds
    # fitted on other data): the cascade may match it, with FMR_TOLERANCE of slack
    fmr_cap = FMR_TOLERANCE * max(fmr, float(np.mean(imp2 >= t2)))
    over2 = imp1[imp2 >= t2]  # impostors the fusion accepts (about fmr x n_imp)
    best: Band | None = None
    for hi in sorted(set(highs)):
        hi = max(hi, t1)
        n_first = n_imp - int(np.searchsorted(imp_asc, hi, side="left"))  # s1 >= hi
        for lo in sorted(set(lows), reverse=True):
            lo = min(lo, t1)
            fnmr = float(np.mean(~cascade_accepts(gen1, gen2, lo, hi, t2)))
            fmr_c = (n_first + int(np.sum((over2 >= lo) & (over2 < hi)))) / n_imp
            if fnmr > fnmr_full + margin or fmr_c > fmr_cap:
                continue
            share = band_share(gen1, lo, hi)
            share_imp = float(np.searchsorted(imp_asc, hi, side="left") - np.searchsorted(imp_asc, lo, side="left")) / n_imp
            if best is None or share + share_imp < best.share_genuine + best.share_impostor:
                best = Band(lo, hi, fnmr, fmr_c, fnmr_full, share, share_imp)
    if best is None:  # no band meets it: the second model always decides
        lo, hi = 0.0, 2.0  # similarities are in [0, 1]: every comparison is in the band
        best = Band(lo, hi, fnmr_full, float(np.mean(imp2 >= t2)), fnmr_full, 1.0, 1.0)
    return best
