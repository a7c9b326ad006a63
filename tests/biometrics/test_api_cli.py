"""``POST /v1/faces/compare`` and ``kyc face`` commands."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from kyc.cli import app as cli_app

pytestmark = pytest.mark.models


def _lfw(faces_dir, name: str, n: int):
    return faces_dir / "lfw" / "images" / name / f"{name}_{n:04d}.jpg"


def test_compare_endpoint(client, faces_dir):
    a = _lfw(faces_dir, "Abel_Pacheco", 1).read_bytes()
    b = _lfw(faces_dir, "Abel_Pacheco", 4).read_bytes()
    r = client.post("/v1/faces/compare", files={"image_a": ("a.jpg", a, "image/jpeg"), "image_b": ("b.jpg", b, "image/jpeg")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["match"] is True and 0 <= body["similarity"] <= 1 and body["model"]
    assert body["similarity"] >= body["threshold"]


def test_compare_endpoint_bad_input(client, faces_dir):
    a = _lfw(faces_dir, "Abel_Pacheco", 1).read_bytes()
    r = client.post("/v1/faces/compare", files={"image_a": ("a.jpg", a, "image/jpeg")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "upload_missing"
    r = client.post("/v1/faces/compare", files={"image_a": ("a.jpg", a, "image/jpeg"), "image_b": ("b.txt", b"hello", "text/plain")})
    assert r.status_code == 415 and r.json()["error"]["code"] == "image_unsupported_type"
    import cv2
    import numpy as np

    ok, png = cv2.imencode(".png", np.full((200, 200, 3), 90, np.uint8))
    r = client.post("/v1/faces/compare", files={"image_a": ("a.jpg", a, "image/jpeg"), "image_b": ("b.png", png.tobytes(), "image/png")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "face_not_found"
    couple = (faces_dir / "deepface_tests" / "couple.jpg").read_bytes()
    r = client.post("/v1/faces/compare", files={"image_a": ("a.jpg", a, "image/jpeg"), "image_b": ("c.jpg", couple, "image/jpeg")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "face_multiple"


def test_cli_compare_and_score_pairs(faces_dir, tmp_path):
    runner = CliRunner()
    a, b, c = _lfw(faces_dir, "Abel_Pacheco", 1), _lfw(faces_dir, "Abel_Pacheco", 4), _lfw(faces_dir, "Akhmed_Zakayev", 1)
    r = runner.invoke(cli_app, ["face", "compare", str(a), str(b), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output.strip().splitlines()[-1])
    assert set(out) == {"similarity", "match", "threshold", "model", "stage"} and out["match"] is True

    pairs = tmp_path / "pairs.csv"
    root = faces_dir / "lfw"
    rel = lambda p: str(p.relative_to(root))  # noqa: E731
    pairs.write_text(f"img_a,img_b,label\n{rel(a)},{rel(b)},1\n{rel(a)},{rel(c)},0\n{rel(a)},missing.jpg,0\n")
    scores = tmp_path / "scores.csv"
    r = runner.invoke(cli_app, ["face", "score-pairs", str(pairs), "--root", str(root), "--out", str(scores)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(scores.read_text().splitlines()))
    assert [row["label"] for row in rows] == ["1", "0", "0"]
    assert float(rows[0]["similarity"]) > float(rows[1]["similarity"])
    assert rows[0]["error"] == "" and rows[2]["error"] and rows[2]["similarity"] == ""
