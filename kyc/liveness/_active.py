"""Active liveness: did a live, three-dimensional person do the asked actions, in order?

:func:`evaluate_session` tracks the face (:mod:`._tracking`), then :func:`judge_track`
decides from the track alone. Every check gives a score in 0..1 with 0.5 at its limit
(above = passes); the session's score is the lowest of them, so ``live`` is exactly
``score >= 0.5`` and the weakest check is the one to look at. Reasons are stable
strings: ``action_missing:<a>``, ``action_order:<a>``, ``face_lost``,
``multiple_faces``, ``face_changed``, ``frames_frozen``, ``frames_cut``,
``timestamps_implausible``, ``planar_motion``, ``no_head_motion``,
``capture_before_challenge`` (the footage is longer than the time since the challenge
was issued: it was recorded before anyone knew the actions), ``passive_spoof`` /
``passive_weak`` (the passive models do not find the session's best frame live: a
replay on a screen).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from kyc.config import Settings
from kyc.errors import KycError, error
from kyc.liveness._actions import ActionEvidence, Measurements, baseline_of, match_sequence
from kyc.biometrics.descriptor import SAME_FACE_DISTANCE, descriptor_distance, face_descriptor
from kyc.liveness._pose import planar_residual
from kyc.liveness._session import LivenessSession
from kyc.liveness._tracking import FaceTrack, texture_residual, track_faces
from kyc.liveness._video import MIN_FRAMES, Frame

__all__ = ["ActiveResult", "TrackEvidence", "evaluate_session", "evaluate_challenges", "judge_track", "ACTIVE_MODEL", "LIMITS"]

ACTIVE_MODEL = "active-v1 (dlib-landmarks68, dlib-resnet)"
THRESHOLD = 0.5

LIMITS = {
    "min_face_fraction": 0.8,  # share of frames with a tracked face
    "max_duplicate_fraction": 0.2,  # share of frames identical to the one before
    "duplicate_change": 0.1,  # grey levels: mean |difference| under this = the same frame
    "cut_histogram_change": 0.5,  # 1 - histogram correlation between neighbours
    "cut_frame_change": 25.0,  # grey levels, together with the histogram change
    "cut_face_jump": 0.6,  # face centre moves more than this many face widths in one frame
    "cut_scale_jump": 1.35,  # face width (landmark extent) changes by more than this factor in one frame
    # A jump of the landmarks counts as a cut only if the picture changed with it: a face
    # that really moves half its width between frames moves many pixels. Without this,
    # the landmark fitter flipping between two solutions at a near-profile pose (seen on
    # real phone video at 40-50 degrees of yaw) was taken for an edit.
    "cut_confirm_frame_change": 8.0,
    "min_fps": 4.0,
    "max_fps": 120.0,
    "max_gap_s": 0.6,
    "min_duration_s": 1.0,
    "max_duration_s": 30.0,
    "moved_yaw_deg": 10.0,  # frames turned at least this far feed the 3-D check
    "moved_pitch_deg": 7.0,
    "min_moved_frames": 2,
    "peak_frames": 5,  # the 3-D check looks at this many most-turned frames (median)
    "planar_residual": 0.032,  # landmarks: inter-ocular distances; a flat face moved in 3-D is fitted better
    "texture_residual": 0.035,  # face texture followed by optical flow, same units and rule
    "same_face_distance": SAME_FACE_DISTANCE,
    "identity_samples": 5,
    "identity_max_yaw_deg": 15.0,  # beyond this from the resting pose a frame counts as turned
    "identity_max_pitch_deg": 10.0,
    "same_face_distance_turned": 0.7,
    # The capture may not last longer than the time since the challenge was issued
    # (plus this much for clock granularity and upload): footage recorded before the
    # random actions were known cannot show them in order by chance.
    "challenge_clock_slack_s": 1.0,
}


@dataclass
class TrackEvidence:
    """Everything :func:`judge_track` needs, with no image: a test can build one by hand."""

    measurements: Measurements
    landmarks: list[np.ndarray | None]
    face_centres: np.ndarray  # (n, 2) px, NaN where no face
    face_widths: np.ndarray  # (n,) px
    faces_on_detection: list[int]
    frame_change: np.ndarray
    histogram_change: np.ndarray
    descriptor_distances: list[float]  # to the best frame's descriptor
    sharpness: np.ndarray
    texture_residuals: np.ndarray | None = None  # per frame, inter-ocular units (None: no images)


@dataclass
class ActiveResult:
    live: bool
    score: float
    reasons: list[str]
    actions: list[ActionEvidence]
    best_frame: np.ndarray | None = field(default=None, repr=False)
    best_frame_index: int | None = None
    threshold: float = THRESHOLD
    checks: dict[str, float] = field(default_factory=dict)
    measurements: dict[str, float] = field(default_factory=dict)
    model: str = ACTIVE_MODEL
    passive: dict[str, object] | None = None  # the passive check of the best frame

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, without the frame itself."""
        return {
            "passive": self.passive,
            "live": self.live,
            "score": self.score,
            "threshold": self.threshold,
            "reasons": list(self.reasons),
            "actions": [a.to_dict() for a in self.actions],
            "best_frame_index": self.best_frame_index,
            "checks": self.checks,
            "measurements": self.measurements,
            "model": self.model,
        }


