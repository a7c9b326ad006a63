"""The session endpoints, with real uploads (needs the dlib models)."""

import io
import time

import av
import cv2
import numpy as np
import pytest

from kyc.liveness import InMemorySessionStore, decode_video
from tests.liveness.synth import sweep, tilted_photo_frames

pytestmark = pytest.mark.models


def encode_video(frames: list[np.ndarray], fps: int = 15, fmt: str = "mp4", codec: str = "libx264") -> bytes:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="module")
def tilted(face_photos):
    yaws = sweep([0, 0, -60, 0, 60, 0, 0], 7) + [0.0] * 2
    return tilted_photo_frames(face_photos["img10.jpg"], [(y, 0.0) for y in yaws])


def new_session(client):
    r = client.post("/v1/liveness/sessions")
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "nonce", "actions", "created_at", "expires_at"}
    return body


def test_video_roundtrip_and_single_use(client, tilted):
    s = new_session(client)
    video = encode_video(tilted)
    r = client.post(f"/v1/liveness/sessions/{s['id']}/frames", files={"video": ("capture.mp4", video, "video/mp4")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["live"] is False and body["score"] < body["threshold"]
    assert [a["action"] for a in body["actions"]] == s["actions"]
    assert isinstance(body["best_frame_index"], int)
    again = client.post(f"/v1/liveness/sessions/{s['id']}/frames", files={"video": ("capture.mp4", video, "video/mp4")})
    assert again.status_code == 409 and again.json()["error"]["code"] == "liveness_session_used"
    # the verification service can take the result once, from the app's store
    store = client.app.state.liveness_sessions
    assert store.take_result(s["id"]).live is False


def test_webm_decodes_with_timestamps(tilted):
    frames = decode_video(encode_video(tilted[:20], fmt="webm", codec="libvpx"))
    assert len(frames) == 20
    assert frames[0].t == 0.0 and abs(frames[-1].t - 19 / 15) < 0.02


def test_jpeg_frames_with_timestamps(client, tilted):
    s = new_session(client)
    files = [("frames", (f"{i}.jpg", cv2.imencode(".jpg", f)[1].tobytes(), "image/jpeg")) for i, f in enumerate(tilted)]
    times = ",".join(f"{i / 15:.4f}" for i in range(len(tilted)))
    r = client.post(f"/v1/liveness/sessions/{s['id']}/frames", files=files, data={"timestamps": times, "nonce": s["nonce"]})
    assert r.status_code == 200, r.text
    assert r.json()["live"] is False


def test_bad_uploads_do_not_burn_the_session(client, tilted):
    s = new_session(client)
    url = f"/v1/liveness/sessions/{s['id']}/frames"
    assert client.post(url).json()["error"]["code"] == "upload_missing"
    r = client.post(url, files={"video": ("x.mp4", b"not a video at all", "video/mp4")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "video_unreadable"
    few = [("frames", (f"{i}.jpg", cv2.imencode(".jpg", f)[1].tobytes(), "image/jpeg")) for i, f in enumerate(tilted[:3])]
    r = client.post(url, files=few, data={"timestamps": "0,0.07,0.13"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "frames_too_few"
    r = client.post(url, files=few, data={"timestamps": "0,zero,1"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    r = client.post(url, files=few, data={"timestamps": "0,0.07"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    r = client.post(url, files={"video": ("c.mp4", encode_video(tilted), "video/mp4")}, data={"nonce": "wrong"})
    assert r.status_code == 422
    # still usable after all that
    r = client.post(url, files={"video": ("c.mp4", encode_video(tilted), "video/mp4")})
    assert r.status_code == 200


def test_unknown_and_expired_sessions(client, tilted):
    r = client.post("/v1/liveness/sessions/unknown/frames", files={"video": ("c.mp4", b"x", "video/mp4")})
    assert r.status_code == 404 and r.json()["error"]["code"] == "liveness_session_not_found"
    client.app.state.liveness_sessions = InMemorySessionStore(ttl_s=0.05)
    s = new_session(client)
    time.sleep(0.1)
    r = client.post(f"/v1/liveness/sessions/{s['id']}/frames", files={"video": ("c.mp4", b"x", "video/mp4")})
    assert r.status_code == 410 and r.json()["error"]["code"] == "liveness_session_expired"


def test_openapi_documents_the_codes(client):
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/v1/liveness/sessions/{session_id}/frames"]["post"]
    assert {"404", "409", "410", "422"} <= set(op["responses"])
