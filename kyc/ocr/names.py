"""Names as printed on Chinese cards: plausibility and look-alike doubt. Pure text.

A name is Han characters (二 to a few), or the ethnic-minority form whose parts are
joined by a middle dot (``买买提·艾力``), which OCR reads as ``•``, ``．`` or ``-``.
Any Han character may be in a name, but a rare one (outside the 3,755 level-1
characters of GB 2312) that looks like a common one (``會`` for ``曾``) is more
often a misreading than a real name: its field confidence is lowered, so the
decision rules send it to review instead of trusting it.
"""

from __future__ import annotations

import re

from kyc.ocr.checks import Check, failed, passed
from kyc.ocr.divisions import LOOKALIKES

__all__ = ["normalise_name", "check_name", "name_confidence", "is_common"]

_DOTS = re.compile(r"(?<=[\u4e00-\u9fff])\s*[·•・．.\-‧∙⋅]\s*(?=[\u4e00-\u9fff])")
_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]+$")
_RARE_FACTOR = 0.6  # confidence multiplier for a rare character that looks like a common one


def is_common(ch: str) -> bool:
    """Whether ``ch`` is one of GB 2312's 3,755 level-1 (most common) characters."""
    try:
        b = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xB0 <= b[0] <= 0xD7


def normalise_name(text: str) -> str:
    """Spaces dropped; the dot of a minority name made the middle dot ``·``."""
    return re.sub(r"\s+", "", _DOTS.sub("·", text))


def check_name(name: str | None) -> dict[str, Check]:
    """Han characters only, 2 to 6 for a Han name; minority names: 2 or more parts of
    Han characters joined by ``·``, at most 20 characters."""
    if not name:
        return {}
    parts = name.split("·")
    ok = all(p and _HAN.match(p) for p in parts) and (
        2 <= len(name) <= 6 if len(parts) == 1 else len(name) <= 20)
    if ok:
        return {"name_plausible": passed("The name is made of name characters.")}
    return {"name_plausible": failed("name_implausible", "The name holds characters or a shape no name has.")}


def name_confidence(name: str | None, confidence: float) -> float:
    """``confidence`` lowered when a character is rare and looks like a common one."""
    if not name:
        return confidence
    for ch in name:
        if not is_common(ch) and any(is_common(o) for o in LOOKALIKES.get(ch, ())):
            return round(confidence * _RARE_FACTOR, 4)
    return confidence
