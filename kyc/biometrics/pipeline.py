"""From an image to a template: detect, choose the face, check it, align, embed.

The ID portrait is the hard case: small (often ~100 px wide on a photographed card),
washed out and years older. For ``role="id_portrait"`` a portrait too small for the
detector is upscaled (bicubic, so MTCNN's 20 px minimum face is reached), the largest
face is taken (cards carry a second, ghost portrait), the size and quality limits are
the portrait's, and a washed-out face gets local contrast equalisation (CLAHE on the
lightness channel) before embedding.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from kyc.biometrics.detection import detect_faces
from kyc.biometrics.embedding import BY_MANIFEST_ID, FaceCrop, get_embedder
from kyc.biometrics.matching import CASCADE, calibration, compare_templates, default_model
from kyc.biometrics.quality import POLICIES, assess_quality
from kyc.biometrics.template import Template
from kyc.biometrics.types import Comparison, FaceDetection, QualityReport, Role
from kyc.config import Settings
from kyc.errors import error

__all__ = [
    "extract_template",
    "compare_faces",
    "compare_images",
    "complete_templates",
    "FaceMatch",
    "prepare_face",
    "choose_face",
    "enhance_portrait",
    "MODEL_COMPONENTS",
]


def _model_components_by_embedder() -> dict[str, tuple[str, ...]]:
    cal = calibration()
    return {m: tuple(BY_MANIFEST_ID[c] for c in cal.components(m)) for m in cal.models}


# model (scorer) name -> embedders its templates carry when made, from calibration.json
MODEL_COMPONENTS: dict[str, tuple[str, ...]] = _model_components_by_embedder()

PORTRAIT_MIN_SIDE = 200  # px: smaller ID portraits are upscaled to this before detecting
WASHED_OUT_CONTRAST = 30.0  # grey-level std of the face below which CLAHE is applied
QUALITY_BLOCKING = ("blurred", "overexposed", "underexposed", "pose_yaw", "pose_pitch", "pose_roll", "eyes_closed")


def choose_face(faces: list[FaceDetection], role: Role) -> FaceDetection:
    """The face to use: for a selfie exactly one person (``face_multiple`` otherwise),
    for an ID portrait the largest face."""
    if not faces:
        raise error("face_not_found")
    main = faces[0]
    if role == "selfie":
        others = [f for f in faces[1:] if f.area >= POLICIES["selfie"].other_face_area * main.area]
        if others:
            raise error("face_multiple", faces=len(others) + 1)
    return main


def enhance_portrait(image: np.ndarray) -> np.ndarray:
    """CLAHE on the lightness channel: brings back the shading a washed-out print lost."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))
    lab[:, :, 0] = clahe.apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def prepare_face(
    image: np.ndarray, role: Role = "selfie", *, check_quality: bool = True, settings: Settings | None = None
) -> tuple[np.ndarray, FaceDetection, QualityReport | None]:
    """The (possibly upscaled/enhanced) image, its chosen face and the quality report.

    Raises ``face_not_found``, ``face_multiple``, ``face_too_small`` or ``face_quality_low``.
    """
    if image is None or image.ndim not in (2, 3) or image.size == 0:
        raise error("face_not_found")
    image = _as_bgr(np.ascontiguousarray(image))
    if role == "id_portrait" and min(image.shape[:2]) < PORTRAIT_MIN_SIDE:
        f = PORTRAIT_MIN_SIDE / min(image.shape[:2])
        image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    faces = detect_faces(image, settings)
    face = choose_face(faces, role)
    policy = POLICIES[role]
    quality = None
    if check_quality:
        quality = assess_quality(image, face, role, faces=faces, settings=settings)
        if "face_too_small" in quality.reasons:
            raise error("face_too_small", inter_eye_px=round(face.inter_eye_px, 1), min_inter_eye_px=policy.min_inter_eye_px)
        blocking = [r for r in quality.reasons if r in QUALITY_BLOCKING]
        if blocking:
            raise error("face_quality_low", reasons=blocking)
    elif face.inter_eye_px < policy.min_inter_eye_px:
        raise error("face_too_small", inter_eye_px=round(face.inter_eye_px, 1), min_inter_eye_px=policy.min_inter_eye_px)
    if role == "id_portrait":
        contrast = quality.metrics["contrast"] if quality else None
        if contrast is None:
            from kyc.biometrics.quality import quality_metrics

            contrast = quality_metrics(image, face, settings, with_eyes=False)["contrast"]
        if contrast < WASHED_OUT_CONTRAST:
            image = enhance_portrait(image)
    return image, face, quality


def _model_components(name: str) -> tuple[str, ...]:
    try:
        return calibration().components(name)
    except KeyError:
        raise error("validation_failed", f"unknown face model; use one of {', '.join(calibration().models)}") from None


def _embed(faces: list[FaceCrop], manifest_ids: tuple[str, ...], settings: Settings | None) -> list[list[tuple[str, np.ndarray]]]:
    """Per face, the (version, embedding) of each component; every network runs once
    for all the faces (and their mirror images where ``calibration.json`` keeps the flip)."""
    flip = calibration().flip
    per_face: list[list[tuple[str, np.ndarray]]] = [[] for _ in faces]
    for mid in manifest_ids:
        emb = get_embedder(BY_MANIFEST_ID[mid], settings)
        vecs = emb.embed_batch(faces, flip.get(mid, True))
        for out, v in zip(per_face, vecs, strict=True):
            out.append((emb.version, v))
    return per_face


