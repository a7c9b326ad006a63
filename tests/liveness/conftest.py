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
