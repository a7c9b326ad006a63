"""Fading watermarks before recognition: pure image functions, no OCR.

People send ID photos marked ``复印无效``, ``仅供XX实名认证使用`` or an app's name,
stamped or tiled across the card in a colour at 15-60 % opacity. The card's printed
values are near black; a watermark is either coloured (bright in at least one
channel) or, when grey or black, translucent (lighter than the print under it). So:

* :func:`fade_colour` keeps per pixel the brightest channel: black print stays dark
  in every channel, a red, blue, orange or green overlay turns light;
* :func:`fade_light` then keeps only the darkest tones: a levels stretch whose white
  point sits between the print and the card's background, so a translucent grey
  overlay (and the pale guilloche) goes white while the strokes stay black. It is
  the second pass, used where the first reading fails its checks or reads with low
  confidence, since on a dim or blurred photo it can thin the print too.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["fade_colour", "fade_light"]


def fade_colour(card: np.ndarray) -> np.ndarray:
    """The card (BGR) with coloured overlays faded, as a 3-channel grey image."""
    top = card.max(axis=2) if card.ndim == 3 else card
    return cv2.merge([top, top, top])


def fade_light(card: np.ndarray, keep: float = 0.45) -> np.ndarray:
    """:func:`fade_colour`, then tones lighter than ``keep`` of the way from the print's
    black to the background's white set to white and the rest stretched to full range.

    The black point is the 0.5th percentile of the card, the background the median
    (most of a card is background); both are measured on this card, so the stretch
    follows the photo's exposure.
    """
    grey = fade_colour(card)[:, :, 0].astype(np.float32)
    black = float(np.percentile(grey, 0.5))
    paper = float(np.median(grey))
    if paper - black < 40:  # no contrast to work with: leave it
        out = grey
    else:
        white = black + keep * (paper - black)
        out = np.clip((grey - black) / max(white - black, 1.0), 0.0, 1.0) * 255.0
    u8 = out.astype(np.uint8)
    return cv2.merge([u8, u8, u8])


def close_overlays(image: np.ndarray) -> np.ndarray:
    """The photo with thin dark strokes (watermark text tiled over the whole photo, the
    card's own print) closed over by their lighter surroundings, for finding the card's
    outline where the strokes break its edges. Not for reading: the print goes too."""
    k = max(5, round(max(image.shape[:2]) / 140)) | 1
    return cv2.morphologyEx(image, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
