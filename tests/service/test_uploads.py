"""The one upload path (api/uploads.py) and the engine pool (api/workpool.py).

Runs the real service; where the engines would need models, the function the route
calls is replaced by a FAKE that records where it ran (said in each test).
"""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from tests.service.fakes import png


def big_png(side: int) -> bytes:
    """A PNG with many pixels and few bytes (a decompression-bomb shape)."""
    buf = io.BytesIO()
    Image.new("L", (side, side), 0).save(buf, "PNG")
    return buf.getvalue()


def noisy_png(nbytes: int) -> bytes:
    """A PNG of at least ``nbytes`` bytes (noise does not compress)."""
    side = int((nbytes / 3) ** 0.5) + 8
    arr = np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG", compress_level=0)
    return buf.getvalue()


@pytest.fixture
def no_spool(monkeypatch):
    """Fails any use of starlette's SpooledTemporaryFile (the spill to /tmp)."""
    used: list[int] = []

    def spooled(*args, **kwargs):
        used.append(1)
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr("starlette.formparsers.SpooledTemporaryFile", spooled)
    return used


@pytest.fixture
def fake_compare(monkeypatch):
    """A FAKE face comparison recording the thread it ran on (the route's decoding is real)."""
    seen: dict[str, object] = {"threads": []}
    gate = threading.Event()
    gate.set()

    def compare(a, b, **_):
        seen["threads"].append(threading.current_thread().name)
        gate.wait(10)
        from tests.service.fakes import Comparison

        return type("R", (), {"to_dict": lambda self: Comparison(0.9, True, 0.5, "fake", "fmr_1e-3").__dict__})()

    monkeypatch.setattr("kyc.biometrics.pipeline.compare_images", compare)
    seen["gate"] = gate
    return seen


def faces(api, a: bytes, b: bytes, **kw):
    files = {"image_a": ("a.png", a, "image/png"), "image_b": ("b.png", b, "image/png")}
    return api.http.post("/v1/faces/compare", files=files, headers=api.headers, **kw)


def test_uploads_stay_in_memory_on_every_route(api, no_spool, fake_compare):
    img = noisy_png(1_800_000)  # over starlette's 1 MiB spool threshold
    assert len(img) > 1 << 20
    assert faces(api, img, img).status_code == 200
    session = api.http.post("/v1/liveness/sessions", headers=api.headers).json()["id"]
    r = api.http.post(
        f"/v1/liveness/sessions/{session}/frames",
        files=[("frames", ("f.png", img, "image/png"))] * 2,
        data={"timestamps": "0,0.1"},
        headers=api.headers,
    )
    assert r.status_code in (200, 413, 422) and no_spool == []
    cid = api.consent("alice")
    api.verify(cid, img, img)
    # the admin sign-in form: a multipart body with a large part never reaches a spool
    r = api.http.post("/admin/login", files={"username": ("u", img, "text/plain")}, data={"password": "x"})
    assert r.status_code == 413
    assert no_spool == []


def _asgi_post(app, path: str, headers: dict[str, str], chunks) -> tuple[int, int]:
    """POST ``chunks`` straight to the ASGI app (the TestClient reads a body whole before
    sending it); returns (status, chunks the app pulled)."""
    import asyncio

    pulled = 0
    status: list[int] = []
    it = iter(chunks)

    async def receive():
        nonlocal pulled
        chunk = next(it, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "state": {},
    }
    asyncio.run(app(scope, receive, send))
    return status[0], pulled


