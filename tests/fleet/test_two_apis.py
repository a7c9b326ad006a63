"""Two API processes sharing one database and one Redis behave as one service: the same
key is rate-limited once, an Idempotency-Key is honoured across them, a subject's failures
count on both, and a liveness session made on one is completed on the other.
(FAKE engines, tests/service/fakes.py: this checks the service, not the models.)"""

from __future__ import annotations

import threading

import pytest

from kyc.config import Settings
from tests.fleet.conftest import REDIS_URL
from tests.service.conftest import POLICY_TEXT_SHA, Api
from tests.service.fakes import FakeEngines, png

ALICE = (200, 150, 120)


@pytest.fixture
def two_apis(tmp_path, redis_prefix):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from kyc.access import create_client
    from kyc.consent import publish_policy

    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        verification_deadline_s=10,
        purge_interval_s=3600,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        rate_limit_per_minute=10,
        subject_failure_limit=3,
    )
    fake = FakeEngines()
    apis, clients = [], []
    for _ in range(2):
        app = create_app(settings)
        app.state.engines = fake.engines()
        http = TestClient(app)
        http.__enter__()
        clients.append(http)
        apis.append(app)
    db = apis[0].state.services.db
    _, key = create_client(db, "app-one")
    _, other = create_client(db, "app-two")
    publish_policy(db, "2026-01", POLICY_TEXT_SHA, False, actor="test")
    yield [Api(http, app, fake, key, "", other) for http, app in zip(clients, apis)]
    for http in clients:
        http.__exit__(None, None, None)


def test_rate_limit_is_shared(two_apis):
    a, b = two_apis
    codes = [(a if i % 2 else b).http.get("/v1/verifications/none", headers=a.headers).status_code for i in range(14)]
    assert codes.count(429) == 4 and codes[:10].count(429) == 0  # 10 a minute across both, not 10 each
    r = b.http.get("/v1/verifications/none", headers={"X-API-Key": a.other_key})
    assert r.status_code == 404  # another key has its own bucket


def test_idempotency_key_is_honoured_across_processes(two_apis):
    a, b = two_apis
    cid = a.consent("alice")
    front = a.fake.id_card(ALICE)
    a.fake.delay_s = 0.5
    results = {}

    def call(name, api):
        results[name] = api.verify(cid, front, png(ALICE), idem="same-key")

    threads = [threading.Thread(target=call, args=(n, x)) for n, x in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ra, rb = results["a"], results["b"]
    assert {ra.status_code, rb.status_code} == {200, 201}, (ra.text, rb.text)
    assert ra.json()["id"] == rb.json()["id"]
    assert a.fake.calls == 1  # one ran, the other waited on the shared lease and replayed


def test_subject_failures_count_across_processes(two_apis):
    a, b = two_apis
    cid = a.consent("mallory")
    for i in range(3):
        r = (a, b)[i % 2].verify(cid, png((9, 9, 9), marker=i), png(ALICE))  # no card: a failure
        assert r.status_code == 422 and r.json()["error"]["code"] == "document_not_found"
    r = a.verify(cid, a.fake.id_card(ALICE), png(ALICE))
    assert r.status_code == 429 and r.json()["error"]["detail"]["scope"] == "subject"


def test_liveness_session_made_on_one_is_completed_on_the_other(two_apis):
    from tests.fleet.test_sessions import _result

    a, b = two_apis
    r = a.http.post("/v1/liveness/sessions", headers=a.headers)
    assert r.status_code == 201
    sid = r.json()["id"]
    from kyc.access import authenticate
    from kyc.errors import KycError

    owner = authenticate(a.services.db, a.key).client_id
    other = authenticate(a.services.db, a.other_key).client_id
    b.app.state.liveness_owners.check(owner, sid)  # the owner is known on the other process
    with pytest.raises(KycError):
        b.app.state.liveness_owners.check(other, sid)
    store_b = b.app.state.liveness_sessions
    assert store_b.get(sid).nonce == r.json()["nonce"]
    store_b.claim(sid)
    store_b.finish(sid, _result())
    assert a.app.state.liveness_sessions.take_result(sid).live
