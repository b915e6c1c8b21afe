"""Error events posted by apps (``POST /api/errors``), read by ``errors`` checks.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

timestamp = sa.DateTime(timezone=True)
row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the table of error events."""
    op.create_table(
        "error_events",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("series", sa.String(), nullable=False),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("received_at", timestamp, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("stack", sa.Text()),
        sa.Column("tags", sa.JSON()),
    )
    op.create_index("ix_error_events_series", "error_events", ["series", "at"])
    op.create_index("ix_error_events_at", "error_events", ["at"])


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    op.drop_index("ix_error_events_at", table_name="error_events")
    op.drop_index("ix_error_events_series", table_name="error_events")
    op.drop_table("error_events")
