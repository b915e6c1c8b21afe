"""Checklist events (each run's history) and a claim on checklist items.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the checklist events table and add the items' claim column."""
    op.create_table(
        "checklist_events",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("run_id", row_id, sa.ForeignKey("checklist_runs.id"), nullable=False),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer()),
        sa.Column("state", sa.String(16)),
        sa.Column("field", sa.String(24)),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_checklist_events_run", "checklist_events", ["run_id", "id"])
    op.add_column("checklist_items", sa.Column("claimed_until", timestamp))


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    # A batch, because older SQLite cannot drop a column in place.
    with op.batch_alter_table("checklist_items") as batch:
        batch.drop_column("claimed_until")
    op.drop_index("ix_checklist_events_run", table_name="checklist_events")
    op.drop_table("checklist_events")
