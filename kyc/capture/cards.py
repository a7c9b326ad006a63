"""The immediate read of an ID photo on the capture page: is it the side asked for, and
if not, what should the person do? Pure functions over a reading and the image.

The reader decides; the image hints (blur, glare) only choose the retake message
when the reader found nothing usable, so they never turn a good read into a retake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from kyc.ocr.reading import DocumentReading

__all__ = ["Side", "CardCheck", "SIDE_TYPES", "check_card", "image_hints", "RETAKE_REASONS"]

Side = Literal["front", "back"]

# Which document types answer each side; a front with its MRZ (a passport) needs no back.
SIDE_TYPES: dict[str, frozenset[str]] = {
    "front": frozenset({"cn_id_front", "passport_td3", "mrz_td2", "visa_mrva", "visa_mrvb"}),
    "back": frozenset({"cn_id_back", "mrz_td1"}),
}
NEEDS_BACK = frozenset({"cn_id_front"})

# Reason codes the page turns into a retake message (every one is in both languages there).
RETAKE_REASONS = ("document_not_found", "document_cut_off", "document_unreadable", "wrong_side", "glare", "blurred")

BLUR_VARIANCE = 25.0  # variance of the Laplacian of the grey photo at 800 px; sharper photos are far above
GLARE_LEVEL = 250  # grey level counted as blown out
GLARE_SHARE = 0.02  # share of blown-out pixels in the central area that reads as a glare


@dataclass(frozen=True)
class CardCheck:
    ok: bool
    side: Side
    type: str | None  # the document type read, when one was
    reason: str | None  # one of RETAKE_REASONS when not ok
    needs_back: bool


def image_hints(image: np.ndarray) -> list[str]:
    """``blurred`` and/or ``glare`` for a BGR photo, from cheap global measures."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape[:2]
    scale = 800.0 / max(h, w)
    if scale < 1.0:
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    hints = []
    if float(cv2.Laplacian(grey, cv2.CV_64F).var()) < BLUR_VARIANCE:
        hints.append("blurred")
    gh, gw = grey.shape[:2]
    centre = grey[gh // 6 : gh - gh // 6, gw // 6 : gw - gw // 6]
    if centre.size and float((centre >= GLARE_LEVEL).mean()) > GLARE_SHARE:
        hints.append("glare")
    return hints


def check_card(reading: DocumentReading, side: Side, hints: list[str]) -> CardCheck:
    """The outcome of reading the photo taken for ``side``."""
    types = [d.type for d in reading.documents]
    wanted = [t for t in types if t in SIDE_TYPES[side]]
    if wanted:
        t = wanted[0]
        return CardCheck(True, side, t, None, needs_back=side == "front" and t in NEEDS_BACK)
    other = "back" if side == "front" else "front"
    if any(t in SIDE_TYPES[other] for t in types):
        return CardCheck(False, side, types[0], "wrong_side", needs_back=False)
    codes = [e.get("code") for e in reading.errors]
    if "document_cut_off" in codes:
        reason = "document_cut_off"
    elif "glare" in hints:
        reason = "glare"
    elif "blurred" in hints:
        reason = "blurred"
    elif types or "document_unreadable" in codes:
        reason = "document_unreadable"
    else:
        reason = "document_not_found"
    return CardCheck(False, side, types[0] if types else None, reason, needs_back=False)
