"""The one place that calls the document, face and liveness engines.

Everything else in the verification service depends on :class:`Engines`, a bundle of
plain callables, so unit tests inject fakes and the engines' packages are imported
lazily, only when the real bundle is first used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kyc.config import Settings

__all__ = ["Engines", "default_engines", "LIVENESS_STORE_ATTRS"]

# Where the active-liveness session store may hang on ``app.state`` (issue 4 decides the name).
LIVENESS_STORE_ATTRS = ("liveness_sessions", "liveness_store", "liveness")


@dataclass(frozen=True)
class Engines:
    """``read_document(bytes) -> DocumentReading``; ``extract_template(image, role) -> Template``;
    ``compare_templates(a, b, operating_point) -> Comparison``; ``check_passive(image) -> PassiveResult``;
    ``take_active(session_id) -> ActiveResult`` (None when the service has no session store);
    ``template_from_bytes(bytes) -> Template``."""

    read_document: Callable[[bytes], Any]
    extract_template: Callable[[np.ndarray, str], Any]
    compare_templates: Callable[[Any, Any, str], Any]
    check_passive: Callable[[np.ndarray], Any]
    take_active: Callable[[str], Any] | None = None
    template_from_bytes: Callable[[bytes], Any] | None = None


def default_engines(settings: Settings, app_state: Any = None) -> Engines:
    """The real engines (kyc.ocr, kyc.biometrics, kyc.liveness), imported on first call."""

    def read_document(data: bytes):
        from kyc.ocr import read_document as _read

        return _read(data, settings=settings)

    def extract_template(image: np.ndarray, role: str):
        from kyc.biometrics import extract_template as _extract

        return _extract(image, role=role)

    def compare_templates(a, b, operating_point: str):
        from kyc.biometrics import compare_templates as _compare

        return _compare(a, b, operating_point=operating_point)

    def check_passive(image: np.ndarray):
        from kyc.liveness import check_passive as _passive

        return _passive(image)

    def template_from_bytes(data: bytes):
        from kyc.biometrics import Template

        return Template.from_bytes(data)

    def take_active(session_id: str):
        # Looked up at call time: the liveness feature may attach its store after start-up.
        for attr in LIVENESS_STORE_ATTRS:
            store = getattr(app_state, attr, None) if app_state is not None else None
            if store is not None and hasattr(store, "take_result"):
                return store.take_result(session_id)
        from kyc.errors import error

        raise error("liveness_session_not_found", "This service has no active-liveness sessions.")

    return Engines(read_document, extract_template, compare_templates, check_passive, take_active, template_from_bytes)
