"""What the capture page is told about a liveness attempt: retake, or go on to the result.

Quality reasons (the face left the picture, two faces, a capture whose timing cannot
be trusted) are the person's to fix, so the page offers a new challenge while the
session has attempts left. Every other outcome, passed or failed, goes on to the
verification, which stores the evidence and decides: the page never learns a score,
and a failed challenge is not retried until it passes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LIVENESS_RETAKE_REASONS", "LivenessOutcome", "liveness_outcome"]

LIVENESS_RETAKE_REASONS = ("face_lost", "multiple_faces", "timestamps_implausible")


@dataclass(frozen=True)
class LivenessOutcome:
    retake: bool
    reason: str | None  # the first retake reason, for the message


def liveness_outcome(reasons: list[str], attempts_left: int) -> LivenessOutcome:
    retakes = [r for r in reasons if r in LIVENESS_RETAKE_REASONS]
    if retakes and attempts_left > 0:
        return LivenessOutcome(True, retakes[0])
    return LivenessOutcome(False, None)
