"""Action detectors over a landmark track: pure functions, no images.

A :class:`Measurements` track holds, per frame, the capture time and what the
landmarks say (eye and mouth opening, head pose); frames without a face are NaN.
Each detector finds the first occurrence of its action that starts at or after a
given frame, relative to the person's own resting values (:class:`Baseline`), and
returns the frames it spans and what was measured, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Measurements",
    "Baseline",
    "ActionEvidence",
    "baseline_of",
    "detect_action",
    "match_sequence",
    "DETECTORS",
    "TURN_DEG",
    "NOD_DEG",
]

TURN_DEG = 18.0  # yaw change, degrees, that counts as a turn
NOD_DEG = 10.0  # downward pitch change, degrees, that counts as a nod
ONSET_FRACTION = 1.0 / 3.0  # an action "starts" when it passes this share of its threshold
BLINK_CLOSED = 0.65  # eye aspect ratio under this share of the open one = closed
BLINK_OPEN = 0.85  # and back over this share = open again
BLINK_MAX_S = 1.0  # a longer closure is not a blink
BLINK_MAX_PITCH = 8.0  # degrees: a nod foreshortens the eyes, so no blink is read then
MOUTH_OPEN_MIN = 0.35  # inner-lip opening over width that counts as open
MOUTH_OPEN_RISE = 0.25  # and at least this much above the resting value
MIN_HOLD_FRAMES = 2  # turns, nods and open mouths must last this many frames
MAX_ACTION_S = 5.0  # one action may take at most this long from onset to end


@dataclass
class Measurements:
    """Per-frame values of a track (all arrays of length n; NaN = no face)."""

    t: np.ndarray  # seconds
    ear: np.ndarray  # eye aspect ratio
    mar: np.ndarray  # mouth aspect ratio
    yaw: np.ndarray  # degrees, > 0 = face toward the image's right
    pitch: np.ndarray  # degrees, > 0 = face down
    roll: np.ndarray  # degrees

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class Baseline:
    """The person's resting values: first frames for pose, typical values for eyes and mouth."""

    yaw: float
    pitch: float
    ear: float
    mar: float


@dataclass
class ActionEvidence:
    action: str
    passed: bool
    start_frame: int | None = None
    end_frame: int | None = None
    measurements: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "passed": self.passed,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "measurements": self.measurements,
        }


