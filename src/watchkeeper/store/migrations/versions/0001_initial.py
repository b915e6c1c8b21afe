"""Initial schema: raw results, the latest state per check, rollups and their watermarks.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The types as they were at this revision, so later changes to tables.py cannot alter it.
row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables and the indexes the hot queries use."""
    op.create_table(
        "results",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("check_name", sa.String(), nullable=False),
        sa.Column("started_at", timestamp, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("measurements", sa.JSON(), nullable=False),
    )
    op.create_index("ix_results_check_started", "results", ["check_name", "started_at"])
    op.create_index("ix_results_started", "results", ["started_at"])
    op.create_table(
        "check_state",
        sa.Column("check_name", sa.String(), primary_key=True),
        sa.Column("started_at", timestamp, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("measurements", sa.JSON(), nullable=False),
    )
    op.create_table(
        "rollups",
        sa.Column("check_name", sa.String(), primary_key=True),
        sa.Column("resolution", sa.String(8), primary_key=True),
        sa.Column("bucket_start", timestamp, primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("min_ms", sa.Float(), nullable=False),
        sa.Column("avg_ms", sa.Float(), nullable=False),
        sa.Column("max_ms", sa.Float(), nullable=False),
        sa.Column("p95_ms", sa.Float(), nullable=False),
    )
    op.create_table(
        "rollup_watermarks",
        sa.Column("resolution", sa.String(8), primary_key=True),
        sa.Column("rolled_up_to", timestamp, nullable=False),
    )


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    op.drop_table("rollup_watermarks")
    op.drop_table("rollups")
    op.drop_table("check_state")
    op.drop_index("ix_results_started", table_name="results")
    op.drop_index("ix_results_check_started", table_name="results")
    op.drop_table("results")
