"""Capture flow: capture sessions (hosted page tokens) and each client's page settings.

Revision ID: issue14_capture
Revises: issue15_deletion_notices
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "issue14_capture"
down_revision = "issue15_deletion_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "capture_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("subject_ref", sa.String(length=200), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("policy_text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("consent_id", sa.String(length=32), nullable=True),
        sa.Column("liveness_session_id", sa.String(length=64), nullable=True),
        sa.Column("liveness_attempts", sa.Integer(), nullable=False),
        sa.Column("verification_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["api_clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["policy_version"], ["policies.version"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("capture_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capture_sessions_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_capture_sessions_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "capture_clients",
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("frame_origins", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["api_clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id"),
    )


def downgrade() -> None:
    op.drop_table("capture_clients")
    with op.batch_alter_table("capture_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capture_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_capture_sessions_client_id"))
    op.drop_table("capture_sessions")
