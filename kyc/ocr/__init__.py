"""Reading ID documents: Chinese resident ID cards (front and back) and ICAO 9303 MRZs.

``read_document(data)`` takes the bytes of a phone photo and returns a
:class:`DocumentReading`. Parsing and validation (:mod:`kyc.ocr.gb11643`,
:mod:`kyc.ocr.mrz`, :mod:`kyc.ocr.cn_id`) need no image or ML library.
"""

from kyc.ocr.checks import Check
from kyc.ocr.reader import read_document, read_image
from kyc.ocr.reading import DOCUMENT_TYPES, Document, DocumentReading

__all__ = ["read_document", "read_image", "Document", "DocumentReading", "Check", "DOCUMENT_TYPES"]
