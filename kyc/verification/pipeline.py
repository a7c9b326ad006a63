"""The verification pipeline: document → faces → liveness → match, as evidence.

No database and no HTTP: it takes the uploads (bytes, in memory) and the engines, and
returns :class:`~kyc.verification.decision.Evidence` plus the selfie template bytes.
Input the subject must fix (no card in the photo, no face in the selfie, unreadable
image) raises a :class:`~kyc.errors.KycError`; a weak ID portrait becomes a reason code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kyc.errors import KycError, error
from kyc.images import decode_image
from kyc.verification.decision import DecisionRules, Evidence
from kyc.verification.engines import Engines

__all__ = ["VerificationInput", "PipelineResult", "run_pipeline"]

FRONT_TYPES = ("cn_id_front", "passport_td3", "mrz_td1", "mrz_td2", "passport", "mrz_td3")
BACK_TYPES = ("cn_id_back",)


@dataclass
class VerificationInput:
    id_front: bytes
    id_back: bytes | None = None
    selfie: bytes | None = None
    liveness_session_id: str | None = None


@dataclass
class PipelineResult:
    evidence: Evidence
    selfie_template: bytes | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


def _pick_front(documents: list) -> object:
    with_portrait = [d for d in documents if getattr(d, "portrait", None) is not None]
    for pool in (with_portrait, documents):
        for d in pool:
            if d.type in FRONT_TYPES or d.type not in BACK_TYPES:
                return d
    raise error("document_not_found")


def _failed(checks: dict, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for name, check in (checks or {}).items():
        if not check.ok:
            out.append((prefix + name, check.code or f"{name}_failed"))
    return out


def _model_name(obj) -> str | None:
    m = getattr(obj, "model", None)
    return None if m is None else str(m)


def run_pipeline(inp: VerificationInput, engines: Engines, rules: DecisionRules) -> PipelineResult:
    import time

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ev = Evidence()

    # 1. the document (front, then back to complete the fields)
    reading = engines.read_document(inp.id_front)
    front = _pick_front(list(reading.documents))
    ev.document_type = front.type
    ev.fields = dict(front.fields)
    ev.failed_checks = _failed(front.checks)
    ev.confidence = {k: float(v) for k, v in (front.confidence or {}).items()}
    if inp.id_back is not None:
        back_reading = engines.read_document(inp.id_back)
        backs = [d for d in back_reading.documents if d.type in BACK_TYPES] or list(back_reading.documents)
        if not backs:
            raise error("document_not_found", "No ID card back was found in the photo.", part="id_back")
        back = backs[0]
        for k, v in back.fields.items():
            if ev.fields.get(k) is None:
                ev.fields[k] = v
        ev.failed_checks += _failed(back.checks, "back.")
        for k, v in (back.confidence or {}).items():
            ev.confidence.setdefault(k, float(v))
    timings["document"] = (time.perf_counter() - t0) * 1000

    # 2. the live face: a selfie upload, or the best frame of a finished active session
    t1 = time.perf_counter()
    if inp.liveness_session_id is not None:
        if engines.take_active is None:
            raise error("liveness_session_not_found", "This service has no active-liveness sessions.")
        active = engines.take_active(inp.liveness_session_id)
        threshold = getattr(active, "threshold", None)
        ev.liveness = {
            "kind": "active",
            "live": bool(active.live),
            "score": float(active.score),
            "threshold": None if threshold is None else float(threshold),
            "reasons": [str(r) for r in (getattr(active, "reasons", None) or [])],
            "model": _model_name(active),
        }
        selfie = getattr(active, "best_frame", None)
        if selfie is None:
            raise error("face_not_found", "The liveness session kept no usable frame.")
    else:
        if inp.selfie is None:
            raise error("upload_missing", "A selfie or a liveness session is required.", part="selfie")
        selfie = decode_image(inp.selfie)
        passive = engines.check_passive(selfie)
        ev.liveness = {
            "kind": "passive",
            "live": bool(passive.live),
            "score": float(passive.score),
            "threshold": float(passive.threshold),
            "model": _model_name(passive),
        }
    timings["liveness"] = (time.perf_counter() - t1) * 1000

    # 3. templates and the 1:1 match
    t2 = time.perf_counter()
    selfie_t = engines.extract_template(np.ascontiguousarray(selfie), "selfie")
    portrait = getattr(front, "portrait", None)
    if portrait is None:
        ev.face_problem = "id_portrait_missing"
    else:
        try:
            portrait_t = engines.extract_template(portrait, "id_portrait")
        except KycError as exc:
            ev.face_problem = f"id_portrait_{exc.code}"
        else:
            cmp = engines.compare_templates(portrait_t, selfie_t, rules.face_operating_point)
            ev.face = {
                "similarity": float(cmp.similarity),
                "threshold": float(cmp.threshold),
                "match": bool(cmp.match),
                "model": str(cmp.model),
                "operating_point": str(cmp.operating_point),
            }
    timings["face"] = (time.perf_counter() - t2) * 1000
    ev.models = {k: v for k, v in {"face": _model_name(selfie_t), "liveness": ev.liveness.get("model")}.items() if v}
    return PipelineResult(ev, selfie_t.to_bytes(), timings)
