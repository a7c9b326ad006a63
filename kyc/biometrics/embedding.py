"""Face embedders behind one interface, registered by name (as in deepface and CompreFace).

Each embedder aligns the face its own way and returns an L2-normalised vector.
Test-time augmentation: the embedding can be the mean of the aligned face and its
mirror image, normalised again (faces are nearly symmetric, the noise is not). It costs
a second pass of the network, so it is a per-model choice measured by ``kyc bench face``
and kept in ``calibration.json`` (``flip``). :meth:`Embedder.embed_batch` runs several
faces (the two of a comparison) and their mirror images through the network at once.

* ``dlib``: dlib's 5-point shape predictor (placed by a box derived from the MTCNN
  landmarks, fitted on LFW to mimic dlib's own HOG boxes), dlib's 150x150 chip, the
  128-D ResNet.
* ``mobilefacenet``: the 5-point ArcFace 112x112 crop, MobileFaceNet (192-D) in onnxruntime.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kyc.biometrics.alignment import align_arcface
from kyc.biometrics.conversion import dynamic_batch
from kyc.biometrics.types import FaceDetection
from kyc.config import Settings, get_settings
from kyc.dlib_models import compute_face_descriptor, shape_predictor
from kyc.model_registry import load_manifest, onnx_session

__all__ = ["Embedder", "EMBEDDERS", "BY_MANIFEST_ID", "get_embedder", "dlib_rect_for", "model_version", "FaceCrop"]

FaceCrop = tuple[np.ndarray, FaceDetection]  # an RGB image and one face in it


class Embedder(Protocol):
    name: str
    dim: int
    version: str
    manifest_id: str

    def embed(self, rgb: np.ndarray, face: FaceDetection) -> np.ndarray: ...

    def embed_views(self, rgb: np.ndarray, face: FaceDetection) -> np.ndarray: ...

    def embed_batch(self, faces: Sequence[FaceCrop], flip: bool) -> np.ndarray: ...


def _merge_views(out: np.ndarray, n: int, flip: bool) -> np.ndarray:
    """(n, dim) normalised embeddings from the network's rows: faces first, then (with
    ``flip``) their mirror images in the same order."""
    v = np.asarray(out, dtype=np.float32)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-10)
    e = v[:n] + v[n:] if flip else v[:n]
    return (e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-10)).astype(np.float32)


def model_version(manifest_id: str, settings: Settings | None = None) -> str:
    """A model's version: its manifest id and the first 12 hex digits of its SHA-256."""
    spec = load_manifest(settings)[manifest_id]
    return f"{manifest_id}@{spec.sha256[:12]}"


def _l2(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-10)


# Box placement fitted on 149 LFW faces (dlib HOG boxes vs MTCNN landmarks): centre at
# 0.444 of the way from the eye midpoint to the mouth midpoint, side 0.776 x eye-to-mouth
# distance + 1.535 x inter-eye distance (median error 5% of the side).
_RECT_T, _RECT_KD, _RECT_KE = 0.444, 0.776, 1.535


def dlib_rect_for(landmarks5: np.ndarray) -> tuple[int, int, int, int]:
    """A dlib-HOG-like square (left, top, right, bottom) for 5 MTCNN-order landmarks."""
    eyes = (landmarks5[0] + landmarks5[1]) / 2
    mouth = (landmarks5[3] + landmarks5[4]) / 2
    centre = eyes + _RECT_T * (mouth - eyes)
    side = _RECT_KD * np.linalg.norm(mouth - eyes) + _RECT_KE * np.linalg.norm(landmarks5[1] - landmarks5[0])
    half = side / 2
    return (int(round(centre[0] - half)), int(round(centre[1] - half)), int(round(centre[0] + half)), int(round(centre[1] + half)))


