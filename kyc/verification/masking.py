"""Masking document fields for responses and the review queue: enough to recognise, not to reuse.

``张三明`` → ``张*明``; ``110105194912310183X``-style numbers keep 4 + 4 characters.
"""

from __future__ import annotations

from kyc.ocr.layouts import COMMON_FIELDS

__all__ = ["mask_name", "mask_id_number", "mask_fields", "MASKED_FIELDS"]

# What a client gets back (masked or as is); everything else only through the export.
# Every layout maps its fields to these common names (kyc.ocr.layouts), so a residence
# permit, a travel permit or a passport is masked like the ID card.
_MASKS = {f.name: f.mask for f in COMMON_FIELDS if f.mask is not None}
MASKED_FIELDS = tuple(_MASKS)


def mask_name(name: str) -> str:
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: str) -> str:
    number = "".join(number.split())
    if len(number) >= 10:
        return number[:4] + "*" * (len(number) - 8) + number[-4:]
    if len(number) > 2:
        return "*" * (len(number) - 2) + number[-2:]
    return "*" * len(number)


def mask_fields(fields: dict[str, str | None]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key in MASKED_FIELDS:
        value = fields.get(key)
        if value is None:
            continue
        if _MASKS[key] == "name":
            out[key] = mask_name(value)
        elif _MASKS[key] == "id_number":
            out[key] = mask_id_number(value)
        else:
            out[key] = value
    return out
