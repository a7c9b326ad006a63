"""OCR engines behind one small interface, registered by name.

* ``rapidocr``: PP-OCR (DB text detector, 0/180 line classifier, CTC recogniser),
  ONNX files from the ``rapidocr`` wheel, verified against ``models/rapidocr.toml``
  and passed by explicit path, so rapidocr never downloads anything.
* ``tesseract``: the same PP-OCR detector and line classifier, with Tesseract
  (``chi_sim+eng``, one line per call) as the recogniser. A second opinion whose
  figures the benchmark reports beside the default's.

An engine works on line crops: ``detect`` gives text boxes in an image, ``upside_down``
the probability that each crop is rotated 180 degrees, ``recognise`` the text and a
confidence in [0, 1] per crop. Engines are built once per settings and reused.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import cv2
import numpy as np

from kyc.config import Settings, get_settings
from kyc.model_registry import verify_model

__all__ = ["OcrEngine", "get_engine", "ENGINES", "crop_box"]


class OcrEngine(Protocol):
    name: str

    def detect(self, image: np.ndarray, max_side: int = 960) -> list[np.ndarray]:
        """Text line boxes, each (4, 2) float32 pixels clockwise from top-left, top to bottom."""

    def upside_down(self, crops: list[np.ndarray]) -> list[float]:
        """Per crop, the probability it is rotated 180 degrees."""

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Per crop, the text and a confidence in [0, 1]."""


def crop_box(image: np.ndarray, box: np.ndarray, pad: float = 0.12) -> np.ndarray:
    """The straightened crop of a text box, padded by ``pad`` x its height on each side."""
    box = np.asarray(box, np.float32).reshape(4, 2)
    w = max(np.linalg.norm(box[1] - box[0]), np.linalg.norm(box[2] - box[3]))
    h = max(np.linalg.norm(box[3] - box[0]), np.linalg.norm(box[2] - box[1]))
    p = pad * h
    ux = (box[1] - box[0]) / max(np.linalg.norm(box[1] - box[0]), 1e-6)
    uy = (box[3] - box[0]) / max(np.linalg.norm(box[3] - box[0]), 1e-6)
    src = np.float32([box[0] - ux * p - uy * p, box[1] + ux * p - uy * p, box[2] + ux * p + uy * p, box[3] - ux * p + uy * p])
    W, H = int(round(w + 2 * p)), int(round(h + 2 * p))
    W, H = max(W, 4), max(H, 4)
    dst = np.float32([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]])
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, m, (W, H), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, settings: Settings) -> None:
        from rapidocr import RapidOCR
        from rapidocr.utils.log import logger as rapid_logger

        rapid_logger.setLevel(logging.ERROR)
        threads = settings.onnx_threads or -1
        params = {
            "Global.log_level": "error",
            "Det.model_path": str(verify_model("ppocr-det", settings)),
            "Rec.model_path": str(verify_model("ppocr-rec", settings)),
            "Cls.model_path": str(verify_model("ppocr-cls", settings)),
            "Det.limit_type": "max",
            "Det.limit_side_len": 960,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.use_cuda": settings.onnx_provider == "cuda",
        }
        self._ocr = RapidOCR(params=params)
        self._det = self._ocr._load_det_model()
        self._cls = self._ocr._load_cls_model()
        self._rec = self._ocr._load_rec_model()
        # Pad a batch of line crops only to its widest member, not to rapidocr's 320 px
        # minimum: card fields are short (男, 汉), and padding is most of their cost.
        self._rec.rec_image_shape = [3, 48, 96]
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray, max_side: int = 960) -> list[np.ndarray]:
        with self._lock:
            self._det.limit_side_len = max_side
            out = self._det(image)
        if out.boxes is None:
            return []
        boxes = [np.asarray(b, np.float32).reshape(4, 2) for b in out.boxes]
        return sorted(boxes, key=lambda b: (float(b[:, 1].mean()), float(b[:, 0].mean())))

    def upside_down(self, crops: list[np.ndarray]) -> list[float]:
        if not crops:
            return []
        with self._lock:
            res = self._cls(list(crops))
        return [score if "180" in label else 1.0 - score for label, score in res.cls_res]

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if not crops:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput

        with self._lock:
            res = self._rec(TextRecInput(img=list(crops)))
        return [(t, float(s)) for t, s in zip(res.txts, res.scores)]


class TesseractEngine(RapidOcrEngine):
    name = "tesseract"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        import pytesseract

        self._tess = pytesseract

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for crop in crops:
            h = crop.shape[0]
            if h < 40:  # Tesseract wants text about 30 px high
                crop = cv2.resize(crop, None, fx=40 / h, fy=40 / h, interpolation=cv2.INTER_CUBIC)
            data = self._tess.image_to_data(crop[:, :, ::-1], lang="chi_sim+eng", config="--psm 7",
                                            output_type=self._tess.Output.DICT)
            words = [(w, float(c)) for w, c in zip(data["text"], data["conf"]) if w.strip() and float(c) >= 0]
            text = "".join(w for w, _ in words)
            conf = min((c for _, c in words), default=0.0) / 100.0
            out.append((text, conf))
        return out


ENGINES = {"rapidocr": RapidOcrEngine, "tesseract": TesseractEngine}
_cache: dict[tuple[str, str, str, int], OcrEngine] = {}
_cache_lock = threading.Lock()


def get_engine(settings: Settings | None = None, name: str | None = None) -> OcrEngine:
    """The engine named by ``settings.ocr_engine`` (or ``name``), built on first use."""
    s = settings or get_settings()
    name = name or s.ocr_engine
    key = (name, str(s.resolved_models_dir), s.onnx_provider, s.onnx_threads)
    with _cache_lock:
        engine = _cache.get(key)
        if engine is None:
            engine = ENGINES[name](s)
            _cache[key] = engine
        return engine
