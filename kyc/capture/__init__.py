"""The capture flow: sessions that let one person go through the hosted page with a
token alone, and the page's immediate checks of what the camera took.

``kyc.capture`` never imports ``api``; the page and its routes are in ``api/capture``.
"""

from kyc.capture.cards import RETAKE_REASONS, CardCheck, check_card, image_hints
from kyc.capture.liveness import LIVENESS_RETAKE_REASONS, liveness_outcome
from kyc.capture.sessions import (
    CHANNEL,
    CaptureView,
    NewCaptureSession,
    check_liveness_session,
    create_capture_session,
    finish_capture_session,
    frame_origins,
    open_capture_session,
    record_capture_consent,
    set_frame_origins,
    start_liveness,
)

__all__ = [
    "CHANNEL",
    "CaptureView",
    "CardCheck",
    "LIVENESS_RETAKE_REASONS",
    "NewCaptureSession",
    "RETAKE_REASONS",
    "check_card",
    "check_liveness_session",
    "create_capture_session",
    "finish_capture_session",
    "frame_origins",
    "image_hints",
    "liveness_outcome",
    "open_capture_session",
    "record_capture_consent",
    "set_frame_origins",
    "start_liveness",
]
