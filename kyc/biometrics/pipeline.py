"""From an image to a template: detect, choose the face, check it, align, embed.

The ID portrait is the hard case: small (often ~100 px wide on a photographed card),
washed out and years older. For ``role="id_portrait"`` a portrait too small for the
detector is upscaled (bicubic, so MTCNN's 20 px minimum face is reached), the largest
face is taken (cards carry a second, ghost portrait), the size and quality limits are
the portrait's, and a washed-out face gets local contrast equalisation (CLAHE on the
lightness channel) before embedding.
"""

from __future__ import annotations

import cv2
import numpy as np

from kyc.biometrics.detection import detect_faces
from kyc.biometrics.embedding import get_embedder
from kyc.biometrics.matching import default_model
from kyc.biometrics.quality import POLICIES, assess_quality
from kyc.biometrics.template import Template
from kyc.biometrics.types import FaceDetection, QualityReport, Role
from kyc.config import Settings
from kyc.errors import error

__all__ = ["extract_template", "compare_images", "prepare_face", "choose_face", "enhance_portrait", "MODEL_COMPONENTS"]

MODEL_COMPONENTS: dict[str, tuple[str, ...]] = {
    "dlib": ("dlib",),
    "mobilefacenet": ("mobilefacenet",),
    "fused": ("dlib", "mobilefacenet"),
}

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


def extract_template(
    image: np.ndarray,
    role: Role = "selfie",
    model: str | None = None,
    *,
    check_quality: bool = True,
    settings: Settings | None = None,
) -> Template:
    """A template of the face in a BGR uint8 image.

    ``model`` is ``dlib``, ``mobilefacenet`` or ``fused`` (default: the model the
    benchmark calibrated as best, see ``calibration.json``). Raises the
    :class:`~kyc.errors.KycError` codes ``face_not_found``, ``face_multiple`` (selfie
    only), ``face_too_small`` and ``face_quality_low``.
    """
    name = model or default_model()
    if name not in MODEL_COMPONENTS:
        raise error("validation_failed", f"unknown face model; use one of {', '.join(MODEL_COMPONENTS)}")
    image, face, _ = prepare_face(image, role, check_quality=check_quality, settings=settings)
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    comps = []
    for comp in MODEL_COMPONENTS[name]:
        emb = get_embedder(comp, settings)
        comps.append((emb.version, emb.embed(rgb, face)))
    return Template(model=name, components=tuple(comps))


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
):
    """Templates of two images compared at an operating point (nothing is stored)."""
    from kyc.biometrics.matching import compare_templates

    a = extract_template(image_a, role_a, model, check_quality=check_quality, settings=settings)
    b = extract_template(image_b, role_b, model, check_quality=check_quality, settings=settings)
    return compare_templates(a, b, operating_point)