def _nanmedian(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else float("nan")


def baseline_of(m: Measurements, lead_fraction: float = 0.15) -> Baseline:
    """Resting pose from the first frames (the client asks to start facing the camera);
    open-eye and closed-mouth values from the whole track (most frames are at rest)."""
    n = len(m)
    lead = max(3, int(np.ceil(lead_fraction * n)))
    ear = m.ear[np.isfinite(m.ear)]
    mar = m.mar[np.isfinite(m.mar)]
    return Baseline(
        yaw=_nanmedian(m.yaw[:lead]),
        pitch=_nanmedian(m.pitch[:lead]),
        ear=float(np.percentile(ear, 80)) if ear.size else float("nan"),
        mar=float(np.percentile(mar, 20)) if mar.size else float("nan"),
    )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) index pairs of the True runs of a boolean array."""
    out = []
    i, n = 0, len(mask)
    while i < n:
        if mask[i]:
            j = i
            while j + 1 < n and mask[j + 1]:
                j += 1
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out


def _onset(values: np.ndarray, peak_start: int, level: float, floor: int) -> int:
    """The first frame of the climb toward a run: walk back while above ``level``."""
    i = peak_start
    while i - 1 >= floor and np.isfinite(values[i - 1]) and values[i - 1] >= level:
        i -= 1
    return i


def _excursion(
    m: Measurements, signal: np.ndarray, threshold: float, start: int, name: str, base: float
) -> ActionEvidence | None:
    """First run of ``signal >= threshold`` (at least MIN_HOLD_FRAMES long) from ``start``."""
    sig = np.where(np.isfinite(signal), signal, -np.inf)
    for a, b in _runs(sig >= threshold):
        if a < start or b - a + 1 < MIN_HOLD_FRAMES:
            continue
        onset = _onset(sig, a, threshold * ONSET_FRACTION, start)
        if m.t[b] - m.t[onset] > MAX_ACTION_S:
            continue
        peak = a + int(np.argmax(sig[a : b + 1]))
        return ActionEvidence(
            name,
            True,
            onset,
            b,
            {"peak_frame": float(peak), "peak_change": round(float(sig[peak]), 3), "baseline": round(base, 3),
             "threshold": threshold, "duration_s": round(float(m.t[b] - m.t[onset]), 3)},
        )
    return None


def detect_turn(m: Measurements, base: Baseline, start: int, direction: int) -> ActionEvidence | None:
    """A head turn: yaw moves ``TURN_DEG`` from rest, ``direction`` +1 (person's left) or -1."""
    name = "turn_left" if direction > 0 else "turn_right"
    ev = _excursion(m, direction * (m.yaw - base.yaw), TURN_DEG, start, name, base.yaw)
    if ev:
        ev.measurements["peak_yaw_deg"] = round(float(m.yaw[int(ev.measurements["peak_frame"])]), 2)
    return ev


def detect_nod(m: Measurements, base: Baseline, start: int) -> ActionEvidence | None:
    """A nod: the face tilts down by ``NOD_DEG`` from rest."""
    ev = _excursion(m, m.pitch - base.pitch, NOD_DEG, start, "nod", base.pitch)
    if ev:
        ev.measurements["peak_pitch_deg"] = round(float(m.pitch[int(ev.measurements["peak_frame"])]), 2)
    return ev


def detect_open_mouth(m: Measurements, base: Baseline, start: int) -> ActionEvidence | None:
    """The mouth opens wide: inner-lip opening over width passes both limits."""
    threshold = max(MOUTH_OPEN_MIN, base.mar + MOUTH_OPEN_RISE)
    ev = _excursion(m, m.mar - base.mar, threshold - base.mar, start, "open_mouth", base.mar)
    if ev:
        ev.measurements["peak_mouth_ratio"] = round(float(m.mar[int(ev.measurements["peak_frame"])]), 3)
    return ev


def detect_blink(m: Measurements, base: Baseline, start: int) -> ActionEvidence | None:
    """Eyes close (under BLINK_CLOSED of the open value) and open again within BLINK_MAX_S,
    with open eyes just before and after, while the head is not pitched (a nod
    foreshortens the eyes and would read as a blink)."""
    if not np.isfinite(base.ear):
        return None
    ear = np.where(np.isfinite(m.ear), m.ear, np.nan)
    calm = np.abs(np.nan_to_num(m.pitch - base.pitch, nan=99.0)) <= BLINK_MAX_PITCH
    closed = np.nan_to_num(ear, nan=np.inf) < BLINK_CLOSED * base.ear
    is_open = np.nan_to_num(ear, nan=-np.inf) >= BLINK_OPEN * base.ear
    for a, b in _runs(closed):
        if a < start or a == 0 or b == len(m) - 1:
            continue
        before = a - 1
        while before >= start and not is_open[before] and m.t[a] - m.t[before] <= 0.5:
            before -= 1
        after = b + 1
        while after < len(m) and not is_open[after] and m.t[after] - m.t[b] <= 0.5:
            after += 1
        if before < start or after >= len(m) or not (is_open[before] and is_open[after]):
            continue
        if m.t[b] - m.t[a] > BLINK_MAX_S or not calm[a : b + 1].all():
            continue
        return ActionEvidence(
            "blink",
            True,
            before,
            after,
            {"baseline_ear": round(base.ear, 4), "min_ear": round(float(np.nanmin(ear[a : b + 1])), 4),
             "closed_threshold": round(BLINK_CLOSED * base.ear, 4), "closed_s": round(float(m.t[b] - m.t[a]), 3)},
        )
    return None


DETECTORS: dict[str, Callable[[Measurements, Baseline, int], ActionEvidence | None]] = {
    "blink": detect_blink,
    "turn_left": lambda m, b, s: detect_turn(m, b, s, +1),
    "turn_right": lambda m, b, s: detect_turn(m, b, s, -1),
    "nod": detect_nod,
    "open_mouth": detect_open_mouth,
}


def detect_action(action: str, m: Measurements, base: Baseline | None = None, start: int = 0) -> ActionEvidence | None:
    return DETECTORS[action](m, base or baseline_of(m), start)


def match_sequence(actions: list[str], m: Measurements, base: Baseline | None = None) -> tuple[list[ActionEvidence], list[str]]:
    """Each asked action in order, each found after the previous one ended.

    Returns the evidence per action and the reasons for failure:
    ``action_missing:<a>`` (never seen) or ``action_order:<a>`` (seen, but only before
    the action that should precede it).
    """
    base = base or baseline_of(m)
    evidence: list[ActionEvidence] = []
    reasons: list[str] = []
    start = 0
    for action in actions:
        ev = DETECTORS[action](m, base, start)
        if ev is not None:
            evidence.append(ev)
            start = (ev.end_frame or start) + 1
            continue
        anywhere = DETECTORS[action](m, base, 0)
        if anywhere is not None:
            anywhere.passed = False
            evidence.append(anywhere)
            reasons.append(f"action_order:{action}")
        else:
            evidence.append(ActionEvidence(action, False))
            reasons.append(f"action_missing:{action}")
    return evidence, reasons
