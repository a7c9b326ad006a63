"""ICAO 9303 machine-readable zones (TD1, TD2, TD3, MRV-A, MRV-B) as layouts.

The zone is parsed and its check digits validated by :mod:`kyc.ocr.mrz`; this module
gives the reading its typed fields and common names (``id_number`` is the document
number, ``name`` the surname and given names, ``valid_until`` the expiry date).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

from kyc.ocr.layouts._base import DocumentFields, Layout
from kyc.ocr.mrz import FORMATS

__all__ = ["MrzFields", "LAYOUTS", "from_reading"]


@dataclass(frozen=True)
class MrzFields(DocumentFields):
    document_code: str | None = None
    issuing_country: str | None = None
    document_number: str | None = None
    surname: str | None = None
    given_names: str | None = None
    nationality: str | None = None
    birth_date: _dt.date | None = None
    sex: str | None = None
    expiry_date: _dt.date | None = None
    optional_data: str | None = None
    optional_data_2: str | None = None
    personal_number: str | None = None

    COMMON: ClassVar = {"id_number": "document_number", "valid_until": "expiry_date"}

    def common(self) -> dict[str, str | None]:
        out = super().common()
        if out.get("name") is None and (self.surname or self.given_names):
            out["name"] = " ".join(p for p in (self.surname, self.given_names) if p)
        return out


def from_reading(fields: dict[str, str | None]) -> MrzFields:
    """Typed fields from :class:`kyc.ocr.mrz.MrzReading`'s text fields."""
    typed = dict(fields)
    for key in ("birth_date", "expiry_date"):
        if typed.get(key) is not None:
            typed[key] = _dt.date.fromisoformat(typed[key])
    return MrzFields(**typed)


_TITLES = {
    "passport_td3": "Passport data page (TD3)",
    "mrz_td1": "ID card with a TD1 zone",
    "mrz_td2": "Document with a TD2 zone",
    "visa_mrva": "Visa (MRV-A)",
    "visa_mrvb": "Visa (MRV-B)",
}

_LABELS = {"document_code": "Document code", "issuing_country": "Issuing country", "document_number": "Document number",
           "surname": "Surname", "given_names": "Given names", "expiry_date": "Expiry date",
           "optional_data": "Optional data", "optional_data_2": "Optional data (2)", "personal_number": "Personal number"}

LAYOUTS = tuple(
    Layout(type=kind, title=_TITLES[kind], side="front", fields=MrzFields, mrz=True,
           labels=_LABELS)
    for kind in FORMATS
)
