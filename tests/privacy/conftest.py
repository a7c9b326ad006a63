"""Privacy mechanisms (issue 15): the service's fixtures (SQLite and PostgreSQL, the app
with FAKE engines from tests/service/fakes.py standing in for the models)."""

from tests.service.conftest import api, db, db_url, make_api, svc_settings  # noqa: F401
