"""Deletion notices (issue 15): webhook deliveries about a subject, not only a verification.

``webhook_deliveries.verification_id`` becomes nullable (a ``subject.deleted`` notice
outlives the verifications it names), ``subject_id`` says which subject a notice is
about (no foreign key: the subject is gone when its notice is sent), and
``cross_border_consent`` whether its consents allowed sending it abroad.

Revision ID: issue15_deletion_notices
Revises: 0002_admin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "issue15_deletion_notices"
down_revision = "0002_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column("verification_id", existing_type=sa.String(length=32), nullable=True)
        batch.add_column(sa.Column("subject_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("cross_border_consent", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("cross_border_consent")
        batch.drop_column("subject_id")
        batch.alter_column("verification_id", existing_type=sa.String(length=32), nullable=False)
