"""A queued verification in three stages, one queue per resource: ``ocr`` (read the
document photos), ``liveness`` (passive check of the selfie, or take the active session's
result), ``face`` (templates, 1:1 match, decision, storage).

Each stage runs its engine and passes what it found to the next stage, sealed under the
job's key; the last stage runs the unchanged pipeline (``kyc.verification.pipeline``) over
engines that answer from those findings. So workers on a GPU host can take ``ocr`` and
``face`` while CPU hosts take ``liveness``, and the decision logic exists once.

The findings are pickled: they are the engines' own result objects. That is safe here
because they are authenticated (AES-GCM) under a per-job key that only holders of the
key-encryption key can unwrap, i.e. our own workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle

import numpy as np

from kyc.errors import KycError, error
from kyc.images import decode_image
from kyc.vault.envelope import open_sealed, seal
from kyc.verification.engines import Engines
from kyc.verification.pipeline import VerificationInput

__all__ = ["STAGES", "next_stage", "run_stage", "replay_engines", "seal_findings", "open_findings"]

STAGES = ("ocr", "liveness", "face")

Findings = dict[str, tuple[str, object]]  # key -> ("ok", result) | ("error", (code, message, detail))


def next_stage(stage: str) -> str | None:
    i = STAGES.index(stage)
    return STAGES[i + 1] if i + 1 < len(STAGES) else None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _array_key(image: np.ndarray) -> str:
    return "passive:" + _digest(np.ascontiguousarray(image).tobytes() + str(image.shape).encode())


def _attempt(fn, *args) -> tuple[str, object]:
    try:
        return ("ok", fn(*args))
    except KycError as exc:
        return ("error", (exc.code, exc.message, dict(exc.detail)))


def run_stage(stage: str, engines: Engines, inp: VerificationInput) -> Findings:
    """What ``stage`` finds (``face`` finds nothing: it is the pipeline itself)."""
    found: Findings = {}
    if stage == "ocr":
        for part in (inp.id_front, inp.id_back):
            if part is not None:
                found["doc:" + _digest(part)] = _attempt(engines.read_document, part)
    elif stage == "liveness":
        if inp.liveness_session_id is not None:
            if engines.take_active is not None:
                found["active:" + inp.liveness_session_id] = _attempt(engines.take_active, inp.liveness_session_id)
        elif inp.selfie is not None:
            try:
                image = decode_image(inp.selfie)
            except KycError:
                return found  # the face stage meets the same error and reports it
            found[_array_key(image)] = _attempt(engines.check_passive, image)
    return found


def replay_engines(engines: Engines, found: Findings) -> Engines:
    """``engines`` whose document, passive and active calls answer from ``found``
    (falling back to the engine itself for anything not found earlier)."""

    def answer(key: str, fallback, *args):
        if key not in found:
            return fallback(*args)
        kind, value = found[key]
        if kind == "error":
            code, message, detail = value
            raise error(code, message, **detail)
        return value

    def take_active(session_id: str):
        return answer("active:" + session_id, engines.take_active or (lambda _s: (_ for _ in ()).throw(error("liveness_session_not_found"))), session_id)

    return dataclasses.replace(
        engines,
        read_document=lambda data: answer("doc:" + _digest(data), engines.read_document, data),
        check_passive=lambda image: answer(_array_key(image), engines.check_passive, image),
        take_active=take_active,
    )


def _aad(job_id: str) -> bytes:
    return b"kyc/job-findings/v1|" + job_id.encode()


def seal_findings(key: bytes, job_id: str, found: Findings) -> bytes:
    return seal(key, pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL), _aad(job_id))


def open_findings(key: bytes, job_id: str, blob: bytes) -> Findings:
    return pickle.loads(open_sealed(key, blob, _aad(job_id)))  # noqa: S301 - authenticated, see the module docstring