def _margin(value: float, limit: float, higher_is_better: bool = True, softness: float = 0.5) -> float:
    """0..1 with 0.5 exactly at ``limit``; NaN counts as failing."""
    if not np.isfinite(value):
        return 0.0
    rel = (value / limit - 1.0) if higher_is_better else (limit / max(value, 1e-9) - 1.0)
    return float(0.5 + 0.5 * np.tanh(rel / softness))


def _best_frame(ev: TrackEvidence, base_yaw: float, base_pitch: float, base_ear: float) -> int | None:
    """Most frontal, eyes open, sharpest: the frame to match against the ID portrait."""
    m = ev.measurements
    ok = np.array([lm is not None for lm in ev.landmarks])
    if not ok.any():
        return None
    pose = np.abs(m.yaw - base_yaw) + np.abs(m.pitch - base_pitch) + np.abs(m.yaw) * 0.5
    eyes = np.clip(base_ear - m.ear, 0, None) / max(base_ear, 1e-6) * 30.0
    sharp = np.log1p(np.nan_to_num(ev.sharpness, nan=0.0))
    cost = pose + eyes - 2.0 * sharp
    cost = np.where(ok & np.isfinite(cost), cost, np.inf)
    if not np.isfinite(cost).any():  # pose or sharpness unmeasurable: any frame with a face
        return int(np.flatnonzero(ok)[0])
    return int(np.argmin(cost))


