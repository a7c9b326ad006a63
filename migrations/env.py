"""Alembic environment: uses the connection handed over by kyc.storage.migrate, or the settings' URL."""

from __future__ import annotations

from alembic import context

from kyc.storage.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from kyc.config import get_settings
    from kyc.storage.db import make_engine

    engine = make_engine(get_settings().resolved_database_url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
