"""The one path from an uploaded capture to a stored session result.

Order matters: the session is checked (unknown, expired or used fail fast), the
frames were decoded by the caller (a bad upload does not burn the session), then the
session is claimed atomically (a concurrent second upload gets
``liveness_session_used``), evaluated, and its result kept for the verification
service to take once.
"""

from __future__ import annotations

import hmac

from kyc.config import Settings
from kyc.errors import error
from kyc.liveness._active import ActiveResult, evaluate_session
from kyc.liveness._session import SessionStore
from kyc.liveness._video import Frame

__all__ = ["submit_session", "parse_timestamps"]


def parse_timestamps(text: str) -> list[float]:
    """Comma-separated capture times in seconds (``"0,0.067,0.133"``)."""
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise error("validation_failed", "timestamps must be comma-separated seconds.") from None
    if any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise error("validation_failed", "timestamps must be finite numbers.")
    return values


def submit_session(
    store: SessionStore,
    session_id: str,
    frames: list[Frame],
    *,
    nonce: str | None = None,
    mirrored: bool = False,
    settings: Settings | None = None,
) -> ActiveResult:
    """Claim the session, decide it from ``frames`` and keep the result in ``store``."""
    session = store.get(session_id)
    if nonce is not None and not hmac.compare_digest(nonce.encode(), session.nonce.encode()):
        raise error("validation_failed", "The nonce does not belong to this session.")
    session = store.claim(session_id)
    result = evaluate_session(session, frames, mirrored=mirrored, settings=settings)
    store.finish(session_id, result)
    return result