@dataclass
class DlibEmbedder:
    settings: Settings
    name: str = "dlib"
    dim: int = 128
    manifest_id: str = "dlib-resnet"

    def __post_init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._sp = shape_predictor("dlib-landmarks5", self.settings)
        self.version = model_version(self.manifest_id, self.settings)

    def chip(self, rgb: np.ndarray, face: FaceDetection) -> np.ndarray:
        l, t, r, b = dlib_rect_for(face.landmarks5)
        shape = self._sp(rgb, self._dlib.rectangle(l, t, r, b))
        return np.asarray(self._dlib.get_face_chip(rgb, shape, size=150, padding=0.25))

    def embed_views(self, rgb: np.ndarray, face: FaceDetection) -> np.ndarray:
        """2 x 128: the normalised embeddings of the chip and of its mirror image."""
        chip = self.chip(rgb, face)
        flip = np.ascontiguousarray(chip[:, ::-1])
        vecs = np.asarray(compute_face_descriptor([chip, flip], settings=self.settings), dtype=np.float32)
        return np.stack([_l2(vecs[0]), _l2(vecs[1])])

    def embed(self, rgb: np.ndarray, face: FaceDetection) -> np.ndarray:
        v = self.embed_views(rgb, face)
        return _l2(v[0] + v[1])

    def embed_batch(self, faces: Sequence[FaceCrop], flip: bool) -> np.ndarray:
        """(n, 128): every face's chip (and its mirror image) in one call of the ResNet."""
        chips = [self.chip(rgb, face) for rgb, face in faces]
        if flip:
            chips += [np.ascontiguousarray(c[:, ::-1]) for c in chips]
        return _merge_views(compute_face_descriptor(chips, settings=self.settings), len(faces), flip)


@dataclass
class MobileFaceNetEmbedder:
    settings: Settings
    name: str = "mobilefacenet"
    dim: int = 192
    manifest_id: str = "mobilefacenet"

    def __post_init__(self) -> None:
        self._sess = onnx_session("mobilefacenet", self.settings, rewrite=dynamic_batch)
        self._input = self._sess.get_inputs()[0].name
        self.version = model_version(self.manifest_id, self.settings)

    def embed_views(self, rgb: np.ndarray, face: FaceDetection) -> np.ndarray:
        """2 x 192: the normalised embeddings of the aligned crop and of its mirror image
        (the model's batch of 2 carries both)."""
        crop = align_arcface(rgb, face.landmarks5).astype(np.float32)
        batch = np.stack([crop, crop[:, ::-1]])
        batch = ((batch - 127.5) / 128.0).transpose(0, 3, 1, 2)
        out = self._sess.run(None, {self._input: np.ascontiguousarray(batch, dtype=np.float32)})[0]
        return np.stack([_l2(out[0]), _l2(out[1])])

    def embed(self, rgb: np.ndarray, face: FaceDetection) -> np.ndarray:
        v = self.embed_views(rgb, face)
        return _l2(v[0] + v[1])

    def embed_batch(self, faces: Sequence[FaceCrop], flip: bool) -> np.ndarray:
        """(n, 192): every face's aligned crop (and its mirror image) in one run."""
        crops = [align_arcface(rgb, face.landmarks5).astype(np.float32) for rgb, face in faces]
        if flip:
            crops += [c[:, ::-1] for c in crops]
        batch = ((np.stack(crops) - 127.5) / 128.0).transpose(0, 3, 1, 2)
        out = self._sess.run(None, {self._input: np.ascontiguousarray(batch, dtype=np.float32)})[0]
        return _merge_views(out, len(faces), flip)


EMBEDDERS = {"dlib": DlibEmbedder, "mobilefacenet": MobileFaceNetEmbedder}
# manifest id of each embedder's network -> its name in EMBEDDERS (templates and the
# calibration name components by manifest id)
BY_MANIFEST_ID = {cls.manifest_id: name for name, cls in EMBEDDERS.items()}
_cache: dict[tuple[str, str], Embedder] = {}
_lock = threading.Lock()


def get_embedder(name: str, settings: Settings | None = None) -> Embedder:
    """The embedder registered as ``name``, loaded (verified) once per models directory."""
    s = settings or get_settings()
    if name not in EMBEDDERS:
        raise KeyError(f"unknown face embedder {name!r}; known: {sorted(EMBEDDERS)}")
    key = (name, str(s.resolved_models_dir))
    with _lock:
        emb = _cache.get(key)
        if emb is None:
            emb = EMBEDDERS[name](s)
            _cache[key] = emb
        return emb
