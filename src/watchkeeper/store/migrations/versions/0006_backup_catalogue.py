"""The backup catalogue: every backup taken or attempted, its file, size and SHA-256.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the backup catalogue."""
    op.create_table(
        "backup_catalogue",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("backup", sa.String(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("path", sa.String()),
        sa.Column("size", sa.BigInteger()),
        sa.Column("sha256", sa.String(64)),
        sa.Column("started_at", timestamp, nullable=False),
        sa.Column("finished_at", timestamp, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("pruned_at", timestamp),
    )
    op.create_index("ix_backup_catalogue_backup", "backup_catalogue", ["backup", "finished_at"])


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    op.drop_index("ix_backup_catalogue_backup", table_name="backup_catalogue")
    op.drop_table("backup_catalogue")
