"""Storage: SQLAlchemy 2 models, Alembic migrations, one ``Database`` per process."""

from kyc.storage.db import Database, make_engine, migrate
from kyc.storage.models import (
    ApiClient,
    AuditEntry,
    AuditHead,
    Base,
    Consent,
    Policy,
    RetainedImage,
    Subject,
    VaultKey,
    Verification,
    new_id,
    utcnow,
)
from kyc.storage import admin_models  # noqa: F401,E402  (admin console tables, issue 6: on Base.metadata too)
from kyc.storage import capture_models  # noqa: F401,E402  (capture flow tables, issue 14)

__all__ = [
    "Database",
    "make_engine",
    "migrate",
    "Base",
    "ApiClient",
    "AuditEntry",
    "AuditHead",
    "Consent",
    "Policy",
    "RetainedImage",
    "Subject",
    "VaultKey",
    "Verification",
    "new_id",
    "utcnow",
]
