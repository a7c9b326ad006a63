"""The tables. Personal data lives only in the ``*_ct`` columns, encrypted by the vault.

Plain columns hold what the service needs to route, count and audit without decrypting:
ids, statuses, reason codes, scores, masked fields, keyed blind indexes and times.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "ApiClient",
    "Policy",
    "Subject",
    "Consent",
    "Verification",
    "RetainedImage",
    "VaultKey",
    "AuditEntry",
    "AuditHead",
    "new_id",
    "utcnow",
]


def new_id() -> str:
    """A random 128-bit id as 32 hex characters (never derived from personal data)."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on the way in and out, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ApiClient(Base):
    """A client application. The key itself is never stored: ``key_hash`` is its SHA-256."""

    __tablename__ = "api_clients"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Policy(Base):
    """A privacy-policy version; a ``significant`` one needs fresh consent."""

    __tablename__ = "policies"
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    text_sha256: Mapped[str] = mapped_column(String(64))
    significant: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subject(Base):
    """A data subject as known to one client (``ref`` is the client's own user id).

    ``wrapped_key`` is the subject's data key wrapped by the key-encryption key ``kek_id``;
    deleting the row destroys the key (crypto-shredding).
    """

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("client_id", "ref", name="uq_subjects_client_ref"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"), index=True)
    ref: Mapped[str] = mapped_column(String(200))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consent(Base):
    __tablename__ = "consents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    purposes: Mapped[list] = mapped_column(JSON)
    policy_version: Mapped[str] = mapped_column(ForeignKey("policies.version"))
    locale: Mapped[str] = mapped_column(String(35))
    channel: Mapped[str] = mapped_column(String(50))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Verification(Base):
    """One finished verification, written in a single transaction (never half-written).

    ``fields_ct`` (all document fields, JSON) and ``template_ct`` (selfie template) are
    AES-256-GCM under the subject's data key, bound to this row's id and the field name.
    ``id_number_index`` is an HMAC of the normalised ID number (duplicate detection).
    """

    __tablename__ = "verifications"
    __table_args__ = (UniqueConstraint("client_id", "idempotency_key", name="uq_verifications_idempotency"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id"), index=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # approved | rejected | review
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    models: Mapped[dict] = mapped_column(JSON, default=dict)
    document_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    masked_fields: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    fields_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    template_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    id_number_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # A reviewer's decision (admin console): who, when, and the note.
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_note: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class RetainedImage(Base):
    """An upload kept for human review (consented), encrypted, removed at ``expires_at``."""

    __tablename__ = "retained_images"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    verification_id: Mapped[str] = mapped_column(ForeignKey("verifications.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # id_front | id_back | selfie
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class VaultKey(Base):
    """Service-wide keys wrapped by the key-encryption key (e.g. the blind-index key)."""

    __tablename__ = "vault_keys"
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One audit event; ``hash`` = SHA-256 over the previous hash and this entry's content."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """A single row holding the chain's head; updating it first serialises appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