def _template(name: str, comps: list[tuple[str, np.ndarray]], crop: FaceCrop, quality: QualityReport | None) -> Template:
    return Template(model=name, components=tuple(comps), source=crop if name == CASCADE else None, quality=quality)


def extract_template(
    image: np.ndarray,
    role: Role = "selfie",
    model: str | None = None,
    *,
    check_quality: bool = True,
    settings: Settings | None = None,
) -> Template:
    """A template of the face in a BGR uint8 image.

    ``model`` is ``dlib``, ``mobilefacenet``, ``fused`` or ``cascade`` (default: the
    scorer the benchmark calibrated, see ``calibration.json``). A ``cascade`` template
    carries the fast model's embedding and keeps the face in memory, so that a
    comparison landing in the band adds the expensive model then (serialised, it holds
    the fast model's embedding only). Raises the :class:`~kyc.errors.KycError` codes
    ``face_not_found``, ``face_multiple`` (selfie only), ``face_too_small`` and
    ``face_quality_low``.
    """
    name = model or default_model()
    comps = _model_components(name)
    image, face, quality = prepare_face(image, role, check_quality=check_quality, settings=settings)
    crop = (np.ascontiguousarray(image[:, :, ::-1]), face)
    return _template(name, _embed([crop], comps, settings)[0], crop, quality)


def complete_templates(a: Template, b: Template, manifest_ids: tuple[str, ...], settings: Settings | None = None) -> tuple[Template, Template]:
    """``a`` and ``b`` with the components in ``manifest_ids`` they lack, computed from
    their in-memory source faces in one batch (the cascade's second stage)."""
    missing = tuple(m for m in manifest_ids if m not in a.embeddings or m not in b.embeddings)
    if a.source is None or b.source is None:
        raise error(
            "template_invalid",
            "A cascade template read back from storage lacks the second model; compare the images again.",
        )
    new = _embed([a.source, b.source], missing, settings)

    def merged(t: Template, extra: list[tuple[str, np.ndarray]]) -> Template:
        comps = {v.split("@", 1)[0]: (v, e) for v, e in (*t.components, *extra)}
        order = [m for m in manifest_ids if m in comps] + [m for m in comps if m not in manifest_ids]
        return Template(model=t.model, components=tuple(comps[m] for m in order), source=t.source, quality=t.quality)

    return merged(a, new[0]), merged(b, new[1])


@dataclass(frozen=True)
class FaceMatch:
    """A comparison of two images, with the templates and quality reports behind it and
    where the time went (ms: ``detect`` covers detection, quality and alignment of both
    faces, ``embed`` the first model, ``second`` the cascade's second stage)."""

    comparison: Comparison
    template_a: Template
    template_b: Template
    quality_a: QualityReport | None
    quality_b: QualityReport | None
    timings_ms: dict[str, float]


def compare_faces(
    image_a: np.ndarray,
    image_b: np.ndarray,
    *,
    role_a: Role = "selfie",
    role_b: Role = "selfie",
    model: str | None = None,
    operating_point: str = "fmr_1e-3",
    check_quality: bool = True,
    settings: Settings | None = None,
) -> FaceMatch:
    """Both faces detected once each, embedded together (one network run per model for
    the pair), compared at ``operating_point``; with the ``cascade`` (the default) the
    second model runs, again for both faces at once, only when the first is undecided."""
    name = model or default_model()
    comps = _model_components(name)
    t0 = time.perf_counter()
    img_a, face_a, qa = prepare_face(image_a, role_a, check_quality=check_quality, settings=settings)
    img_b, face_b, qb = prepare_face(image_b, role_b, check_quality=check_quality, settings=settings)
    crops = [(np.ascontiguousarray(img_a[:, :, ::-1]), face_a), (np.ascontiguousarray(img_b[:, :, ::-1]), face_b)]
    t1 = time.perf_counter()
    ea, eb = _embed(crops, comps, settings)
    ta, tb = _template(name, ea, crops[0], qa), _template(name, eb, crops[1], qb)
    t2 = time.perf_counter()
    done: list[tuple[Template, Template]] = []

    def complete(a: Template, b: Template, ids: tuple[str, ...]) -> tuple[Template, Template]:
        done.append(complete_templates(a, b, ids, settings))
        return done[-1]

    cmp = compare_templates(ta, tb, operating_point, complete=complete)
    t3 = time.perf_counter()
    if done:
        ta, tb = done[-1]
    timings = {"detect": (t1 - t0) * 1000, "embed": (t2 - t1) * 1000, "second": (t3 - t2) * 1000}
    return FaceMatch(cmp, ta, tb, qa, qb, timings)


def compare_images(
    image_a: np.ndarray,
    image_b: np.ndarray,
    *,
    role_a: Role = "selfie",
    role_b: Role = "selfie",
    model: str | None = None,
    operating_point: str = "fmr_1e-3",
    check_quality: bool = True,
    settings: Settings | None = None,
) -> Comparison:
    """The comparison of :func:`compare_faces` alone (nothing is stored)."""
    return compare_faces(
        image_a,
        image_b,
        role_a=role_a,
        role_b=role_b,
        model=model,
        operating_point=operating_point,
        check_quality=check_quality,
        settings=settings,
    ).comparison
