"""Calibrating the passive fusion across data sets, and leave-one-dataset-out figures.

Each data set (NUAA prints, phone replays, Silent-Face phone photos, genuine face
photos) is a different capture; an operating point that holds only on the data it was
set on is worthless to a deployment. So the fusion is fitted with every data set
weighted equally, its thresholds are set so that they hold on *each* calibration data
set, and :func:`leave_one_dataset_out` reports every data set from a fusion that never
saw it. The texture cue was trained on NUAA, so on NUAA its logit comes from a model
trained on the other subjects (two subjects held out at a time): NUAA figures are on
subjects never used for training or calibration.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kyc.errors import KycError
from kyc.liveness._fusion import CUES, FUSION_MODEL, FusionModel, cue_matrix
from kyc.liveness._metrics import threshold_at_apcer

__all__ = [
    "CueRow",
    "DATASETS",
    "collect_cues",
    "fit_fusion",
    "leave_one_dataset_out",
    "TARGET_APCER",
    "TARGET_BPCER",
    "NUAA_FOLDS",
]

TARGET_APCER = 0.05
TARGET_BPCER = 0.05
CLIP = 8.0
C = 1.0
NUAA_FOLDS = [("0001", "0002"), ("0003", "0004"), ("0005", "0006"), ("0007", "0008")]


@dataclass
class CueRow:
    dataset: str
    file: str
    live: bool
    attack_type: str
    subject: str = ""
    cues: dict[str, float] | None = None
    error: str | None = None  # face_not_found / face_multiple: nothing to score
    framing: list[str] = field(default_factory=list)
    texture_features: np.ndarray | None = None


Item = tuple[str, bool, str, str]  # file (relative), live, attack type, subject


def _csv(root: Path, label_key: str = "label", skip: Callable[[dict], bool] = lambda r: False) -> Iterator[Item]:
    with (root / "labels.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            if skip(r):
                continue
            live = r[label_key] in ("real", "live")
            yield r["file"], live, "bona_fide" if live else (r.get("attack_type") or "attack"), r.get("subject_id", "")


def _nuaa(data: Path) -> Iterator[Item]:
    yield from ((f"liveness/nuaa/{f}", lv, t, s) for f, lv, t, s in _csv(data / "liveness" / "nuaa"))


def _phone_replay(data: Path) -> Iterator[Item]:
    for f, lv, _t, s in _csv(data / "liveness" / "phone_replay"):
        yield f"liveness/phone_replay/{f}", lv, "bona_fide" if lv else "replay (phone screen)", s


def _silent_face(data: Path) -> Iterator[Item]:
    skip = lambda r: r["file"].endswith("_result.jpg") or "/" in r["file"]  # noqa: E731
    yield from ((f"liveness/silent_face_samples/{f}", lv, t, s) for f, lv, t, s in _csv(data / "liveness" / "silent_face_samples", skip=skip))


def _faces(data: Path) -> Iterator[Item]:
    for p in sorted((data / "faces" / "deepface_tests").glob("*.jpg")):
        yield f"faces/deepface_tests/{p.name}", True, "bona_fide", ""


# One registry of the calibration data sets: name -> (folder that must exist, loader).
DATASETS: dict[str, tuple[str, Callable[[Path], Iterator[Item]]]] = {
    "nuaa": ("liveness/nuaa/labels.csv", _nuaa),
    "phone_replay": ("liveness/phone_replay/labels.csv", _phone_replay),
    "silent_face_samples": ("liveness/silent_face_samples/labels.csv", _silent_face),
    "faces": ("faces/deepface_tests", _faces),
}


def collect_cues(data: Path, datasets: list[str] | None = None, limit: int | None = None, settings=None) -> list[CueRow]:
    """Cue logits and framing reasons of every image in the available data sets.

    NUAA's texture logits are out-of-fold (:data:`NUAA_FOLDS`)."""
    from kyc.biometrics.fast_detection import find_selfie_face
    from kyc.images import decode_image
    from kyc.liveness._framing import framing_metrics, framing_reasons
    from kyc.liveness._passive import face_crop, passive_cues
    from kyc.liveness._texture import passive_features

    rows: list[CueRow] = []
    for name in datasets or list(DATASETS):
        marker, loader = DATASETS[name]
        if not (data / marker).exists():
            continue
        for i, (rel, live, attack, subject) in enumerate(loader(data)):
            if limit is not None and i >= limit:
                break
            row = CueRow(name, rel, live, attack, subject)
            rows.append(row)
            try:
                img = decode_image((data / rel).read_bytes(), min_side=16)
                box = find_selfie_face(img)
            except KycError as exc:
                row.error = exc.code
                continue
            row.cues = passive_cues(img, box, settings=settings)
            row.framing = framing_reasons(framing_metrics(img, box))
            if name == "nuaa":
                row.texture_features = passive_features(face_crop(img, box))
    _nuaa_out_of_fold(rows)
    return rows


