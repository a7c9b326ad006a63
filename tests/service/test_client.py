"""The Python client: against the service (FAKE engines), and its retries on a mock transport."""

from __future__ import annotations

import httpx
import pytest

from kyc.client import KycApiError, KycClient
from tests.service.fakes import png

ALICE = (200, 150, 120)


def test_client_round_trip(api):
    kyc = KycClient(api_key=api.key, http=api.http)
    consent = kyc.create_consent("alice", policy_version="2026-01", consent_text="I agree")
    v = kyc.verify(consent["id"], id_front=api.fake.id_card(ALICE), selfie=png(ALICE), idempotency_key="k1")
    assert v["status"] == "approved"
    assert kyc.verify(consent["id"], id_front=api.fake.id_card(ALICE), selfie=png(ALICE), idempotency_key="k1")["id"] == v["id"]
    assert kyc.get_verification(v["id"])["id"] == v["id"]
    assert kyc.export_subject("alice")["verifications"][0]["fields"]["name"] == "张三明"
    assert kyc.delete_subject("alice")["deleted"]
    with pytest.raises(KycApiError) as exc:
        kyc.get_verification(v["id"])
    assert exc.value.code == "verification_not_found" and exc.value.status == 404


def test_retries_reuse_the_idempotency_key():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        if len(seen) == 1:
            return httpx.Response(503, json={"error": {"code": "service_busy", "message": "busy"}})
        if len(seen) == 2:
            raise httpx.ConnectError("reset")
        return httpx.Response(201, json={"id": "v1", "status": "approved"})

    http = httpx.Client(base_url="http://kyc", transport=httpx.MockTransport(handler))
    kyc = KycClient(api_key="kyc_x_y", http=http, backoff_s=0.001)
    assert kyc.verify("c1", id_front=b"front", selfie=b"selfie")["id"] == "v1"
    assert len(seen) == 3 and len(set(seen)) == 1 and seen[0]


def test_client_errors_are_not_retried():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(403, json={"error": {"code": "consent_required", "message": "no"}})

    kyc = KycClient(api_key="k", http=httpx.Client(base_url="http://kyc", transport=httpx.MockTransport(handler)))
    with pytest.raises(KycApiError) as exc:
        kyc.verify("c1", id_front=b"f", selfie=b"s")
    assert exc.value.code == "consent_required" and len(calls) == 1