def judge_track(actions: list[str], ev: TrackEvidence) -> ActiveResult:
    """The decision from a track; no image needed (so it is unit-testable)."""
    m = ev.measurements
    n = len(m)
    reasons: list[str] = []
    checks: dict[str, float] = {}
    meas: dict[str, float] = {"frames": float(n)}
    L = LIMITS

    # -- timing
    t = m.t
    dt = np.diff(t)
    duration = float(t[-1] - t[0]) if n else 0.0
    fps = float(1.0 / np.median(dt)) if n > 1 and np.median(dt) > 0 else float("nan")
    meas.update(duration_s=round(duration, 3), fps=round(fps, 2) if np.isfinite(fps) else -1.0,
                max_gap_s=round(float(dt.max()), 3) if n > 1 else -1.0)
    timing_ok = (
        n > 1
        and bool(np.all(dt > 0))
        and L["min_fps"] <= fps <= L["max_fps"]
        and float(dt.max()) <= L["max_gap_s"]
        and L["min_duration_s"] <= duration <= L["max_duration_s"]
    )
    checks["timestamps"] = 1.0 if timing_ok else 0.0
    if not timing_ok:
        reasons.append("timestamps_implausible")

    # -- face presence and count
    present = np.array([lm is not None for lm in ev.landmarks])
    face_fraction = float(present.mean()) if n else 0.0
    meas["face_fraction"] = round(face_fraction, 3)
    checks["face_present"] = _margin(face_fraction, L["min_face_fraction"], softness=0.1)
    if face_fraction < L["min_face_fraction"]:
        reasons.append("face_lost")
    most_faces = max(ev.faces_on_detection, default=0)
    meas["max_faces"] = float(most_faces)
    checks["single_face"] = 1.0 if most_faces <= 1 else 0.0
    if most_faces > 1:
        reasons.append("multiple_faces")

    # -- continuity: frozen frames and cuts
    dup = ev.frame_change[1:] < L["duplicate_change"]
    dup_fraction = float(dup.mean()) if n > 1 else 1.0
    meas["duplicate_fraction"] = round(dup_fraction, 3)
    checks["not_frozen"] = _margin(dup_fraction + 1e-3, L["max_duplicate_fraction"], higher_is_better=False)
    if dup_fraction > L["max_duplicate_fraction"]:
        reasons.append("frames_frozen")
    cuts = (ev.histogram_change[1:] > L["cut_histogram_change"]) & (ev.frame_change[1:] > L["cut_frame_change"])
    c, wdt = ev.face_centres, ev.face_widths
    with np.errstate(invalid="ignore", divide="ignore"):
        jump = np.hypot(*(c[1:] - c[:-1]).T) / np.fmax(wdt[1:], 1.0)
        # Face width from the landmarks' extent, not the inter-ocular distance: the latter
        # shrinks with yaw and flickers with the fit near profile.
        scale = np.fmax(wdt[1:] / wdt[:-1], wdt[:-1] / wdt[1:])
    seen = ev.frame_change[1:] >= L["cut_confirm_frame_change"]
    cuts |= (np.nan_to_num(jump, nan=0.0) > L["cut_face_jump"]) & seen
    cuts |= (np.nan_to_num(scale, nan=1.0) > L["cut_scale_jump"]) & seen
    meas["cuts"] = float(cuts.sum())
    checks["no_cuts"] = 1.0 if not cuts.any() else 0.0
    if cuts.any():
        reasons.append("frames_cut")

    # -- actions in order
    base = baseline_of(m)
    evidence, action_reasons = match_sequence(actions, m, base)
    reasons += action_reasons
    for e in evidence:
        if not e.passed:
            checks[f"action:{e.action}"] = 0.0
        elif e.action == "blink":
            checks[f"action:{e.action}"] = _margin(e.measurements["min_ear"], e.measurements["closed_threshold"], False)
        else:
            checks[f"action:{e.action}"] = _margin(e.measurements["peak_change"], e.measurements["threshold"])

    # -- 3-D motion: the rigid landmarks of turned frames vs the resting frame
    lead = max(3, int(np.ceil(0.15 * n)))
    rest_cost = np.abs(m.yaw[:lead] - base.yaw) + np.abs(m.pitch[:lead] - base.pitch)
    rest_cost = np.where(present[:lead], np.nan_to_num(rest_cost, nan=np.inf), np.inf)
    ref = int(np.argmin(rest_cost)) if np.isfinite(rest_cost).any() else None
    moved = present & (
        (np.abs(np.nan_to_num(m.yaw - base.yaw)) >= L["moved_yaw_deg"])
        | (np.abs(np.nan_to_num(m.pitch - base.pitch)) >= L["moved_pitch_deg"])
    )
    moved_idx = np.flatnonzero(moved)
    change = np.abs(m.yaw - base.yaw) + np.abs(m.pitch - base.pitch)
    peak = moved_idx[np.argsort(-np.nan_to_num(change[moved_idx]))][: int(L["peak_frames"])]
    residuals = [planar_residual(ev.landmarks[ref], ev.landmarks[i]) for i in peak] if ref is not None else []
    residuals = [r for r in residuals if np.isfinite(r)]
    meas["moved_frames"] = float(len(moved_idx))
    if len(residuals) < L["min_moved_frames"]:
        reasons.append("no_head_motion")
        checks["depth"] = 0.0
    else:
        depth = float(np.median(residuals))
        meas["planar_residual"] = round(depth, 4)
        margin = _margin(depth, L["planar_residual"])
        planar = depth < L["planar_residual"]
        if ev.texture_residuals is not None:
            tex = ev.texture_residuals[peak]
            tex = tex[np.isfinite(tex)]
            tex_depth = float(np.median(tex)) if tex.size >= L["min_moved_frames"] else float("nan")
            meas["texture_residual"] = round(tex_depth, 4) if np.isfinite(tex_depth) else -1.0
            margin = min(margin, _margin(tex_depth, L["texture_residual"]))
            planar = planar or not (tex_depth >= L["texture_residual"])
        checks["depth"] = margin
        if planar:
            reasons.append("planar_motion")

    # -- one face throughout
    if ev.descriptor_distances:
        worst = float(max(ev.descriptor_distances))
        meas["max_descriptor_distance"] = round(worst, 4)
        checks["same_face"] = _margin(worst, L["same_face_distance"], higher_is_better=False, softness=0.3)
        if worst >= L["same_face_distance"]:
            reasons.append("face_changed")
    else:
        checks["same_face"] = 0.0
        if "face_lost" not in reasons:
            reasons.append("face_lost")

    score = float(min(checks.values())) if checks else 0.0
    live = not reasons and score >= THRESHOLD
    best = _best_frame(ev, base.yaw, base.pitch, base.ear)
    return ActiveResult(
        live=live,
        score=round(score, 4),
        reasons=reasons,
        actions=evidence,
        best_frame_index=best,
        checks={k: round(v, 4) for k, v in checks.items()},
        measurements=meas,
    )


