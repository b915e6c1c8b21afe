"""Push checks: heartbeat pings, posted metric values, and when each series was first seen.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

timestamp = sa.DateTime(timezone=True)
row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the tables of pings, posted values and first sightings."""
    op.create_table(
        "push_pings",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("series", sa.String(), nullable=False),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("message", sa.Text()),
    )
    op.create_index("ix_push_pings_series", "push_pings", ["series", "at"])
    op.create_table(
        "push_values",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("series", sa.String(), nullable=False),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
    )
    op.create_index("ix_push_values_series", "push_values", ["series", "at"])
    op.create_table(
        "push_series",
        sa.Column("series", sa.String(), primary_key=True),
        sa.Column("first_seen_at", timestamp, nullable=False),
    )


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    op.drop_table("push_series")
    op.drop_index("ix_push_values_series", table_name="push_values")
    op.drop_table("push_values")
    op.drop_index("ix_push_pings_series", table_name="push_pings")
    op.drop_table("push_pings")
