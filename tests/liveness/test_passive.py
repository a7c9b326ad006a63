"""Passive detection: the ISO metrics, the cues, the committed classifier."""

import csv
import json

import cv2
import numpy as np
import pytest

from kyc.config import PROJECT_ROOT
from kyc.errors import KycError
from kyc.liveness import check_passive
from kyc.liveness._metrics import apcer, bpcer, bpcer_at_apcer, pad_report, threshold_at_apcer
from kyc.liveness._texture import lbp_codes, passive_features, uniform_lbp_histogram


def test_iso_metrics_by_hand():
    live = np.array([0.9, 0.8, 0.7, 0.2])
    attack = np.array([0.1, 0.3, 0.75, 0.05, 0.0, 0.2, 0.15, 0.12, 0.11, 0.01])
    assert apcer(attack, 0.5) == pytest.approx(0.1)
    assert bpcer(live, 0.5) == pytest.approx(0.25)
    t = threshold_at_apcer(attack, 0.05)  # 10 attacks: none may pass
    assert apcer(attack, t) == 0.0 and t > 0.75
    b, _ = bpcer_at_apcer(live, attack, 0.10)  # one may pass: threshold just over 0.3
    assert b == pytest.approx(0.25)
    rep = pad_report(np.r_[live, attack], np.r_[np.ones(4, bool), np.zeros(10, bool)], ["x"] * 14, 0.5)
    assert rep["apcer_per_type"] == {"x": pytest.approx(0.1)} and rep["bpcer"] == pytest.approx(0.25)


def test_lbp_of_a_flat_patch_is_one_uniform_code():
    flat = np.full((10, 10), 7, np.uint8)
    assert (lbp_codes(flat) == 255).all()
    h = uniform_lbp_histogram(flat)
    assert h.sum() == pytest.approx(1.0) and h.max() == pytest.approx(1.0)


def test_features_do_not_depend_on_resolution(face_photos):
    img = face_photos["img10.jpg"]
    a = passive_features(img)
    b = passive_features(cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))
    assert a.shape == b.shape and np.isfinite(a).all()
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_committed_weights_are_small_and_match_the_feature_length():
    doc = json.loads((PROJECT_ROOT / "models" / "weights" / "liveness_passive_lr.json").read_text())
    n = len(passive_features(np.zeros((96, 96, 3), np.uint8)))
    assert len(doc["coef"]) == len(doc["mean"]) == len(doc["scale"]) == n
    assert (PROJECT_ROOT / "models" / "weights" / "liveness_passive_lr.json").stat().st_size < 1_000_000


@pytest.mark.models
def test_check_passive_result_shape(shared_data):
    from kyc.images import decode_image

    img = decode_image((shared_data / "liveness" / "silent_face_samples" / "image_T1.jpg").read_bytes())
    r = check_passive(img)
    assert 0.0 <= r.score <= 1.0 and r.live == (r.outcome == "live")
    assert r.outcome in {"live", "weak", "spoof", "retake"}
    assert {"blur_laplacian_log_var", "moire_peak_ratio", "specular_fraction", "border_lines", "context"} <= set(r.signals)
    assert set(r.cues) == {"texture", "minifasnet-v2", "minifasnet-v1se"}
    assert r.model == "liveness-passive-fusion" and r.to_dict()["outcome"] == r.outcome


@pytest.mark.models
def test_check_passive_errors(face_photos, shared_data):
    with pytest.raises(KycError) as exc:
        check_passive(np.full((300, 300, 3), 128, np.uint8))
    assert exc.value.code == "face_not_found"
    couple = cv2.imread(str(shared_data / "faces" / "deepface_tests" / "couple.jpg"))
    with pytest.raises(KycError) as exc:
        check_passive(couple)
    assert exc.value.code == "face_multiple"


@pytest.fixture(scope="module")
def nuaa_set(nuaa):
    from kyc.liveness._training import load_labelled_set

    return load_labelled_set(nuaa)


@pytest.mark.models
def test_classifier_separates_subjects_it_never_saw(nuaa_set):
    """Train on six NUAA subjects, score the other two: far better than chance."""
    from kyc.liveness._training import train_passive_model

    data = nuaa_set
    train = ["0001", "0002", "0003", "0004", "0005", "0006"]
    model = train_passive_model(data, subjects=train)
    held = ~np.isin(data.subjects, train)
    scores = model.probability(data.features[held])
    live = data.live[held]
    assert len(set(data.subjects[held])) == 2 and live.any() and (~live).any()
    assert bpcer(scores[live], model.threshold) <= 0.2
    assert apcer(scores[~live], model.threshold) <= 0.2


@pytest.mark.models
def test_training_reproduces_the_committed_weights(nuaa_set):
    from kyc.liveness._training import train_passive_model

    doc = json.loads((PROJECT_ROOT / "models" / "weights" / "liveness_passive_lr.json").read_text())
    model = train_passive_model(nuaa_set)
    assert np.allclose(model.coef, doc["coef"], atol=1e-6) and model.threshold == pytest.approx(doc["threshold"], abs=1e-6)


def test_labels_file_has_the_expected_columns(nuaa):
    with (nuaa / "labels.csv").open() as fh:
        assert {"file", "label", "attack_type", "subject_id"} <= set(csv.DictReader(fh).fieldnames)
