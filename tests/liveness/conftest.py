"""Fixtures for the liveness tests: real face photos from the shared data."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def face_photos(shared_data: Path) -> dict[str, np.ndarray]:
    """A few single-face colour photos (deepface test set), by file name."""
    folder = shared_data / "faces" / "deepface_tests"
    names = ["img10.jpg", "img2.jpg", "img17.jpg", "img1.jpg", "img3.jpg"]
    photos = {}
    for n in names:
        img = cv2.imread(str(folder / n), cv2.IMREAD_COLOR)
        if img is not None:
            photos[n] = img
    if len(photos) < 3:
        pytest.skip(f"face photos missing under {folder}")
    return photos


@pytest.fixture(scope="session")
def nuaa(shared_data: Path) -> Path:
    root = shared_data / "liveness" / "nuaa"
    if not (root / "labels.csv").is_file():
        pytest.skip(f"NUAA crops missing under {root}")
    return root


@pytest.fixture(autouse=True)
def _synthetic_captures_predate_their_sessions(monkeypatch, request):
    """Synthetic captures are seconds long but uploaded the instant their session is made;
    the challenge-clock check (footage no longer than the time since the challenge) is
    tested on its own in test_challenge_clock.py and relaxed elsewhere."""
    if request.module.__name__.endswith("test_challenge_clock"):
        return
    from kyc.liveness import _active

    monkeypatch.setitem(_active.LIMITS, "challenge_clock_slack_s", 1e6)
