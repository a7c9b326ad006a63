"""Shared fixtures: settings in a temporary data directory, the shared test data, an API client."""

from __future__ import annotations

from pathlib import Path

import pytest

from kyc.config import PROJECT_ROOT, Settings, get_settings

SHARED_DATA = (PROJECT_ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings in a fresh data directory that still use the fetched models."""
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        models_dir=get_settings().resolved_models_dir,
    )


@pytest.fixture
def client(settings: Settings):
    """A TestClient sending a key that holds every client scope (plain document fields too)."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from kyc.access import SCOPES, create_client

    with TestClient(create_app(settings)) as c:
        _, key = create_client(c.app.state.services.db, "tests", list(SCOPES))
        c.headers["X-API-Key"] = key
        yield c
