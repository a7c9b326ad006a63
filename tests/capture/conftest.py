"""Fixtures for the capture flow's API tests: the service with FAKE verification engines
(tests/service/fakes.py; the document read and liveness routes of the page use the real
engines and are driven in test_browser_flow.py) and a policy whose text the page shows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import pytest

from tests.service.conftest import Api, db_url, make_api, svc_settings  # noqa: F401  (fixtures)

POLICY_TEXT = "隐私政策 2026-02 / Privacy policy 2026-02: we read your ID card and compare your selfie with its photo."
POLICY_SHA = hashlib.sha256(POLICY_TEXT.encode()).hexdigest()
PURPOSES = ["real_name_verification", "biometric_processing", "retain_for_review"]


@dataclass
class FakeActive:
    """What a finished active-liveness session hands the verification (FAKE, for the service path)."""

    live: bool
    best_frame: np.ndarray
    score: float = 0.9
    threshold: float = 0.5
    reasons: tuple = ()
    model: str = "fake-active-1"


@pytest.fixture
def capture_api(make_api):  # noqa: F811
    from kyc.consent import publish_policy

    api: Api = make_api()
    publish_policy(api.services.db, "2026-02", POLICY_SHA, False, actor="test")
    api.active_results = {}  # liveness session id -> FakeActive
    engines = replace(api.services.verifications.engines, take_active=lambda sid: api.active_results.pop(sid))
    api.services.verifications.engines = engines
    return api
