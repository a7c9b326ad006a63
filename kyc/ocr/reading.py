"""What reading a photo returns: typed value objects, serialisable without the images."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kyc.ocr.checks import Check

__all__ = ["Document", "DocumentReading", "DOCUMENT_TYPES"]

DOCUMENT_TYPES = ("cn_id_front", "cn_id_back", "passport_td3", "mrz_td1", "mrz_td2", "visa_mrva", "visa_mrvb")


@dataclass
class Document:
    """One document side found in the photo.

    ``fields`` uses the names of the issue (``birth_date`` as ``YYYY-MM-DD``);
    ``confidence`` is per field in [0, 1]; ``portrait`` is the BGR crop of the ID
    portrait (front only) for face matching, never serialised.
    """

    type: str
    fields: dict[str, str | None]
    checks: dict[str, Check] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    portrait: np.ndarray | None = field(default=None, repr=False)
    corners: list[list[float]] | None = None  # the card's corners in the photo, px
    mrz_lines: list[str] | None = None

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks.values())

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "type": self.type,
            "fields": dict(self.fields),
            "checks": {k: c.to_dict() for k, c in self.checks.items()},
            "confidence": dict(self.confidence),
            "valid": self.valid,
        }
        if self.corners is not None:
            out["corners"] = self.corners
        if self.mrz_lines is not None:
            out["mrz_lines"] = list(self.mrz_lines)
        return out


@dataclass
class DocumentReading:
    """Every document found in one photo, problems with parts of it, and the engine used."""

    documents: list[Document]
    errors: list[dict] = field(default_factory=list)
    engine: str = "rapidocr"

    def to_dict(self) -> dict[str, object]:
        return {"documents": [d.to_dict() for d in self.documents], "errors": list(self.errors), "engine": self.engine}
