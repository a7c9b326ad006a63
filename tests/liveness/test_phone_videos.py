"""Real phone video (../shared/data/liveness/phone_videos): an honest capture that used to
read as edited (`frames_cut`) passes; the replay of such a capture off a phone screen
fails whatever two-action challenge it is given."""

from __future__ import annotations

import pytest

from kyc.liveness import decode_video
from kyc.liveness._active import evaluate_challenges
from kyc.liveness._video import MAX_FRAMES

CHALLENGES = [[a, b] for a in ("turn_left", "turn_right", "nod") for b in ("turn_left", "turn_right", "nod") if a != b]


@pytest.fixture(scope="module")
def videos(shared_data):
    root = shared_data / "liveness" / "phone_videos"
    if not (root / "live_b.mov").is_file():
        pytest.skip(f"phone videos missing under {root}")
    return root


@pytest.mark.slow
@pytest.mark.models
def test_a_real_phone_video_is_not_taken_for_an_edit(videos):
    frames = decode_video((videos / "live_b.mov").read_bytes())
    (result,) = evaluate_challenges([["turn_left", "turn_right"]], frames)
    assert "frames_cut" not in result.reasons and result.live, result.reasons


@pytest.mark.slow
@pytest.mark.models
def test_the_replay_fails_every_challenge(videos):
    frames = decode_video((videos / "replay_c.mov").read_bytes(), max_frames=4 * MAX_FRAMES)[:MAX_FRAMES]
    results = evaluate_challenges(CHALLENGES, frames)
    assert not any(r.live for r in results), [(c, r.reasons) for c, r in zip(CHALLENGES, results)]
