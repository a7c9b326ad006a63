"""Fixtures for the review console: the real service app (no engines are needed to review
stored verifications) on a temporary SQLite database (or PostgreSQL where asked), staff
accounts of each role, and a seeder writing verifications through the service's library."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kyc.config import Settings
from tests.admin.seed import Seeder

PASSWORD = "correct horse battery staple"
PG = "host=127.0.0.1 port=5432 dbname=test user=postgres"
ROLES = ("reviewer", "admin", "auditor")


def pg_reason() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL at 127.0.0.1:5432 not reachable ({type(exc).__name__})"


@pytest.fixture
def pg_url():
    reason = pg_reason()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = "kyc_admin_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def console_settings(tmp_path: Path, **overrides) -> Settings:
    base = dict(
        environment="test",
        data_dir=tmp_path / "data",
        purge_interval_s=3600,
        admin_lockout_threshold=3,
        admin_lockout_minutes=10,
        admin_page_size=5,
        webhook_backoff_s=0.05,
        webhook_poll_s=0.2,
        webhook_timeout_s=2,
        webhook_max_attempts=4,
        residency_allowed_hosts=["*.example", "hooks.example"],  # the tests' webhook hosts count as inside (issue 15)
    )
    base.update(overrides)
    return Settings(**base)


@dataclass
class Console:
    """The running app (TestClient over https://testserver), its services and helpers."""

    http: object
    app: object
    seed: Seeder
    staff: dict = field(default_factory=dict)  # role -> (username, session token)

    @property
    def services(self):
        return self.app.state.services

    @property
    def db(self):
        return self.services.db

    @property
    def console(self):
        return self.app.state.admin_console

    def user(self, role: str, username: str | None = None) -> str:
        from kyc.admin import create_user

        username = username or f"{role}1"
        create_user(self.db, username, PASSWORD, role, actor="test")
        return username

    def session_for(self, role: str) -> str:
        """A signed-in session of a user with ``role`` (made directly; sign-in is tested on its own)."""
        from kyc.admin.accounts import find_user
        from kyc.admin.sessions import open_session

        if role not in self.staff:
            username = self.user(role)
            token, staff = open_session(self.db, self.console.settings, find_user(self.db, username).id)
            self.staff[role] = (username, token, staff.csrf_token)
        return self.staff[role][1]

    def act_as(self, role: str | None) -> str | None:
        """Put ``role``'s session cookie in the client (None: signed out); returns its CSRF token."""
        self.http.cookies.clear()
        if role is None:
            return None
        token = self.session_for(role)
        self.http.cookies.set(self.console.session_cookie, token, domain="testserver.local", path="/")
        return self.staff[role][2]

    def sign_in(self, username: str, password: str = PASSWORD, next: str = ""):
        """Through the sign-in form, as a browser would."""
        self.http.cookies.clear()
        page = self.http.get("/admin/login")
        token = page.cookies.get(self.console.login_cookie) or self.http.cookies.get(self.console.login_cookie)
        return self.http.post(
            "/admin/login",
            data={"username": username, "password": password, "login_token": token, "next": next},
            follow_redirects=False,
        )


def start_console(settings: Settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    app = create_app(settings)
    app.state.engines = object()  # nothing in the console runs the pipeline
    http = TestClient(app, base_url="https://testserver")
    http.__enter__()
    return http, app


@pytest.fixture
def make_console(tmp_path):
    opened = []

    def start(**overrides) -> Console:
        http, app = start_console(console_settings(tmp_path, **overrides))
        opened.append(http)
        return Console(http, app, Seeder.create(app.state.services))

    yield start
    for http in opened:
        http.__exit__(None, None, None)


@pytest.fixture
def con(make_console) -> Console:
    return make_console()


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Console:
    """One app for a whole module, with a signed-in session for each role."""
    http, app = start_console(console_settings(tmp_path_factory.mktemp("console")))
    c = Console(http, app, Seeder.create(app.state.services))
    for role in ROLES:
        c.session_for(role)
    yield c
    http.__exit__(None, None, None)
