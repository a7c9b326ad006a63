"""``kyc liveness check`` and ``kyc liveness score`` (needs the model files)."""

import csv
import json

import pytest
from typer.testing import CliRunner

from kyc.cli import app

pytestmark = pytest.mark.models
runner = CliRunner()


def test_check_json(shared_data):
    img = shared_data / "liveness" / "silent_face_samples" / "image_T1.jpg"
    r = runner.invoke(app, ["liveness", "check", str(img), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"live", "outcome", "reasons", "score", "threshold", "spoof_threshold", "cues", "signals", "model"} == set(out)
    assert isinstance(out["live"], bool) and 0 <= out["score"] <= 1


def test_check_no_face_is_an_error(tmp_path):
    import cv2
    import numpy as np

    blank = tmp_path / "blank.jpg"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 90, np.uint8))
    r = runner.invoke(app, ["liveness", "check", str(blank), "--json"])
    assert r.exit_code == 2 and "face_not_found" in r.output


def test_score_csv(shared_data, tmp_path):
    lst = tmp_path / "list.csv"
    lst.write_text("file,label,extra\nimage_T1.jpg,real,a\nimage_F1.jpg,spoof,b\nmissing.jpg,real,c\n")
    out = tmp_path / "scores.csv"
    root = shared_data / "liveness" / "silent_face_samples"
    r = runner.invoke(app, ["liveness", "score", str(lst), "--root", str(root), "--out", str(out)])
    assert r.exit_code == 0, r.output
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["file"] for row in rows] == ["image_T1.jpg", "image_F1.jpg", "missing.jpg"]
    assert rows[0]["extra"] == "a" and float(rows[0]["score"]) >= 0 and rows[0]["error"] == ""
    assert rows[2]["score"] == "" and rows[2]["error"] == "file_unreadable"
