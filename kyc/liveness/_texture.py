"""Cheap presentation-attack cues from a face crop: pure functions over arrays.

Why these: a printed photo or a screen re-captured by a camera loses fine texture and
colour gamut (print), adds moire and pixel-grid energy (screens), specular glare on
glossy paper or glass, and blur from the second capture. Colour-texture histograms
(uniform LBP in HSV and YCbCr, after Boulkenafet et al., 2015) capture most of these
together; the others are a few scalars that are also reported as signals.

Input is a BGR ``uint8`` face crop; everything is resized to :data:`CROP_SIDE` first
so features do not depend on the camera's resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["CROP_SIDE", "lbp_codes", "uniform_lbp_histogram", "passive_features", "scalar_signals", "border_lines"]

CROP_SIDE = 96  # px, side of the square face crop the features are computed on

# Uniform LBP(8,1): the 58 codes with at most two 0/1 transitions get their own bin,
# every other code shares bin 58.
_TRANSITIONS = np.array([bin((c ^ ((c << 1) | (c >> 7))) & 0xFF).count("1") for c in range(256)])
_UNIFORM_BIN = np.full(256, 58, dtype=np.int64)
_UNIFORM_BIN[_TRANSITIONS <= 2] = np.arange(int((_TRANSITIONS <= 2).sum()))


def lbp_codes(channel: np.ndarray) -> np.ndarray:
    """8-neighbour radius-1 LBP codes (0..255) of a 2-D array, one pixel border dropped."""
    c = channel.astype(np.int16)
    centre = c[1:-1, 1:-1]
    h, w = c.shape
    offsets = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    code = np.zeros(centre.shape, dtype=np.uint8)
    for bit, (dy, dx) in enumerate(offsets):
        nb = c[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx]
        code |= (nb >= centre).astype(np.uint8) << bit
    return code


def uniform_lbp_histogram(channel: np.ndarray) -> np.ndarray:
    """59-bin normalised histogram of uniform LBP(8,1) codes."""
    bins = _UNIFORM_BIN[lbp_codes(channel).ravel()]
    hist = np.bincount(bins, minlength=59).astype(np.float64)
    return hist / max(hist.sum(), 1.0)


def _square(crop: np.ndarray) -> np.ndarray:
    return cv2.resize(crop, (CROP_SIDE, CROP_SIDE), interpolation=cv2.INTER_AREA)


def _spectrum_bands(gray: np.ndarray, n_bands: int = 8) -> tuple[np.ndarray, float]:
    """Share of spectral energy in ``n_bands`` radial bands, and a moire peak ratio.

    The moire ratio is the strongest high-frequency magnitude over the median one:
    screens and halftone print leave isolated peaks there, skin does not.
    """
    g = gray.astype(np.float64)
    g = (g - g.mean()) * np.outer(np.hanning(g.shape[0]), np.hanning(g.shape[1]))
    mag = np.abs(np.fft.fftshift(np.fft.fft2(g)))
    h, w = mag.shape
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2))
    energy = mag**2
    total = energy[r <= 1].sum() + 1e-9
    edges = np.linspace(0, 1, n_bands + 1)
    bands = np.array([energy[(r >= a) & (r < b)].sum() / total for a, b in zip(edges[:-1], edges[1:])])
    high = mag[(r > 0.5) & (r <= 1)]
    moire = float(high.max() / (np.median(high) + 1e-9))
    return bands, moire


def scalar_signals(crop: np.ndarray) -> dict[str, float]:
    """Named scalar cues of a BGR face crop (units in each comment)."""
    sq = _square(crop)
    gray = cv2.cvtColor(sq, cv2.COLOR_BGR2GRAY)
    hsv = cv2.cvtColor(sq, cv2.COLOR_BGR2HSV)
    ycc = cv2.cvtColor(sq, cv2.COLOR_BGR2YCrCb)
    bands, moire = _spectrum_bands(gray)
    lap = cv2.Laplacian(gray, cv2.CV_64F)
    gx = cv2.Sobel(gray, cv2.CV_64F, 1, 0)
    gy = cv2.Sobel(gray, cv2.CV_64F, 0, 1)
    s = hsv[:, :, 1].astype(np.float64) / 255.0
    v = hsv[:, :, 2].astype(np.float64) / 255.0
    return {
        "blur_laplacian_log_var": float(np.log1p(lap.var())),  # log of grey-level^2
        "gradient_log_mean": float(np.log1p(np.hypot(gx, gy).mean())),  # log grey-levels/px
        "high_freq_energy": float(bands[4:].sum()),  # share of spectral energy above half Nyquist
        "moire_peak_ratio": float(np.log(moire + 1e-6)),  # log(max / median) of high-frequency magnitude
        "specular_fraction": float(((v > 0.92) & (s < 0.25)).mean()),  # share of bright, unsaturated pixels
        "saturation_mean": float(s.mean()),  # 0..1
        "saturation_std": float(s.std()),  # 0..1
        "value_std": float(v.std()),  # 0..1, contrast
        "cr_std": float(ycc[:, :, 1].std() / 255.0),  # 0..1, chroma spread
        "cb_std": float(ycc[:, :, 2].std() / 255.0),  # 0..1
    }


def passive_features(crop: np.ndarray) -> np.ndarray:
    """The classifier's feature vector for a BGR face crop (float64, fixed length).

    6 x 59 colour LBP histograms (H, S, V, Y, Cr, Cb), 8 spectral band shares, and the
    scalar signals in :func:`scalar_signals` order.
    """
    sq = _square(crop)
    hsv = cv2.cvtColor(sq, cv2.COLOR_BGR2HSV)
    ycc = cv2.cvtColor(sq, cv2.COLOR_BGR2YCrCb)
    hists = [uniform_lbp_histogram(img[:, :, i]) for img in (hsv, ycc) for i in range(3)]
    bands, _ = _spectrum_bands(cv2.cvtColor(sq, cv2.COLOR_BGR2GRAY))
    scalars = np.array(list(scalar_signals(crop).values()))
    return np.concatenate([*hists, bands, scalars])


def border_lines(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Long straight edges in a ring around the face, per unit of ring perimeter.

    A phone or a sheet of paper held up to the camera shows straight edges near the
    face; a real head in a room usually shows fewer. Reported as a signal only: the
    training crops (NUAA) have no context around the face to learn its weight from.
    """
    x0, y0, x1, y1 = box
    h, w = image.shape[:2]
    bw, bh = x1 - x0, y1 - y0
    rx0, ry0 = max(0, x0 - bw), max(0, y0 - bh)
    rx1, ry1 = min(w, x1 + bw), min(h, y1 + bh)
    ring = cv2.cvtColor(image[ry0:ry1, rx0:rx1], cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image[ry0:ry1, rx0:rx1]
    if ring.size == 0 or (rx1 - rx0) <= bw + 2 and (ry1 - ry0) <= bh + 2:
        return 0.0
    scale = 256.0 / max(ring.shape)
    ring = cv2.resize(ring, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    edges = cv2.Canny(ring, 60, 160)
    fx0, fy0 = int((x0 - rx0) * scale), int((y0 - ry0) * scale)
    edges[fy0 : fy0 + int(bh * scale), fx0 : fx0 + int(bw * scale)] = 0  # the face itself does not count
    min_len = 0.6 * bw * scale
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=40, minLineLength=max(20, int(min_len)), maxLineGap=4)
    if lines is None:
        return 0.0
    seg = np.asarray(lines, dtype=np.float64).reshape(-1, 4)  # OpenCV 4: (n,1,4); 5: (n,4)
    length = float(np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]).sum())
    return length / (2.0 * (ring.shape[0] + ring.shape[1]))