def _evidence_from_track(track: FaceTrack, frames: list[Frame], settings: Settings | None) -> TrackEvidence:
    n = len(frames)
    centres = np.full((n, 2), np.nan)
    widths = np.full(n, np.nan)
    for i, lm in enumerate(track.landmarks):
        if lm is not None:
            centres[i] = lm.mean(axis=0)
            widths[i] = float(lm[:, 0].max() - lm[:, 0].min())
    ev = TrackEvidence(
        measurements=track.measurements,
        landmarks=track.landmarks,
        face_centres=centres,
        face_widths=widths,
        faces_on_detection=track.faces_on_detection,
        frame_change=track.frame_change,
        histogram_change=track.histogram_change,
        descriptor_distances=[],
        sharpness=track.sharpness,
        texture_residuals=np.array([texture_residual(track, i) for i in range(n)]),
    )
    # Identity: descriptors of a few frames spread over the track vs the best frame.
    base = baseline_of(track.measurements)
    best = _best_frame(ev, base.yaw, base.pitch, base.ear)
    # Frames spread over the whole capture are compared with the best one. Away from
    # the resting pose the same person's descriptor drifts (about 0.6 at 30 degrees of
    # yaw), so turned frames get a looser limit; a different person is usually far
    # beyond both.
    m = track.measurements
    have = [i for i, lm in enumerate(track.landmarks) if lm is not None]
    if best is not None and have:
        k = int(LIMITS["identity_samples"])
        picks = sorted({have[int(round(j))] for j in np.linspace(0, len(have) - 1, k)} - {best})
        ref = face_descriptor(frames[best].image, track.landmarks[best], settings)
        track.descriptors[best] = ref
        for i in picks:
            d = face_descriptor(frames[i].image, track.landmarks[i], settings)
            track.descriptors[i] = d
            turned = abs(m.yaw[i] - base.yaw) > LIMITS["identity_max_yaw_deg"] or abs(m.pitch[i] - base.pitch) > LIMITS["identity_max_pitch_deg"]
            limit = LIMITS["same_face_distance_turned"] if turned else LIMITS["same_face_distance"]
            # expressed against the frontal limit, so one comparison rule holds for all
            ev.descriptor_distances.append(descriptor_distance(ref, d) * LIMITS["same_face_distance"] / limit)
    return ev


