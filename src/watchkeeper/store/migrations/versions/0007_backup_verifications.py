"""Backup verifications: each restore test of a catalogued backup and its outcome.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the table of backup verifications."""
    op.create_table(
        "backup_verifications",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("catalogue_id", row_id, sa.ForeignKey("backup_catalogue.id"), nullable=False),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("restore_seconds", sa.Float()),
        sa.Column("detail", sa.Text()),
    )
    op.create_index(
        "ix_backup_verifications_catalogue", "backup_verifications", ["catalogue_id", "at"]
    )


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    op.drop_index("ix_backup_verifications_catalogue", table_name="backup_verifications")
    op.drop_table("backup_verifications")
