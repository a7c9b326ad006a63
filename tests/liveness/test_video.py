"""Decoding captures: rotation metadata, timestamps, bad input (no model files)."""

import io

import av
import numpy as np
import pytest

from kyc.errors import KycError
from kyc.liveness import decode_frames, decode_video, parse_timestamps


def marked_video(rotation: int | None, n: int = 12) -> bytes:
    """64x48 frames with a white block in the top-left corner."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        st = out.add_stream("libx264", rate=15)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        if rotation is not None:
            st.set_display_rotation(rotation)
        for _ in range(n):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:10, :20] = 255
            for p in st.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return buf.getvalue()


def block_centre(img):
    ys, xs = np.nonzero(img[:, :, 0] > 128)
    return ys.mean(), xs.mean()


@pytest.mark.parametrize(
    ("rotation", "shape", "corner"),
    [(None, (48, 64), "top-left"), (90, (64, 48), "bottom-left"), (-90, (64, 48), "top-right")],
)
def test_display_rotation_is_applied(rotation, shape, corner):
    frames = decode_video(marked_video(rotation), min_frames=1)
    img = frames[0].image
    assert img.shape[:2] == shape
    y, x = block_centre(img)
    h, w = shape
    assert (y < h / 2) == corner.startswith("top") and (x < w / 2) == corner.endswith("left")


def test_timestamps_start_at_zero_and_follow_the_rate():
    frames = decode_video(marked_video(None, n=15))
    assert len(frames) == 15 and frames[0].t == 0.0
    assert np.allclose(np.diff([f.t for f in frames]), 1 / 15, atol=2e-3)


def test_bad_input():
    for data, code in [(b"", "video_unreadable"), (b"\x00" * 1000, "video_unreadable")]:
        with pytest.raises(KycError) as exc:
            decode_video(data)
        assert exc.value.code == code
    with pytest.raises(KycError) as exc:
        decode_video(marked_video(None, n=4))
    assert exc.value.code == "frames_too_few"
    with pytest.raises(KycError) as exc:
        decode_video(marked_video(None, n=12), max_frames=5)
    assert exc.value.code == "video_too_long"
    with pytest.raises(KycError) as exc:
        decode_frames([b"x"] * 12, [0.0] * 11)
    assert exc.value.code == "validation_failed"


def test_parse_timestamps():
    assert parse_timestamps("0, 0.067,0.133") == [0.0, 0.067, 0.133]
    for bad in ("0,a", "0,nan", "inf"):
        with pytest.raises(KycError):
            parse_timestamps(bad)
