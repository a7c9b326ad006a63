"""The registry of document layouts: one module per layout, registered here.

Adding a document type is one new module under ``kyc/ocr/layouts/`` (its
:class:`Layout` and typed :class:`DocumentFields`), one line below, its synthetic
generator and its tests. The reader (:mod:`kyc.ocr.reader`), the verification
pipeline, masking and the review console read this registry.
"""

from __future__ import annotations

from kyc.ocr.layouts import cn_id, foreign_pr, hmt_residence, mrz, travel_permit
from kyc.ocr.layouts._base import COMMON_FIELDS, CommonField, DocumentFields, Layout

__all__ = [
    "Layout",
    "DocumentFields",
    "CommonField",
    "COMMON_FIELDS",
    "LAYOUTS",
    "get_layout",
    "card_layouts",
    "document_types",
    "front_types",
    "back_types",
    "field_labels",
]

LAYOUTS: dict[str, Layout] = {}


def _register(layout: Layout) -> None:
    if layout.type in LAYOUTS:
        raise ValueError(f"layout {layout.type!r} registered twice")
    LAYOUTS[layout.type] = layout


for _layout in (cn_id.FRONT, cn_id.BACK, hmt_residence.FRONT, hmt_residence.BACK, foreign_pr.FRONT,
                travel_permit.FRONT, *mrz.LAYOUTS):
    _register(_layout)


def get_layout(document_type: str) -> Layout | None:
    return LAYOUTS.get(document_type)


def card_layouts() -> tuple[Layout, ...]:
    """The layouts recognised from a card's printed text (every one but the MRZs)."""
    return tuple(x for x in LAYOUTS.values() if not x.mrz)


def document_types() -> tuple[str, ...]:
    return tuple(LAYOUTS)


def front_types() -> tuple[str, ...]:
    """Sides that carry the holder's identity (the document a verification is about)."""
    return tuple(k for k, x in LAYOUTS.items() if x.side == "front")


def back_types() -> tuple[str, ...]:
    """Sides that only complete a front (validity, issuing authority)."""
    return tuple(k for k, x in LAYOUTS.items() if x.side == "back")


def field_labels() -> dict[str, str]:
    """Reviewers' label of every field name a layout or the common names use."""
    out = {f.name: f.label for f in COMMON_FIELDS}
    for layout in LAYOUTS.values():
        for key, label in layout.labels.items():
            out.setdefault(key, label)
    return out
