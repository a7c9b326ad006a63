"""Residency: the service refuses to start with a database, broker or webhook outside the
declared jurisdiction, saying why; a delivery abroad needs the cross_border_transfer
purpose. FAKE engines (tests/service/fakes.py) make the verification results."""

from __future__ import annotations

import json
import socket
import time

import pytest
from sqlalchemy import select

from kyc.admin.webhooks import set_webhook
from kyc.config import Settings
from kyc.errors import KycError
from kyc.privacy.residency import ResidencyViolation, host_inside, startup_violations
from kyc.storage import ApiClient, AuditEntry
from kyc.storage.admin_models import WebhookDelivery
from tests.admin.test_webhooks import receiver_factory  # noqa: F401  (fixture)
from tests.service.fakes import png

ALICE = (200, 150, 120)


@pytest.mark.parametrize(
    "host,allowed,inside",
    [
        ("127.0.0.1", [], True),
        ("::1", [], True),
        ("localhost", [], True),
        (None, [], True),  # SQLite file
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("11.1.2.3", ["10.0.0.0/8"], False),
        ("db.internal.example.cn", ["*.example.cn"], True),
        ("db.example.com", ["*.example.cn"], False),
        ("db.example.com", ["db.example.com"], True),
        ("fd00::5", ["fc00::/7"], True),
        ("2001:db8::1", ["fc00::/7"], False),
        ("8.8.8.8", ["8.8.8.8"], True),
    ],
)
def test_host_inside(host, allowed, inside):
    assert host_inside(host, allowed) is inside


def test_startup_checks_database_and_every_broker_url():
    class WithBroker(Settings):  # a broker setting such as the task queue's
        redis_url: str | None = None

    s = WithBroker(environment="test", database_url="postgresql+psycopg://u:pw@db.example.com/kyc", redis_url="redis://cache.example.com:6379/0")
    problems = startup_violations(s)
    assert len(problems) == 2
    assert "KYC_DATABASE_URL points to db.example.com" in problems[0] and "jurisdiction CN" in problems[0]
    assert "KYC_REDIS_URL points to cache.example.com" in problems[1]
    assert "pw" not in " ".join(problems)
    ok = WithBroker(
        environment="test",
        database_url="postgresql+psycopg://u@db.example.com/kyc",
        redis_url="redis://10.0.0.5:6379/0",
        residency_allowed_hosts="db.example.com,10.0.0.0/8",
    )
    assert startup_violations(ok) == []
    assert startup_violations(Settings(environment="test", privacy_policy_url="https://example.com/policy")) == []


