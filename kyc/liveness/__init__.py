"""Liveness: is the selfie a live person rather than a photo, a screen or a replay?

Two defences:

* active (primary): a single-use :class:`LivenessSession` asks for a random sequence of
  actions; :func:`evaluate_session` checks from the uploaded frames that they happened
  in order, by one face, in continuous footage recorded after the challenge, with a
  head that moves in 3-D, and that the passive models find the best frame live;
* passive (any selfie): :func:`check_passive`, a framing gate (``retake`` with a reason)
  then a calibrated fusion of a colour-texture classifier and two MiniFASNet CNNs, with
  the outcomes ``live``, ``weak`` and ``spoof``.

Faces, landmarks and descriptors come from :mod:`kyc.biometrics` (the one face layer).

Nothing is loaded at import time; models load, verified, on first use.
"""

from kyc.liveness._actions import ActionEvidence
from kyc.liveness._active import ActiveResult, evaluate_session
from kyc.liveness._passive import PassiveResult, check_passive
from kyc.liveness._session import ACTIONS, InMemorySessionStore, LivenessSession, SessionStore
from kyc.liveness._submission import parse_timestamps, submit_session
from kyc.liveness._video import Frame, decode_frames, decode_video

__all__ = [
    "ACTIONS",
    "ActionEvidence",
    "ActiveResult",
    "Frame",
    "InMemorySessionStore",
    "LivenessSession",
    "PassiveResult",
    "SessionStore",
    "check_passive",
    "decode_frames",
    "decode_video",
    "evaluate_session",
    "parse_timestamps",
    "submit_session",
]
