"""Asynchronous verifications in the default (in-process) mode: ``Prefer: respond-async``
answers 202 at once, GET shows ``processing`` until done, and the client's backend gets a
signed ``verification.completed`` webhook. Synchronous stays the default.
(FAKE engines, tests/service/fakes.py: this checks the service, not the models.)"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from kyc.admin.webhooks import SIGNATURE_HEADER, verify_signature
from tests.service.conftest import db_url, make_api, svc_settings  # noqa: F401 - fixtures
from tests.service.fakes import png

ALICE = (200, 150, 120)
BOB = (40, 90, 200)
ASYNC = {"Prefer": "respond-async"}


def _poll(api, vid, until=lambda b: b["status"] != "processing", timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        r = api.http.get(f"/v1/verifications/{vid}", headers=api.headers)
        assert r.status_code == 200, r.text
        if until(r.json()):
            return r.json()
        time.sleep(0.05)
    raise AssertionError("still processing")


def _verify_async(api, cid, front, selfie, idem=None):
    files = {"id_front": ("f.png", front, "image/png"), "selfie": ("s.png", selfie, "image/png")}
    headers = {**api.headers, **ASYNC, **({"Idempotency-Key": idem} if idem else {})}
    return api.http.post("/v1/verifications", data={"consent_id": cid}, files=files, headers=headers)


@pytest.fixture
def receiver():
    got: list[tuple[dict, bytes]] = []

    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 18132), H)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:18132/hook", got
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_respond_async_then_processing_then_result_and_signed_webhook(make_api, receiver):
    from kyc.admin.webhooks import set_webhook
    from kyc.storage import ApiClient

    url, got = receiver
    api = make_api(webhook_poll_s=0.2)
    services = api.services
    with services.db.session() as s:
        client_id = s.query(ApiClient).filter_by(name="app-one").one().id
    secret = set_webhook(services.db, services.vault, api.app.state.settings, client_id, url, actor="test")
    cid = api.consent("alice")
    api.fake.delay_s = 0.6
    r = _verify_async(api, cid, api.fake.id_card(ALICE), png(ALICE))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "processing" and r.headers["Location"] == f"/v1/verifications/{body['id']}"
    assert r.headers["Preference-Applied"] == "respond-async"
    first = api.http.get(f"/v1/verifications/{body['id']}", headers=api.headers).json()
    assert first["status"] == "processing"
    other = api.http.get(f"/v1/verifications/{body['id']}", headers={"X-API-Key": api.other_key})
    assert other.status_code == 404  # another client learns nothing, not even "processing"
    done = _poll(api, body["id"])
    assert done["status"] == "approved" and done["document"]["fields"]["name"] == "张*明"
    end = time.time() + 10
    while not got and time.time() < end:
        time.sleep(0.05)
    assert got, "no webhook arrived"
    headers, raw = got[0]
    assert headers["X-KYC-Event"] == "verification.completed"
    assert verify_signature(secret, raw, headers[SIGNATURE_HEADER])
    payload = json.loads(raw)
    assert payload["event"] == "verification.completed" and payload["verification"]["id"] == body["id"]
    assert payload["verification"]["status"] == "approved"
    assert "张" not in raw.decode() and "183X" not in raw.decode()  # the webhook carries no ID fields


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_async_failure_is_shown_and_counted(make_api):
    api = make_api()
    cid = api.consent("bob")
    r = _verify_async(api, cid, png((9, 9, 9)), png(BOB))  # no card in the photo
    assert r.status_code == 202
    failed = _poll(api, r.json()["id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "document_not_found"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_async_idempotency_returns_the_same_job(make_api):
    api = make_api()
    cid = api.consent("alice")
    front = api.fake.id_card(ALICE)
    api.fake.delay_s = 0.5
    a = _verify_async(api, cid, front, png(ALICE), idem="k1")
    b = _verify_async(api, cid, front, png(ALICE), idem="k1")
    assert a.status_code == b.status_code == 202 and a.json()["id"] == b.json()["id"]
    assert b.headers["Idempotent-Replayed"] == "true"
    c = _verify_async(api, cid, front, png(BOB), idem="k1")
    assert c.status_code == 409 and c.json()["error"]["code"] == "idempotency_conflict"
    _poll(api, a.json()["id"])
    d = api.verify(cid, front, png(ALICE), idem="k1")  # after it is stored: the normal replay
    assert d.status_code == 200 and d.json()["id"] == a.json()["id"] and api.fake.calls == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sync_stays_the_default(make_api):
    api = make_api()
    r = api.verify(api.consent("alice"), api.fake.id_card(ALICE), png(ALICE))
    assert r.status_code == 201 and r.json()["status"] == "approved"
