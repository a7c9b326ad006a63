"""A bounded schemathesis run over the whole API (positive and negative cases), with a
key that may call every route: any 5xx, undocumented status, wrong content type or
response that does not match its schema fails the test. Real service, FAKE
verification engines (fakes.py); the engine routes' inputs are random bytes, refused
before any model runs.

The counts (cases, 5xx, schema violations) are written to the test's log and to
``$KYC_FUZZ_REPORT`` when set.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a test dependency (pip install -e .[test])")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}


@pytest.fixture
def db_url(tmp_path):
    """SQLite only: the schema, not the database, is under test (keeps the run short)."""
    return f"sqlite:///{tmp_path / 'data' / 'kyc.db'}"


def _failure_kind(exc: BaseException) -> list[str]:
    inner = getattr(exc, "exceptions", None) or [exc]
    return [type(e).__name__ + ": " + str(getattr(e, "title", "") or e).splitlines()[0][:160] for e in inner]


def test_fuzz_the_api(make_api):
    api = make_api(rate_limit_per_minute=1_000_000, anonymous_per_minute=1_000_000, subject_failure_limit=1_000_000)
    from kyc.access import SCOPES, create_client

    _, key = create_client(api.services.db, "fuzz", list(SCOPES), is_admin=True)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    counts: Counter[str] = Counter()
    failures: list[str] = []

    for result in schema.get_all_operations():
        op = result.ok()
        for mode, n in EXAMPLES.items():

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=n,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                response = case.call(headers={"X-API-Key": key})
                counts["cases"] += 1
                if response.status_code >= 500:
                    counts["5xx"] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers={"X-API-Key": key})
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - schemathesis raises Failure / FailureGroup
                    counts["violations"] += 1
                    for kind in _failure_kind(exc):
                        failures.append(f"{op.method.upper()} {op.path} [{mode.value}] {response.status_code}: {kind}")

            try:
                run()
            except Unsatisfiable:  # negative cases for an operation with no inputs (GET /v1/health)
                counts["no_negative_cases"] += 1
        counts["operations"] += 1

    summary = {**counts, "failures": sorted(set(failures))[:40]}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    if os.environ.get("KYC_FUZZ_REPORT"):
        with open(os.environ["KYC_FUZZ_REPORT"], "w") as fh:
            json.dump(summary, fh, indent=1)
    assert counts["operations"] >= 15 and counts["cases"] >= 200
    assert counts["5xx"] == 0, summary
    assert counts["violations"] == 0, summary
