"""Face alignment: a similarity transform from 5 landmarks to a fixed template.

MobileFaceNet (like ArcFace models) was trained on 112x112 crops whose eyes, nose and
mouth corners sit on the standard 5-point template below; dlib's ResNet wants its own
150x150 chip, cut by dlib from its 5-point shape. Least-squares similarity (Umeyama
1991): rotation, uniform scale and shift, no shear, so faces are not distorted.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["ARCFACE_112", "similarity_transform", "align_arcface"]

# Left eye, right eye, nose tip, left mouth corner, right mouth corner in a 112x112 crop.
ARCFACE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 matrix of the least-squares similarity mapping ``src`` points onto ``dst``."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rot = u @ np.diag(sign) @ vt
    var_s = (s**2).sum() / len(src)
    scale = (sig * sign).sum() / var_s
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    return m


def align_arcface(image: np.ndarray, landmarks5: np.ndarray, size: int = 112) -> np.ndarray:
    """The face warped onto the 5-point template, ``size`` x ``size`` pixels, same colour order."""
    m = similarity_transform(landmarks5, ARCFACE_112 * (size / 112.0))
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
