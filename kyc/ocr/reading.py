"""What reading a photo returns: typed, frozen value objects, serialisable without the images."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kyc.ocr.checks import Check
from kyc.ocr.layouts import Layout, document_types, get_layout
from kyc.ocr.layouts._base import DocumentFields

__all__ = ["Document", "DocumentReading", "DOCUMENT_TYPES"]

DOCUMENT_TYPES = document_types()


@dataclass(frozen=True)
class Document:
    """One document side found in the photo.

    ``fields`` is the layout's typed fields (a frozen dataclass: dates as
    :class:`datetime.date`, ``long_term`` a bool); :meth:`common_fields` gives them as
    text under the service's common names. ``confidence`` is per field in [0, 1];
    ``portrait`` is the BGR crop of the portrait for face matching (None where the
    layout has none), never serialised.
    """

    type: str
    fields: DocumentFields
    checks: dict[str, Check] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    portrait: np.ndarray | None = field(default=None, repr=False, compare=False)
    corners: tuple[tuple[float, float], ...] | None = None  # the card's corners in the photo, px
    mrz_lines: tuple[str, ...] | None = None

    @property
    def layout(self) -> Layout:
        layout = get_layout(self.type)
        if layout is None:
            raise KeyError(self.type)
        return layout

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks.values())

    @property
    def complete(self) -> bool:
        """Whether the layout's fields were all read (a cut-off card is not complete)."""
        return self.layout.complete(self.fields, self.checks)

    def common_fields(self) -> dict[str, str | None]:
        return self.fields.common()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "type": self.type,
            "fields": self.fields.as_text(),
            "checks": {k: c.to_dict() for k, c in self.checks.items()},
            "confidence": dict(self.confidence),
            "valid": self.valid,
        }
        if self.corners is not None:
            out["corners"] = [list(c) for c in self.corners]
        if self.mrz_lines is not None:
            out["mrz_lines"] = list(self.mrz_lines)
        return out


@dataclass(frozen=True)
class DocumentReading:
    """Every document found in one photo, problems with parts of it, and the engine used."""

    documents: tuple[Document, ...]
    errors: tuple[dict, ...] = ()
    engine: str = "rapidocr"

    def to_dict(self) -> dict[str, object]:
        return {"documents": [d.to_dict() for d in self.documents], "errors": list(self.errors), "engine": self.engine}