def _nuaa_out_of_fold(rows: list[CueRow]) -> None:
    from kyc.liveness._training import _to_model, fit_passive

    nuaa = [r for r in rows if r.dataset == "nuaa" and r.cues is not None]
    if not nuaa:
        return
    x = np.array([r.texture_features for r in nuaa])
    y = np.array([r.live for r in nuaa])
    subj = np.array([r.subject for r in nuaa])
    for held in NUAA_FOLDS:
        test = np.isin(subj, held)
        if not test.any() or test.all():
            continue
        model = _to_model(fit_passive(x[~test], y[~test]), 0.5)
        for r, lg in zip(np.array(nuaa, dtype=object)[test], model.logit(x[test]), strict=True):
            r.cues["texture"] = float(lg)


def _weights(rows: list[CueRow]) -> np.ndarray:
    """Each (data set, class) weighs the same in the fit, whatever its size."""
    keys = [(r.dataset, r.live) for r in rows]
    counts: dict[tuple[str, bool], int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    return np.array([1.0 / counts[k] for k in keys])


def fit_fusion(rows: list[CueRow], name: str = FUSION_MODEL, meta: dict | None = None) -> FusionModel:
    """Fit on the scored ``rows``; thresholds so that APCER <= 5% and BPCER <= 5% hold on
    every data set among them that has attacks / bona fide presentations."""
    from sklearn.linear_model import LogisticRegression

    rows = [r for r in rows if r.cues is not None]
    x = cue_matrix([r.cues for r in rows], CUES, CLIP)
    y = np.array([r.live for r in rows])
    lr = LogisticRegression(C=C, max_iter=5000).fit(x, y, sample_weight=_weights(rows))
    sign = 1.0 if bool(lr.classes_[1]) else -1.0
    model = FusionModel(name, CUES, CLIP, sign * lr.coef_[0], sign * float(lr.intercept_[0]), 0.5, 0.0)
    p = model.probability([r.cues for r in rows])
    ds = np.array([r.dataset for r in rows])
    thr = max(threshold_at_apcer(p[(ds == d) & ~y], TARGET_APCER) for d in sorted(set(ds[~y])))
    spoof = min(float(np.quantile(p[(ds == d) & y], TARGET_BPCER, method="lower")) for d in sorted(set(ds[y])))
    meta = dict(meta or {})
    meta.setdefault("calibrated_on", sorted(set(ds.tolist())))
    meta.setdefault("images", int(len(rows)))
    return FusionModel(name, CUES, CLIP, model.coef, model.intercept, float(thr), float(spoof), meta)


def _rates(p: np.ndarray, live: np.ndarray, thr: float) -> tuple[float, float]:
    ap = float((p[~live] >= thr).mean()) if (~live).any() else float("nan")
    bp = float((p[live] < thr).mean()) if live.any() else float("nan")
    return ap, bp


def leave_one_dataset_out(rows: list[CueRow]) -> dict[str, dict]:
    """Per data set: the fusion fitted and calibrated without it, applied to it."""
    from kyc.liveness._metrics import bpcer_at_apcer

    out: dict[str, dict] = {}
    names = [d for d in DATASETS if any(r.dataset == d for r in rows)]
    for held in names:
        train = [r for r in rows if r.dataset != held]
        test = [r for r in rows if r.dataset == held]
        scored = [r for r in test if r.cues is not None]
        model = fit_fusion(train)
        p = model.probability([r.cues for r in scored]) if scored else np.zeros(0)
        live = np.array([r.live for r in scored], dtype=bool)
        ap, bp = _rates(p, live, model.threshold)
        outcomes = [model.outcome(float(s)) for s in p]
        res = {
            "calibrated_on": sorted({r.dataset for r in train}),
            "threshold": model.threshold,
            "spoof_threshold": model.spoof_threshold,
            "n_bona_fide": int(sum(r.live for r in test)),
            "n_attack": int(sum(not r.live for r in test)),
            "no_usable_face": {c: sum(1 for r in test if r.error == c) for c in sorted({r.error for r in test if r.error})},
            "apcer": ap,
            "bpcer": bp,
            "apcer_per_type": {
                t: float((p[[r.attack_type == t for r in scored]] >= model.threshold).mean())
                for t in sorted({r.attack_type for r in scored if not r.live})
            },
            "outcomes_bona_fide": {o: sum(1 for r, oc in zip(scored, outcomes) if r.live and oc == o) for o in ("live", "weak", "spoof")},
            "outcomes_attack": {o: sum(1 for r, oc in zip(scored, outcomes) if not r.live and oc == o) for o in ("live", "weak", "spoof")},
            "framing_retake_bona_fide": sum(1 for r in scored if r.live and r.framing),
            "framing_retake_attack": sum(1 for r in scored if not r.live and r.framing),
            "scores": [(r.file, r.live, float(s)) for r, s in zip(scored, p)],
        }
        if live.any() and (~live).any():
            b5, t5 = bpcer_at_apcer(p[live], p[~live], TARGET_APCER)
            res["bpcer_at_apcer_5_on_this_set"] = b5
        out[held] = res
    return out
