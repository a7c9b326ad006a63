"""The capture page's pure rules: which read of a card photo asks for a retake and why,
and when a liveness attempt may be retaken."""

from __future__ import annotations

import cv2
import numpy as np

from kyc.capture import check_card, image_hints, liveness_outcome
from kyc.ocr.reading import Document, DocumentReading


def reading(*types, errors=()):
    return DocumentReading([Document(t, {}) for t in types], list(errors))


def test_the_side_asked_for_passes():
    c = check_card(reading("cn_id_front"), "front", [])
    assert c.ok and c.needs_back and c.reason is None
    c = check_card(reading("passport_td3"), "front", [])
    assert c.ok and not c.needs_back
    assert check_card(reading("cn_id_back"), "back", []).ok


def test_the_other_side_is_wrong_side():
    assert check_card(reading("cn_id_back"), "front", []).reason == "wrong_side"
    assert check_card(reading("cn_id_front"), "back", []).reason == "wrong_side"


def test_failures_name_what_to_fix():
    assert check_card(reading(errors=[{"code": "document_cut_off"}]), "front", ["glare"]).reason == "document_cut_off"
    assert check_card(reading(), "front", ["glare", "blurred"]).reason == "glare"
    assert check_card(reading(), "front", ["blurred"]).reason == "blurred"
    assert check_card(reading(), "front", []).reason == "document_not_found"
    assert check_card(reading(errors=[{"code": "document_unreadable"}]), "back", []).reason == "document_unreadable"


def test_image_hints_see_blur_and_glare():
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 200, (600, 900, 3), dtype=np.uint8)
    assert image_hints(sharp) == []
    assert "blurred" in image_hints(cv2.GaussianBlur(sharp, (0, 0), 12))
    glared = sharp.copy()
    cv2.circle(glared, (450, 300), 90, (255, 255, 255), -1)
    assert "glare" in image_hints(glared)


def test_liveness_retakes_only_for_quality_reasons_while_attempts_remain():
    assert liveness_outcome(["face_lost", "action_missing:blink"], 2).retake
    assert liveness_outcome(["face_lost"], 2).reason == "face_lost"
    assert not liveness_outcome(["face_lost"], 0).retake
    assert not liveness_outcome(["frames_frozen", "action_missing:nod", "no_head_motion"], 2).retake
    assert not liveness_outcome([], 2).retake


def test_cli_sets_the_frame_origins(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from kyc.cli import app
    from kyc.config import get_settings

    monkeypatch.setenv("KYC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KYC_ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        made = runner.invoke(app, ["clients", "create", "web"])
        client_id = made.output.split()[1]
        r = runner.invoke(app, ["clients", "capture-origins", client_id, "--origin", "https://app.example/", "--origin", "http://localhost:3000"])
        assert r.exit_code == 0, r.output
        assert "http://localhost:3000 https://app.example" in r.output
        assert runner.invoke(app, ["clients", "capture-origins", client_id, "--origin", "ftp://x"]).exit_code != 0
    finally:
        get_settings.cache_clear()