def test_service_refuses_to_start_with_a_database_abroad(svc_settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    app = create_app(svc_settings.model_copy(update={"database_url": "postgresql+psycopg://kyc@db.example.com:5432/kyc", "jurisdiction": "CN"}))
    with pytest.raises(ResidencyViolation, match="refusing to start: KYC_DATABASE_URL points to db.example.com"):
        with TestClient(app):
            pass


def _client_id(api, name="app-one"):
    with api.services.db.session() as s:
        return s.scalar(select(ApiClient.id).where(ApiClient.name == name))


def test_webhook_outside_is_refused_unless_declared_abroad_and_checked_at_start(make_api, svc_settings):
    api = make_api(residency_allowed_hosts=[])
    settings = api.app.state.settings
    with pytest.raises(KycError) as exc:
        set_webhook(api.services.db, api.services.vault, settings, _client_id(api), "https://hooks.example.com/kyc", actor="test")
    assert exc.value.code == "residency_violation" and "hooks.example.com" in str(exc.value.message)
    abroad = settings.model_copy(update={"residency_cross_border_hosts": ["hooks.example.com"]})
    assert set_webhook(api.services.db, api.services.vault, abroad, _client_id(api), "https://hooks.example.com/kyc", actor="test")
    # a later start without that declaration refuses, naming the client
    from fastapi.testclient import TestClient

    from api.main import create_app

    with pytest.raises(ResidencyViolation, match=f"webhook of client {_client_id(api)} points to hooks.example.com"):
        with TestClient(create_app(settings)):
            pass


def _local_ip() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent; picks the outgoing interface
            ip = s.getsockname()[0]
        return None if ip.startswith("127.") else ip
    except OSError:
        return None


def _wait(api, pred, timeout_s=10.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_delivery_abroad_needs_the_cross_border_purpose(make_api, receiver_factory):
    ip = _local_ip()
    if ip is None:
        pytest.skip("no non-loopback IPv4 address on this machine to stand for a host abroad")
    rx = receiver_factory([200], host=ip)
    api = make_api(residency_allowed_hosts=[], residency_cross_border_hosts=[ip], webhook_poll_s=0.05, webhook_backoff_s=0.05)
    set_webhook(api.services.db, api.services.vault, api.app.state.settings, _client_id(api), rx.url, actor="test")
    plain = api.consent("no-abroad")
    api.verify(plain, api.fake.id_card(ALICE), png(ALICE))
    abroad = api.consent("ok-abroad", purposes=("real_name_verification", "biometric_processing", "cross_border_transfer"))
    api.verify(abroad, api.fake.id_card(ALICE, marker=1), png(ALICE))
    assert api.http.delete("/v1/subjects/no-abroad", headers=api.headers).status_code == 200
    assert api.http.delete("/v1/subjects/ok-abroad", headers=api.headers).status_code == 200
    assert _wait(api, lambda: len(rx.requests) >= 1)
    db = api.services.db

    def withheld() -> bool:
        with db.session() as s:
            return s.scalar(select(WebhookDelivery.id).where(WebhookDelivery.status == "withheld")) is not None

    assert _wait(api, withheld)
    time.sleep(0.3)
    assert [json.loads(b)["subject_ref"] for _, _, b in rx.requests] == ["ok-abroad"]
    with db.session() as s:
        e = s.scalars(select(AuditEntry).where(AuditEntry.action == "webhook.withheld")).one()
    assert e.detail["reason"] == "cross_border_without_consent" and e.detail["event"] == "subject.deleted"


def test_review_webhook_abroad_needs_the_purpose_too(make_api, receiver_factory):
    from kyc.admin.review import record_decision

    ip = _local_ip()
    if ip is None:
        pytest.skip("no non-loopback IPv4 address on this machine to stand for a host abroad")
    rx = receiver_factory([200], host=ip)
    api = make_api(residency_allowed_hosts=[], residency_cross_border_hosts=[ip], webhook_poll_s=0.05, webhook_backoff_s=0.05)
    set_webhook(api.services.db, api.services.vault, api.app.state.settings, _client_id(api), rx.url, actor="test")
    review = {"region_code": (False, "id_region_unknown")}
    vids = {}
    for ref, extra in (("plain", ()), ("abroad", ("cross_border_transfer",))):
        cid = api.consent(ref, purposes=("real_name_verification", "biometric_processing", *extra))
        vids[ref] = api.verify(cid, api.fake.id_card(ALICE, checks=review, marker=len(vids)), png(ALICE)).json()["id"]
        record_decision(api.services.db, vids[ref], "approve", "checked", reviewer="alice", actor="staff:alice")
    api.app.state.admin_console.dispatcher.wake()
    assert _wait(api, lambda: len(rx.requests) >= 1)
    time.sleep(0.5)
    assert [json.loads(b)["verification_id"] for _, _, b in rx.requests] == [vids["abroad"]]
    with api.services.db.session() as s:
        status = s.scalar(select(WebhookDelivery.status).where(WebhookDelivery.verification_id == vids["plain"]))
    assert status == "withheld"


def test_kyc_serve_says_why_it_refuses(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from kyc.cli import app
    from kyc.config import get_settings

    monkeypatch.setenv("KYC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KYC_DATABASE_URL", "postgresql+psycopg://kyc@db.example.com/kyc")
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(app, ["serve"])
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 2
    assert "refusing to start: KYC_DATABASE_URL points to db.example.com" in res.output and "KYC_RESIDENCY_ALLOWED_HOSTS" in res.output
