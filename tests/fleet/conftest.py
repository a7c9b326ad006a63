"""Fixtures for the fleet tests: shared state over process memory and over the real Redis
(127.0.0.1:6379, database 13 unless KYC_TEST_REDIS_URL says otherwise; each test gets its
own key prefix and its keys are deleted after it). Redis tests skip with a reason when
no Redis answers."""

from __future__ import annotations

import os
import uuid

import pytest

REDIS_URL = os.environ.get("KYC_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def redis_reason() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        return f"no Redis answers at {REDIS_URL} ({type(exc).__name__})"


@pytest.fixture
def redis_prefix():
    """A fresh key prefix in the test Redis; every key under it is deleted afterwards."""
    reason = redis_reason()
    if reason:
        pytest.skip(reason)
    import redis

    prefix = f"kyctest:{uuid.uuid4().hex[:10]}:"
    yield prefix
    r = redis.Redis.from_url(REDIS_URL)
    keys = list(r.scan_iter(prefix + "*"))
    if keys:
        r.delete(*keys)
    r.close()


@pytest.fixture(params=["memory", "redis"])
def state(request):
    from kyc.fleet.state import MemoryState, RedisState

    if request.param == "memory":
        yield MemoryState()
        return
    prefix = request.getfixturevalue("redis_prefix")
    s = RedisState(REDIS_URL, prefix)
    yield s
    s.close()
