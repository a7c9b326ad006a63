"""Reading ID documents: Chinese resident ID cards (front and back), the other cards of
Chinese real-name checks, and ICAO 9303 MRZs.

``read_document(data)`` takes the bytes of a phone photo and returns a
:class:`DocumentReading` of frozen :class:`Document` values with typed fields. Each
document layout is a module registered in :mod:`kyc.ocr.layouts`. Parsing and
validation (:mod:`kyc.ocr.gb11643`, :mod:`kyc.ocr.mrz`, :mod:`kyc.ocr.cn_id`,
:mod:`kyc.ocr.layouts`) need no image or ML library; the reader (OpenCV, the OCR
engines) is imported on first use, so the registry is cheap to import.
"""

from typing import TYPE_CHECKING

from kyc.ocr.checks import Check
from kyc.ocr.reading import DOCUMENT_TYPES, Document, DocumentReading

if TYPE_CHECKING:
    from kyc.ocr.reader import read_document, read_image

__all__ = ["read_document", "read_image", "Document", "DocumentReading", "Check", "DOCUMENT_TYPES"]


def __getattr__(name: str):
    if name in ("read_document", "read_image"):
        from kyc.ocr import reader

        return getattr(reader, name)
    raise AttributeError(name)
