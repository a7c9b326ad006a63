"""The passive check's framing gate and its calibrated fusion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kyc.biometrics.fast_detection import find_faces, find_one_face
from kyc.liveness._calibration import CueRow, fit_fusion
from kyc.liveness._framing import FRAMING_REASONS, framing_metrics, framing_reasons
from kyc.liveness._fusion import CUES, FusionModel


def _on_canvas(img: np.ndarray, size=(640, 480)) -> np.ndarray:
    """A face photo placed on a plain background: a selfie with room around the head."""
    w, h = size
    canvas = np.full((h, w, 3), 120, np.uint8)
    s = 0.8 * h / img.shape[0]
    small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return canvas


def _reasons(img: np.ndarray) -> list[str]:
    return framing_reasons(framing_metrics(img, find_one_face(img)))


@pytest.mark.models
def test_a_well_framed_colour_selfie_passes_the_gate(face_photos):
    assert _reasons(_on_canvas(face_photos["img10.jpg"])) == []


@pytest.mark.models
def test_unusable_selfies_get_a_retake_reason(face_photos):
    good = _on_canvas(face_photos["img10.jpg"])
    grey = cv2.cvtColor(cv2.cvtColor(good, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert "image_grayscale" in _reasons(grey)
    dark = (good.astype(np.float32) * 0.15).astype(np.uint8)
    assert "face_too_dark" in _reasons(dark)
    blurred = cv2.GaussianBlur(good, (0, 0), 6)
    assert "face_blurred" in _reasons(blurred)
    box = find_one_face(good)
    tight = good[box.y0 + box.height // 6 : box.y1 - box.height // 8, box.x0 : box.x1]
    tight_reasons = framing_reasons(framing_metrics(tight, find_faces(tight)[0]))
    assert {"face_too_large", "face_cut_off"} & set(tight_reasons), tight_reasons
    small = cv2.resize(good, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    faces = find_faces(small)
    if faces:  # the detector may not find a face this small at all, which is also a refusal
        assert "face_too_small" in framing_reasons(framing_metrics(small, faces[0]))
    assert set(tight_reasons) <= set(FRAMING_REASONS)


@pytest.mark.models
def test_check_passive_asks_for_a_retake_not_a_spoof_for_a_grey_selfie(face_photos):
    from kyc.liveness import check_passive

    good = _on_canvas(face_photos["img10.jpg"])
    grey = cv2.cvtColor(cv2.cvtColor(good, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    r = check_passive(grey)
    assert r.outcome == "retake" and "image_grayscale" in r.reasons and not r.live


def _rows(rng, name, n_live, n_attack, shift):
    rows = []
    for i in range(n_live + n_attack):
        live = i < n_live
        centre = (3.0 if live else -3.0) + shift
        cues = {c: float(rng.normal(centre, 1.5)) for c in CUES}
        rows.append(CueRow(name, f"{name}/{i}", live, "bona_fide" if live else "print", cues=cues))
    return rows


def test_fusion_thresholds_hold_on_every_calibration_set():
    rng = np.random.default_rng(7)
    rows = _rows(rng, "a", 200, 300, 0.0) + _rows(rng, "b", 50, 40, 1.0) + _rows(rng, "c", 80, 0, -0.5)
    model = fit_fusion(rows)
    assert model.coef.shape == (len(CUES),) and (model.coef > 0).all()
    for name in ("a", "b"):
        attack = [r.cues for r in rows if r.dataset == name and not r.live]
        assert (model.probability(attack) >= model.threshold).mean() <= 0.05
    for name in ("a", "b", "c"):
        live = [r.cues for r in rows if r.dataset == name and r.live]
        assert (model.probability(live) < model.spoof_threshold).mean() <= 0.05
    again = FusionModel.from_dict(model.to_dict())
    assert np.allclose(again.probability([rows[0].cues]), model.probability([rows[0].cues]))


def test_fusion_outcomes_have_a_weak_band():
    m = FusionModel("f", CUES, 8.0, np.ones(3), 0.0, threshold=0.8, spoof_threshold=0.3)
    assert m.outcome(0.9) == "live" and m.outcome(0.5) == "weak" and m.outcome(0.1) == "spoof"
    crossed = FusionModel("f", CUES, 8.0, np.ones(3), 0.0, threshold=0.4, spoof_threshold=0.6)
    assert crossed.outcome(0.5) == "live" and crossed.outcome(0.3) == "spoof"
    # clipped logits: one extreme cue cannot outvote the others without bound
    assert m.probability([{"texture": 1e6, "minifasnet-v2": -8, "minifasnet-v1se": -8}])[0] < 0.5


@pytest.mark.models
def test_a_selfie_face_the_fast_detector_misses_is_found_by_the_accurate_one(shared_data):
    from kyc.biometrics.fast_detection import find_selfie_face

    img = cv2.imread(str(shared_data / "faces" / "deepface_tests" / "img27.jpg"))
    assert find_faces(img) == []  # dlib HOG misses this turned face
    box = find_selfie_face(img)
    assert box.width > 50 and box.height > 50 and box.x1 <= img.shape[1] and box.y1 <= img.shape[0]
