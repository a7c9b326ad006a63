"""The admin console's tables, on the service's ``Base`` (migration ``0002_admin_console``).

Staff accounts and their server-side sessions, the webhook signing secret of each
client application (encrypted under a service key), and the webhook outbox: a decision
and its delivery row commit together, and a background dispatcher sends it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyc.storage.models import Base, UTCDateTime, new_id, utcnow

__all__ = ["StaffUser", "StaffSession", "WebhookSecret", "WebhookDelivery", "ROLES"]

ROLES = ("reviewer", "admin", "auditor")


class StaffUser(Base):
    """A console account. ``password_hash`` is argon2id (PHC string); ``role`` is one of ROLES."""

    __tablename__ = "staff_users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)  # in a row, reset on success
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffSession(Base):
    """A signed-in browser. ``id`` is the SHA-256 of the cookie's token (the token is never stored)."""

    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # absolute limit


class WebhookSecret(Base):
    """A client application's webhook signing secret, AES-256-GCM under the ``webhook`` service key."""

    __tablename__ = "webhook_secrets"
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True)
    secret_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one client's webhook; ``body`` is the exact JSON that is signed and sent.

    ``status``: pending (waiting for ``next_attempt_at``), delivered, failed (gave up),
    withheld (a host abroad without the subject's consent to cross-border transfer).
    Bodies carry ids, statuses and reason codes only, never personal data.
    """

    __tablename__ = "webhook_deliveries"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), index=True)
    verification_id: Mapped[str | None] = mapped_column(ForeignKey("verifications.id", ondelete="CASCADE"), index=True, nullable=True)
    # Deletion notices (issue 15) are about a subject whose rows are gone: no foreign key.
    subject_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Residency: may this notice go to a host abroad (the subject consented to cross_border_transfer)?
    cross_border_consent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    event: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