def test_too_large_part_is_refused_before_the_rest_is_read(make_api):
    api = make_api(max_upload_bytes=64 * 1024)
    boundary = "xyzzy"

    def body():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="image_a"; filename="a.png"\r\n\r\n'.encode()
        for _ in range(200):  # 200 x 16 KiB = 3.2 MiB, no Content-Length
            yield b"\x89PNG" + b"\0" * (16 * 1024 - 4)
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {**api.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, pulled = _asgi_post(api.app, "/v1/faces/compare", headers, body())
    assert status == 413
    assert pulled < 10  # stopped a chunk or two past the 64 KiB limit, not after 3.2 MiB


def test_declared_length_over_the_limit_is_refused_at_once(make_api):
    api = make_api(max_upload_bytes=64 * 1024)
    r = faces(api, noisy_png(300_000), png((1, 2, 3)))
    assert r.status_code == 413 and r.json()["error"]["code"] in ("request_too_large", "image_too_large")


def test_pixel_limit_is_checked_from_the_header_before_decoding(make_api, monkeypatch):
    api = make_api(max_image_pixels=1_000_000)
    decoded: list[int] = []
    monkeypatch.setattr("api.routes.faces.decode_image", lambda *a, **k: decoded.append(1))
    r = faces(api, big_png(3000), png((1, 2, 3)))
    assert r.status_code == 413 and r.json()["error"]["code"] == "image_too_many_pixels"
    assert decoded == []


def test_decoding_and_engines_run_in_the_pool(api, fake_compare):
    decoded_on: list[str] = []
    import api.routes.faces as faces_route

    real = faces_route.decode_image

    def spy(data, **kw):
        decoded_on.append(threading.current_thread().name)
        return real(data, **kw)

    faces_route.decode_image = spy
    try:
        assert faces(api, png((9, 9, 9), (200, 200)), png((9, 9, 9), (200, 200))).status_code == 200
    finally:
        faces_route.decode_image = real
    assert decoded_on and all(n.startswith("engine") for n in decoded_on)
    assert all(n.startswith("engine") for n in fake_compare["threads"])


def test_a_full_pool_answers_service_busy_at_once_and_health_stays_up(make_api, fake_compare):
    api = make_api(engine_workers=1, engine_queue=0)
    fake_compare["gate"].clear()
    img = png((9, 9, 9), (200, 200))
    first: dict[str, object] = {}
    t = threading.Thread(target=lambda: first.update(r=faces(api, img, img)))
    t.start()
    try:
        deadline = time.monotonic() + 10
        while api.services.engines.admitted == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        t0 = time.monotonic()
        health = api.http.get("/v1/health")
        busy = faces(api, img, img)
        elapsed = time.monotonic() - t0
    finally:
        fake_compare["gate"].set()
        t.join(20)
    assert health.status_code == 200
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "service_busy"
    assert elapsed < 5  # answered while the first call still held the only worker
    assert first["r"].status_code == 200


def test_liveness_frame_count_is_checked_as_frames_arrive(make_api, monkeypatch):
    api = make_api(liveness_max_frames=4)
    decoded: list[int] = []
    monkeypatch.setattr("api.routes.liveness.decode_frames", lambda *a, **k: decoded.append(1))
    session = api.http.post("/v1/liveness/sessions", headers=api.headers).json()["id"]
    frame = png((5, 5, 5), (100, 100))
    r = api.http.post(
        f"/v1/liveness/sessions/{session}/frames",
        files=[("frames", (f"{i}.png", frame, "image/png")) for i in range(6)],
        data={"timestamps": ",".join(str(i / 10) for i in range(6))},
        headers=api.headers,
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "video_too_long" and decoded == []


def test_liveness_frames_have_their_own_pixel_limit(make_api, monkeypatch):
    api = make_api(liveness_max_frame_pixels=1_000_000)
    decoded: list[int] = []
    monkeypatch.setattr("api.routes.liveness.decode_frames", lambda *a, **k: decoded.append(1))
    session = api.http.post("/v1/liveness/sessions", headers=api.headers).json()["id"]
    r = api.http.post(
        f"/v1/liveness/sessions/{session}/frames",
        files=[("frames", ("a.png", big_png(2000), "image/png"))],
        data={"timestamps": "0"},
        headers=api.headers,
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "image_too_many_pixels" and decoded == []


def test_every_broken_image_is_a_4xx_on_the_api(api, fake_compare):
    """The generated corpus (tests/images/corpus.py) through /v1/faces/compare: never a 500."""
    from tests.images.corpus import broken_corpus

    good = png((9, 9, 9), (200, 200))
    statuses = {}
    for name, data in broken_corpus():
        r = faces(api, data, good)
        statuses[name] = r.status_code
        assert r.status_code < 500, (name, r.text)
        if r.status_code >= 400:
            assert r.json()["error"]["code"].startswith(("image_", "face_")), (name, r.text)
    assert sum(1 for s in statuses.values() if s >= 400) > len(statuses) // 2
