"""FAKE engines for worker processes (``KYC_ENGINES_FACTORY=tests.fleet.fleet_fakes:engines``).

Like tests/service/fakes.py, but stateless, so a separate worker process reads the same
cards: a 200x126 image is a Chinese ID card front whose portrait is the image's colour.
``KYC_TEST_ENGINE_DELAY_S`` makes each face template take that long (to kill a worker
mid-job). These check the fleet's plumbing, not the models.
"""

from __future__ import annotations

import datetime as dt
import io
import os

import numpy as np
from PIL import Image

from kyc.errors import error
from kyc.ocr import Check, Document, DocumentReading
from kyc.ocr.layouts.cn_id import CnIdFront
from kyc.verification import Engines
from tests.service.fakes import FakeEngines

FIELDS = CnIdFront("张三明", "男", "汉", dt.date(1949, 12, 31), "北京市东城区某某路1号", "11010519491231183X")


class StatelessFakes(FakeEngines):
    def read_document(self, data: bytes) -> DocumentReading:
        img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        if img.shape[:2] != (126, 200):
            raise error("document_not_found")
        portrait = np.zeros((60, 50, 3), np.uint8)
        portrait[:] = img[5, 5][::-1]
        checks = {"id_number_checksum": Check(True, None, "")}
        confidence = {k: 0.99 for k, v in FIELDS.as_dict().items() if v}
        return DocumentReading((Document("cn_id_front", FIELDS, checks, confidence, portrait),), engine="fake")


def engines() -> Engines:
    fake = StatelessFakes()
    fake.delay_s = float(os.environ.get("KYC_TEST_ENGINE_DELAY_S", "0"))
    e = fake.engines()
    return e


def id_card(colour, marker: int = 0) -> bytes:
    from tests.service.fakes import png

    return png(colour, (200, 126), marker)


__all__ = ["engines", "id_card"]
