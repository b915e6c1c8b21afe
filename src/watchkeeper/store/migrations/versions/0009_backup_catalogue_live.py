"""An index on the catalogue's good, unpruned copies: the newest one and the count of each
backup's kept copies are read from it, not from every entry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index of live catalogue entries."""
    op.create_index(
        "ix_backup_catalogue_live",
        "backup_catalogue",
        ["backup", "state", "pruned_at", "finished_at"],
    )


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    op.drop_index("ix_backup_catalogue_live", table_name="backup_catalogue")
