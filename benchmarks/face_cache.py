"""Stage 1 of ``kyc bench face``: detect, align and embed every image once, cached.

One row per image: the face's landmarks and detector, both models' embeddings of the
face and of its mirror image (so the benchmark can score with and without flip
averaging), and the time of each stage in milliseconds. The cache lives under
``var/face-bench/`` and is keyed by the data set and :data:`CACHE_VERSION`. A run
saves a checkpoint every :data:`CHECKPOINT_EVERY` images and an interrupted run resumes
from it (on 2 shared cores the first run of LFW takes the better part of an hour).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from kyc.biometrics.detection import detect_faces
from kyc.biometrics.embedding import get_embedder
from kyc.config import Settings

CACHE_VERSION = 1
MODELS = ("dlib", "mobilefacenet")
CHECKPOINT_EVERY = 100


def read_image(path: Path) -> np.ndarray | None:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return img


def _cached(path: Path, files: list[str]) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    data = dict(np.load(path, allow_pickle=False))
    return data if list(data["files"]) == list(files) else None


def _prefix_of_checkpoint(cache: Path, files: list[str]) -> dict[str, np.ndarray] | None:
    """The rows of ``files`` from a longer run's cache or checkpoint that already holds
    them as its first rows (LFW runs fold by fold: the first folds can be used while
    the last are still being embedded)."""
    n = len(files)
    for path in sorted(cache.parent.glob(f"{cache.stem.split('-v')[0]}*-v{CACHE_VERSION}*.npz")):
        if ".part" in path.name:
            continue
        data = dict(np.load(path, allow_pickle=False))
        done = int(data.get("done", len(data["files"])))
        if done >= n and list(data["files"][:n]) == list(files):
            return {k: (v[:n] if v.ndim and len(v) == len(data["files"]) else v) for k, v in data.items() if k != "done"}
    return None


def embed_images(
    root: Path,
    files: list[str],
    cache: Path,
    settings: Settings | None = None,
    read: Callable[[Path], np.ndarray | None] | None = None,
) -> dict[str, np.ndarray]:
    """Embeddings for ``files`` (relative to ``root``), computed once and cached in
    ``cache``; ``read`` turns a path into the BGR image to embed (default: the file)."""
    data = _cached(cache, files)
    if data is not None:
        return data
    prefix = _prefix_of_checkpoint(cache, files)
    if prefix is not None:
        return prefix
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
    checkpoint = cache.with_suffix(".checkpoint.npz")
    start = 0
    partial = _cached(checkpoint, files)
    if partial is not None:
        out, start = partial, int(partial["done"])
    for i in tqdm(range(start, n), desc=f"embed {cache.stem}", unit="img", mininterval=5, initial=start, total=n):
        embed_row(out, i, root / files[i], embedders, settings, read or read_image)
        if (i + 1) % CHECKPOINT_EVERY == 0 and i + 1 < n:
            out["done"] = np.array(i + 1)
            save(out, checkpoint)
    out.pop("done", None)
    save(out, cache)
    checkpoint.unlink(missing_ok=True)
    return out


def save(out: dict[str, np.ndarray], cache: Path) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".part.npz")
    np.savez_compressed(tmp, **out)
    tmp.replace(cache)


def embed_row(
    out: dict[str, np.ndarray], i: int, path: Path, embedders: dict, settings: Settings | None, read=read_image
) -> None:
    """Fill row ``i`` of ``out`` for one image: detection, landmarks, embeddings, timings."""
    t0 = time.perf_counter()
    img = read(path)
    t1 = time.perf_counter()
    out["ms_decode"][i] = (t1 - t0) * 1000
    if img is None:
        out["n_faces"][i] = -1  # nothing to search: unreadable file, or no portrait read
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
