"""Fixtures for the face tests: a handful of real images from the shared data."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def faces_dir(shared_data: Path) -> Path:
    d = shared_data / "faces"
    if not (d / "lfw").is_dir():
        pytest.skip(f"face data not found under {d}")
    return d


def read(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None, path
    return img


@pytest.fixture(scope="session")
def lfw_pair(faces_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two photos of one person and one of another (LFW tight grey crops)."""
    base = faces_dir / "lfw" / "images"
    return (
        read(base / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg"),
        read(base / "Abel_Pacheco" / "Abel_Pacheco_0004.jpg"),
        read(base / "Akhmed_Zakayev" / "Akhmed_Zakayev_0001.jpg"),
    )
