"""Geometry of 68-point landmarks: eye and mouth opening, head pose, planarity.

Pure functions over ``(68, 2)`` float arrays of (x, y) pixels in iBUG 300-W order.
Angles are degrees in the camera's frame (x right, y down, z into the scene):

* ``yaw`` > 0: the face points toward the image's right. In an unmirrored camera
  image that is the person turning to *their* left.
* ``pitch`` > 0: the face points down (chin toward the chest).
* ``roll`` > 0: the head tilts clockwise in the image.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "eye_aspect_ratio",
    "mouth_aspect_ratio",
    "inter_ocular",
    "head_pose",
    "planar_residual",
    "RIGID_POINTS",
    "POSE_MODEL_3D",
    "POSE_POINTS",
]

# Points that move with the skull, not with blinks or speech: brows, nose, eye corners.
RIGID_POINTS = np.array([*range(17, 27), *range(27, 36), 36, 39, 42, 45])

# A generic head (millimetres, camera convention: x right, y down, z away from the
# camera; the nose tip is the origin and nearest the camera), for solvePnP. Only points
# that move with the skull: the chin and mouth move when the mouth opens, and would
# read as a change of pose.
POSE_POINTS = np.array([30, 27, 36, 39, 42, 45, 31, 35])
POSE_MODEL_3D = np.array(
    [
        (0.0, 0.0, 0.0),  # 30 nose tip
        (0.0, -36.0, 20.0),  # 27 nasion (top of the nose bridge)
        (-45.0, -34.0, 27.0),  # 36 outer corner of the eye on the image's left
        (-13.0, -33.0, 22.0),  # 39 inner corner, image left
        (13.0, -33.0, 22.0),  # 42 inner corner, image right
        (45.0, -34.0, 27.0),  # 45 outer corner, image right
        (-13.0, 2.0, 14.0),  # 31 nose wing, image left
        (13.0, 2.0, 14.0),  # 35 nose wing, image right
    ],
    dtype=np.float64,
)


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.hypot(*(a - b)))


def eye_aspect_ratio(lm: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes (Soukupova and Cech, 2016): about 0.25-0.35
    open, under about 0.15 closed; unitless."""

    def ear(p: np.ndarray) -> float:
        return (_dist(p[1], p[5]) + _dist(p[2], p[4])) / (2.0 * _dist(p[0], p[3]) + 1e-9)

    return 0.5 * (ear(lm[36:42]) + ear(lm[42:48]))


def mouth_aspect_ratio(lm: np.ndarray) -> float:
    """Inner-lip opening over mouth width: about 0-0.1 closed, over 0.4 wide open; unitless."""
    vertical = _dist(lm[61], lm[67]) + _dist(lm[62], lm[66]) + _dist(lm[63], lm[65])
    return vertical / (3.0 * _dist(lm[60], lm[64]) + 1e-9)


def inter_ocular(lm: np.ndarray) -> float:
    """Distance between the eye centres, pixels: the unit of the other distances."""
    return _dist(lm[36:42].mean(axis=0), lm[42:48].mean(axis=0))


def head_pose(lm: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from solvePnP of six landmarks on a generic head.

    ``image_size`` is (width, height); the camera is assumed to have a focal length
    equal to the image width and no distortion, which is close enough for phones.
    """
    w, h = image_size
    cam = np.array([[w, 0, w / 2.0], [0, w, h / 2.0], [0, 0, 1]], dtype=np.float64)
    img_pts = lm[POSE_POINTS].astype(np.float64)
    # Start from a frontal head at the distance its eye spacing implies and refine
    # (Levenberg-Marquardt): a global solver may jump to the mirror solution that a
    # nearly flat set of points allows, which would read as a sudden turn.
    iod_px = max(inter_ocular(lm), 1.0)
    tz = w * 62.0 / iod_px  # mm, for about 62 mm between the eye centres
    nose = img_pts[0]
    rvec0 = np.zeros((3, 1))
    tvec0 = np.array([[(nose[0] - w / 2.0) * tz / w], [(nose[1] - h / 2.0) * tz / w], [tz]])
    ok, rvec, _tvec = cv2.solvePnP(
        POSE_MODEL_3D, img_pts, cam, None, rvec0, tvec0, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return float("nan"), float("nan"), float("nan")
    rot, _ = cv2.Rodrigues(rvec)
    forward = rot @ np.array([0.0, 0.0, -1.0])  # where the face looks, in camera axes
    right = rot @ np.array([1.0, 0.0, 0.0])
    yaw = np.degrees(np.arctan2(forward[0], -forward[2]))
    pitch = np.degrees(np.arctan2(forward[1], -forward[2]))
    roll = np.degrees(np.arctan2(right[1], right[0]))
    return float(yaw), float(pitch), float(roll)


def planar_residual(reference: np.ndarray, moved: np.ndarray) -> float:
    """How badly one planar homography explains the rigid landmarks' motion.

    RMS distance between the moved rigid points and the reference ones mapped by the
    least-squares homography, in units of the inter-ocular distance. A photo (any flat
    surface) moved or tilted in front of the camera is explained almost exactly (only
    landmark noise remains); a real head turning shows parallax between the nose and
    the brows and eye corners that no homography can fit.
    """
    src = reference[RIGID_POINTS].astype(np.float64)
    dst = moved[RIGID_POINTS].astype(np.float64)
    hmat, _ = cv2.findHomography(src, dst, 0)
    if hmat is None:
        return float("nan")
    proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), hmat).reshape(-1, 2)
    rms = float(np.sqrt(((proj - dst) ** 2).sum(axis=1).mean()))
    return rms / max(0.5 * (inter_ocular(reference) + inter_ocular(moved)), 1e-9)
