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


def _common_fields(fields: dict) -> dict:
    """Add the service's common field names to an MRZ reading (``name``, ``id_number``,
    ``valid_until``), so masking, duplicate detection and review treat a passport like an
    ID card. The MRZ's own fields stay as they are."""
    out = dict(fields)
    if out.get("id_number") is None and out.get("document_number"):
        out["id_number"] = out["document_number"]
    if out.get("name") is None and (out.get("surname") or out.get("given_names")):
        out["name"] = " ".join(p for p in (out.get("surname"), out.get("given_names")) if p)
    if out.get("valid_until") is None and out.get("expiry_date"):
        out["valid_until"] = out["expiry_date"]
    return out


def _read(engines: Engines, data: bytes) -> tuple[list, KycError | None]:
    """The documents in one photo, or none and the reason (no card, unreadable)."""
    try:
        return list(engines.read_document(data).documents), None
    except KycError as exc:
        if exc.code in ("document_not_found", "document_unreadable", "document_cut_off"):
            return [], exc
        raise


def _model_name(obj) -> str | None:
    m = getattr(obj, "model", None)
    return None if m is None else str(m)


def run_pipeline(inp: VerificationInput, engines: Engines, rules: DecisionRules) -> PipelineResult:
    import time

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ev = Evidence()

    # 1. the document (front, then back to complete the fields). Many ID cards carry
    # their MRZ on the back (TD1): when the front photo holds no readable document but
    # the back holds one that is not a Chinese ID back, that reading is the document.
    front_docs, front_error = _read(engines, inp.id_front)
    back_docs = _read(engines, inp.id_back)[0] if inp.id_back is not None else []
    if front_docs:
        front = _pick_front(front_docs)
    elif any(d.type not in BACK_TYPES for d in back_docs):
        front = _pick_front([d for d in back_docs if d.type not in BACK_TYPES])
    else:
        raise front_error or error("document_not_found")
    ev.document_type = front.type
    ev.fields = dict(front.fields)
    ev.failed_checks = _failed(front.checks)
    ev.confidence = {k: float(v) for k, v in (front.confidence or {}).items()}
    if inp.id_back is not None:
        backs = [d for d in back_docs if d.type in BACK_TYPES] or [d for d in back_docs if d is not front]
        if not backs and front_docs:
            raise error("document_not_found", "No ID card back was found in the photo.", part="id_back")
        for back in backs[:1]:
            for k, v in back.fields.items():
                if ev.fields.get(k) is None:
                    ev.fields[k] = v
            ev.failed_checks += _failed(back.checks, "back.")
            for k, v in (back.confidence or {}).items():
                ev.confidence.setdefault(k, float(v))
    ev.fields = _common_fields(ev.fields)
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
    # The reader crops the portrait of the layouts it knows (the Chinese ID card); for
    # other documents (passports, cards with the MRZ on the back) the largest face in the
    # front photo is the portrait.
    portrait = getattr(front, "portrait", None)
    if portrait is None:
        portrait = decode_image(inp.id_front)
    try:
        portrait_t = engines.extract_template(portrait, "id_portrait")
    except KycError as exc:
        ev.face_problem = "id_portrait_missing" if exc.code == "face_not_found" else f"id_portrait_{exc.code}"
    else:
        cmp = engines.compare_templates(portrait_t, selfie_t, rules.face_operating_point)
        ev.face = {
            "similarity": float(cmp.similarity),
            "threshold": float(cmp.threshold),
            "match": bool(cmp.match),
            "model": str(cmp.model),
            "operating_point": str(cmp.operating_point),
            "stage": str(cmp.stage or cmp.model),  # the cascade's deciding matcher
        }
        from kyc.biometrics.quality_bands import portrait_band

        band = portrait_band(portrait_t.quality.metrics if portrait_t.quality is not None else None)
        ev.face["portrait_band"] = band.name
        ev.face["portrait_band_reasons"] = list(band.reasons)
    timings["face"] = (time.perf_counter() - t2) * 1000
    ev.models = {k: v for k, v in {"face": _model_name(selfie_t), "liveness": ev.liveness.get("model")}.items() if v}
    return PipelineResult(ev, selfie_t.to_bytes(), timings)
