"""Stage 1 of ``kyc bench face``: detect, align and embed every image once, cached.

One row per image: the face's landmarks and detector, both models' embeddings of the
face and of its mirror image (so the benchmark can score with and without flip
averaging), and the time of each stage in milliseconds. The cache lives under
``var/face-bench/`` and is keyed by the data set and :data:`CACHE_VERSION`.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from kyc.biometrics.detection import detect_faces
from kyc.biometrics.embedding import get_embedder
from kyc.config import Settings

CACHE_VERSION = 1
MODELS = ("dlib", "mobilefacenet")


def read_image(path: Path) -> np.ndarray | None:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return img


def embed_images(root: Path, files: list[str], cache: Path, settings: Settings | None = None) -> dict[str, np.ndarray]:
    """Embeddings for ``files`` (relative to ``root``), computed once and cached in ``cache``."""
    if cache.is_file():
        data = dict(np.load(cache, allow_pickle=False))
        if list(data["files"]) == list(files):
            return data
    embedders = {m: get_embedder(m, settings) for m in MODELS}
    n = len(files)
    out: dict[str, np.ndarray] = {
        "files": np.array(files),
        "found": np.zeros(n, bool),
        "n_faces": np.zeros(n, np.int16),
        "landmarks": np.full((n, 5, 2), np.nan, np.float32),
        "box": np.zeros((n, 4), np.float32),
        "det_score": np.zeros(n, np.float32),
        "detector": np.array([""] * n, dtype="<U10"),
        "ms_decode": np.zeros(n, np.float32),
        "ms_detect": np.zeros(n, np.float32),
    }
    for m in MODELS:
        out[f"emb_{m}"] = np.zeros((n, 2, embedders[m].dim), np.float32)
        out[f"ms_{m}"] = np.zeros(n, np.float32)
    for i, f in enumerate(tqdm(files, desc=f"embed {cache.stem}", unit="img", mininterval=5)):
        embed_row(out, i, root / f, embedders, settings)
    save(out, cache)
    return out


def save(out: dict[str, np.ndarray], cache: Path) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".part.npz")
    np.savez_compressed(tmp, **out)
    tmp.replace(cache)


def embed_row(out: dict[str, np.ndarray], i: int, path: Path, embedders: dict, settings: Settings | None) -> None:
    """Fill row ``i`` of ``out`` for one image: detection, landmarks, embeddings, timings."""
    t0 = time.perf_counter()
    img = read_image(path)
    t1 = time.perf_counter()
    out["ms_decode"][i] = (t1 - t0) * 1000
    if img is None:
        return
    faces = detect_faces(img, settings)
    t2 = time.perf_counter()
    out["ms_detect"][i] = (t2 - t1) * 1000
    out["n_faces"][i] = len(faces)
    out["found"][i] = bool(faces)
    if not faces:
        return
    face = faces[0]
    out["landmarks"][i] = face.landmarks5
    out["box"][i] = face.box
    out["det_score"][i] = face.score
    out["detector"][i] = face.detector
    rgb = np.ascontiguousarray(img[:, :, ::-1])
    for m, emb in embedders.items():
        t3 = time.perf_counter()
        out[f"emb_{m}"][i] = emb.embed_views(rgb, face)
        out[f"ms_{m}"][i] = (time.perf_counter() - t3) * 1000
