"""FAKE engines for the verification-service tests.

These stand in for kyc.ocr, kyc.biometrics and kyc.liveness (built on other branches):
the tests here check the service (consent, storage, vault, decisions, audit), not the
models. End-to-end tests with the real engines are added when the branches merge.

A "person" is a colour. The ID front is a PNG registered with its document fields; its
portrait is a patch of the person's colour; a selfie is a PNG of a colour; templates are
the mean colour, and similarity falls with the colour distance.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from kyc.errors import error
from kyc.verification import Engines


@dataclass
class Check:
    ok: bool
    code: str | None = None
    message: str = ""


@dataclass
class Document:
    type: str
    fields: dict
    checks: dict
    confidence: dict
    portrait: np.ndarray | None


@dataclass
class Reading:
    documents: list


@dataclass
class Template:
    colour: tuple
    model: str = "fake-face-1"
    quality: object | None = None  # the real Template's in-memory quality report

    def to_bytes(self) -> bytes:
        return b"FAKETPL1" + bytes(int(c) for c in self.colour) + b"\x00" * 120


@dataclass
class Comparison:
    similarity: float
    match: bool
    threshold: float
    model: str
    operating_point: str
    stage: str | None = None


@dataclass
class Passive:
    live: bool
    score: float
    threshold: float = 0.5
    signals: dict = field(default_factory=dict)
    model: str = "fake-passive-1"


def png(colour: tuple[int, int, int], size: tuple[int, int] = (120, 100), marker: int = 0) -> bytes:
    """A solid PNG (RGB colour); ``marker`` makes otherwise equal images differ in bytes."""
    arr = np.zeros((size[1], size[0], 3), np.uint8)
    arr[:] = colour
    arr[0, 0] = (marker % 256, marker // 256 % 256, 7)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


SPOOF_SIZE = (130, 100)  # selfies of this size are "printed photos"


class FakeEngines:
    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.delay_s = 0.0
        self.started = threading.Event()
        self.calls = 0

    def id_card(self, colour, *, name="张三明", id_number="11010519491231183X", checks=None, confidence=0.99, marker=0) -> bytes:
        data = png(colour, (200, 126), marker)
        portrait = np.zeros((60, 50, 3), np.uint8)
        portrait[:] = colour[::-1]  # BGR
        fields = {
            "name": name,
            "sex": "男",
            "ethnicity": "汉",
            "birth_date": "1949-12-31",
            "address": "北京市东城区某某路1号",
            "id_number": id_number,
            "issuing_authority": None,
            "valid_from": None,
            "valid_until": None,
        }
        self.documents[hashlib.sha256(data).hexdigest()] = Document(
            "cn_id_front",
            fields,
            {k: Check(ok, code) for k, (ok, code) in (checks or {"id_number_checksum": (True, None)}).items()},
            {k: confidence for k in fields if fields[k]},
            portrait,
        )
        return data

    def id_back(self, marker=0) -> bytes:
        data = png((200, 200, 200), (200, 126), marker)
        self.documents[hashlib.sha256(data).hexdigest()] = Document(
            "cn_id_back",
            {"issuing_authority": "北京市公安局东城分局", "valid_from": "2015-01-01", "valid_until": "2035-01-01"},
            {"validity": Check(True)},
            {"issuing_authority": 0.98},
            None,
        )
        return data

    # --- the Engines interface ---
    def read_document(self, data: bytes) -> Reading:
        self.calls += 1
        doc = self.documents.get(hashlib.sha256(data).hexdigest())
        if doc is None:
            raise error("document_not_found")
        return Reading([doc])

    def extract_template(self, image: np.ndarray, role: str) -> Template:
        self.started.set()
        if self.delay_s:
            time.sleep(self.delay_s)
        if image.mean() < 1:
            raise error("face_not_found")
        return Template(tuple(int(x) for x in image[1:, 1:].reshape(-1, 3).mean(axis=0)))

    def compare_templates(self, a: Template, b: Template, operating_point: str) -> Comparison:
        d = float(np.linalg.norm(np.array(a.colour, float) - np.array(b.colour, float)))
        sim = max(0.0, 1.0 - d / 100.0)
        return Comparison(sim, sim >= 0.9, 0.9, "fake-face-1", operating_point)

    def check_passive(self, image: np.ndarray) -> Passive:
        spoof = (image.shape[1], image.shape[0]) == SPOOF_SIZE
        return Passive(live=not spoof, score=0.1 if spoof else 0.9)

    def engines(self) -> Engines:
        return Engines(self.read_document, self.extract_template, self.compare_templates, self.check_passive, None, None)
