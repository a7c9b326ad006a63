"""The capture flow's tables (migration ``0003_issue14_capture``).

A capture session is a client's invitation to one person to go through the hosted
page. Its token is never stored: ``token_sha256`` is its SHA-256 (the token is 256-bit
random, so a fast hash is enough, as for API keys). ``capture_clients`` holds each
client's settings for the page: the origins allowed to frame it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyc.storage.models import Base, UTCDateTime, new_id, utcnow

__all__ = ["CaptureSession", "CaptureClient"]


class CaptureSession(Base):
    """One hosted-page flow: created -> consented -> completed (or expired).

    ``subject_ref`` is the client's own opaque user id, as in ``subjects.ref``;
    ``policy_text`` is the policy as the page shows it (its SHA-256 is the policy's).
    """

    __tablename__ = "capture_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), index=True)
    subject_ref: Mapped[str] = mapped_column(String(200))
    purposes: Mapped[list] = mapped_column(JSON)
    policy_version: Mapped[str] = mapped_column(ForeignKey("policies.version"))
    policy_text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="created")
    consent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    liveness_session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    liveness_attempts: Mapped[int] = mapped_column(Integer, default=0)
    verification_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CaptureClient(Base):
    """A client's hosted-page settings: the origins that may frame the page (CSP frame-ancestors)."""

    __tablename__ = "capture_clients"
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True)
    frame_origins: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