def _fail(result: ActiveResult, reason: str, check: str) -> None:
    result.reasons.append(reason)
    result.checks[check] = 0.0
    result.live = False
    result.score = 0.0


def _check_challenge_clock(result: ActiveResult, frames: list[Frame], session: LivenessSession, now: datetime | None) -> None:
    """The footage must fit in the time between the challenge and its upload."""
    age = ((now or datetime.now(UTC)) - session.created_at).total_seconds()
    duration = float(frames[-1].t - frames[0].t) if frames else 0.0
    result.measurements["challenge_age_s"] = round(age, 3)
    if duration > age + LIMITS["challenge_clock_slack_s"]:
        _fail(result, "capture_before_challenge", "challenge_clock")
    else:
        result.checks["challenge_clock"] = 1.0


def _passive_on_best_frame(result: ActiveResult, settings: Settings | None) -> None:
    """The passive models on the frame that will be matched: a replay shown on a screen
    is caught by them even when its motion passes (a recording of the victim doing every
    action follows some challenges by chance). ``spoof`` and ``weak`` fail the session; a
    frame the framing gate would send back (``retake``: blurred, too close) is left to
    the active checks, since video frames are often softer than selfies."""
    from kyc.liveness._passive import check_passive

    try:
        passive = check_passive(result.best_frame, settings=settings)
    except KycError as exc:
        result.passive = {"outcome": "error", "error": exc.code}
        return
    d = passive.to_dict()
    d.pop("signals", None)
    result.passive = d
    if passive.outcome in ("spoof", "weak"):
        _fail(result, f"passive_{passive.outcome}", "passive")


def evaluate_session(
    session: LivenessSession | list[str],
    frames: list[Frame],
    *,
    mirrored: bool = False,
    settings: Settings | None = None,
    now: datetime | None = None,
    run_passive: bool = True,
) -> ActiveResult:
    """Decide a session from its frames (in capture order, ``t`` in seconds).

    ``session`` may also be the bare list of actions (for tests and benchmarks).
    Raises ``frames_too_few``. The result's ``best_frame`` is the frame to match
    against the ID portrait (None when no face was ever found).
    """
    actions = session.actions if isinstance(session, LivenessSession) else list(session)
    if len(frames) < MIN_FRAMES:
        raise error("frames_too_few", frames=len(frames), min_frames=MIN_FRAMES)
    started = time.perf_counter()
    track = track_faces(frames, mirrored=mirrored, settings=settings)
    ev = _evidence_from_track(track, frames, settings)
    result = judge_track(actions, ev)
    if isinstance(session, LivenessSession):
        _check_challenge_clock(result, frames, session, now)
    if result.best_frame_index is not None:
        result.best_frame = frames[result.best_frame_index].image
        if run_passive:
            _passive_on_best_frame(result, settings)
    result.measurements["detections"] = float(track.detections)
    result.measurements["elapsed_s"] = round(time.perf_counter() - started, 3)
    return result


def evaluate_challenges(challenges: list[list[str]], frames: list[Frame], *, settings: Settings | None = None) -> list[ActiveResult]:
    """One capture judged against several challenges, tracking it once (benchmarks: what
    would this footage pass?). The passive check of the best frame is shared too."""
    if len(frames) < MIN_FRAMES:
        raise error("frames_too_few", frames=len(frames), min_frames=MIN_FRAMES)
    track = track_faces(frames, settings=settings)
    ev = _evidence_from_track(track, frames, settings)
    results = [judge_track(list(ch), ev) for ch in challenges]
    passive: dict | None = None
    for r in results:
        if r.best_frame_index is None:
            continue
        r.best_frame = frames[r.best_frame_index].image
        if passive is None:
            _passive_on_best_frame(r, settings)
            passive = {"result": r.passive}
        else:
            r.passive = passive["result"]
            outcome = (r.passive or {}).get("outcome")
            if outcome in ("spoof", "weak"):
                _fail(r, f"passive_{outcome}", "passive")
    return results
