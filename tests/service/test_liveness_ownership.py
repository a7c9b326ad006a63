"""Liveness sessions belong to the client that created them, with a per-client quota
(api/liveness_owners.py). Real service; verifications use FAKE engines (fakes.py)."""

from __future__ import annotations

ALICE = (200, 150, 120)  # a "person" of the fake engines (a colour)


def _session(api, key):
    r = api.http.post("/v1/liveness/sessions", headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_another_clients_session_does_not_exist(api):
    sid = _session(api, api.key)
    video = {"video": ("c.mp4", b"not a video", "video/mp4")}
    theirs = api.http.post(f"/v1/liveness/sessions/{sid}/frames", files=video, headers={"X-API-Key": api.other_key})
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "liveness_session_not_found"
    mine = api.http.post(f"/v1/liveness/sessions/{sid}/frames", files=video, headers=api.headers)
    assert mine.status_code == 422 and mine.json()["error"]["code"] == "video_unreadable"  # reached the decoder
    cid = api.consent("bob", key=api.other_key)
    r = api.verify(cid, api.fake.id_card(ALICE), None, key=api.other_key, liveness_session_id=sid)
    assert r.status_code == 404 and r.json()["error"]["code"] == "liveness_session_not_found"


def test_per_client_quota_leaves_room_for_others(make_api):
    api = make_api(liveness_sessions_per_client=3)
    for _ in range(3):
        _session(api, api.key)
    r = api.http.post("/v1/liveness/sessions", headers=api.headers)
    assert r.status_code == 429 and r.json()["error"]["code"] == "liveness_quota_exceeded"
    assert "Retry-After" in r.headers
    _session(api, api.other_key)  # the other client is not affected


def test_quota_frees_up_after_the_session_lifetime():
    from api.liveness_owners import SessionOwners
    from kyc.errors import KycError

    now = [0.0]
    owners = SessionOwners(2, ttl_s=120, clock=lambda: now[0])
    for sid in ("a", "b"):
        owners.admit("c1")
        owners.record("c1", sid)
    try:
        owners.admit("c1")
        raise AssertionError("quota not enforced")
    except KycError as exc:
        assert exc.code == "liveness_quota_exceeded"
    now[0] = 121.0
    owners.admit("c1")
    owners.check("c1", "a")  # ownership outlives the quota window (results wait for the verification)
