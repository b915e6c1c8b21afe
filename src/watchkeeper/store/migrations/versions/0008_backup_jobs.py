"""Backup jobs: when each backup and each restore test last started, and who holds it now.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the table of backup jobs."""
    op.create_table(
        "backup_jobs",
        sa.Column("backup", sa.String(), primary_key=True),
        sa.Column("job", sa.String(16), primary_key=True),
        sa.Column("last_started", timestamp),
        sa.Column("running_until", timestamp),
    )


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    op.drop_table("backup_jobs")
