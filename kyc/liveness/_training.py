"""Training and subject-disjoint evaluation of the passive classifier.

Kept in the library (not a notebook) so ``kyc liveness train`` reproduces the committed
weights and ``kyc bench liveness`` reproduces the reported figures with the same code.
The data set is a folder with ``labels.csv`` (``file,label,attack_type,subject_id``;
``label`` is ``real`` or ``spoof``), as ``../shared/data/liveness/nuaa/``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kyc.biometrics.fast_detection import find_faces
from kyc.liveness._metrics import threshold_at_apcer
from kyc.liveness._passive import PASSIVE_MODEL, PassiveModel, face_crop
from kyc.liveness._texture import passive_features

__all__ = ["LabelledSet", "load_labelled_set", "fit_passive", "oof_scores", "calibrate_threshold", "train_passive_model"]

DEFAULT_C = 0.1  # inverse L2 strength; chosen by subject-disjoint CV (see the model card)
TARGET_APCER = 0.05


@dataclass
class LabelledSet:
    files: list[str]
    features: np.ndarray  # (n, d)
    live: np.ndarray  # (n,) bool
    attack_types: list[str]
    subjects: np.ndarray  # (n,) str
    no_face: int  # images where no face was found and the whole image was used


def load_labelled_set(root: Path) -> LabelledSet:
    """Features of every image in ``root/labels.csv``.

    The crops are already tight faces; when the detector still finds none, the whole
    image is used as the face crop (counted in ``no_face``).
    """
    with (root / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    feats, live, types, subjects, files = [], [], [], [], []
    no_face = 0
    for r in rows:
        img = cv2.imread(str(root / r["file"]), cv2.IMREAD_COLOR)
        if img is None:
            continue
        faces = find_faces(img)
        if faces:
            crop = face_crop(img, faces[0])
        else:
            no_face += 1
            crop = img
        feats.append(passive_features(crop))
        live.append(r["label"] == "real")
        types.append("bona_fide" if r["label"] == "real" else r.get("attack_type") or "attack")
        subjects.append(r.get("subject_id", ""))
        files.append(r["file"])
    return LabelledSet(files, np.array(feats), np.array(live), types, np.array(subjects), no_face)


def fit_passive(features: np.ndarray, live: np.ndarray, c: float = DEFAULT_C):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
    clf.fit(features, live)
    return clf


def _to_model(clf, threshold: float, name: str = PASSIVE_MODEL) -> PassiveModel:
    scaler, lr = clf[0], clf[-1]
    sign = 1.0 if bool(lr.classes_[1]) else -1.0  # probability of the "live" class
    return PassiveModel(
        name=name,
        mean=scaler.mean_.copy(),
        scale=scaler.scale_.copy(),
        coef=sign * lr.coef_[0].copy(),
        intercept=sign * float(lr.intercept_[0]),
        threshold=threshold,
    )


def oof_scores(features: np.ndarray, live: np.ndarray, subjects: np.ndarray, c: float = DEFAULT_C) -> np.ndarray:
    """Leave-one-subject-out probabilities of "live": each subject scored by a model that never saw it."""
    out = np.zeros(len(live))
    for s in np.unique(subjects):
        held = subjects == s
        model = _to_model(fit_passive(features[~held], live[~held], c), 0.5)
        out[held] = model.probability(features[held])
    return out


def calibrate_threshold(features: np.ndarray, live: np.ndarray, subjects: np.ndarray, c: float = DEFAULT_C) -> float:
    """Threshold at APCER 5% on leave-one-subject-out scores of these (training) subjects only."""
    scores = oof_scores(features, live, subjects, c)
    return threshold_at_apcer(scores[~live], TARGET_APCER)


def train_passive_model(data: LabelledSet, c: float = DEFAULT_C, subjects: list[str] | None = None) -> PassiveModel:
    """Fit on ``subjects`` (default all) and calibrate the threshold on the same subjects by LOSO."""
    keep = np.ones(len(data.live), bool) if subjects is None else np.isin(data.subjects, subjects)
    x, y, g = data.features[keep], data.live[keep], data.subjects[keep]
    threshold = calibrate_threshold(x, y, g, c)
    return _to_model(fit_passive(x, y, c), threshold)


def model_to_json(model: PassiveModel, meta: dict[str, object]) -> dict[str, object]:
    return {
        "name": model.name,
        "kind": "standardise + logistic regression over kyc.liveness._texture.passive_features",
        "meta": meta,
        "threshold": model.threshold,
        "intercept": model.intercept,
        "mean": [float(v) for v in model.mean],
        "scale": [float(v) for v in model.scale],
        "coef": [float(v) for v in model.coef],
    }
