"""Reports written on schedule, and when each is next due.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

timestamp = sa.DateTime(timezone=True)
row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the tables of reports and their schedule."""
    op.create_table(
        "reports",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("occurrence", timestamp),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", timestamp),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("generated_at", timestamp),
        sa.Column("title", sa.Text()),
        sa.Column("summary", sa.Text()),
        sa.Column("markdown", sa.Text()),
        sa.Column("html", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.UniqueConstraint("name", "occurrence", name="uq_reports_occurrence"),
    )
    op.create_table(
        "report_schedule",
        sa.Column("report", sa.String(), primary_key=True),
        sa.Column("next_at", timestamp, nullable=False),
    )


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    op.drop_table("report_schedule")
    op.drop_table("reports")
