"""Alerting: alert state per check, alerts, notifications, the outbox and its attempts, silences.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the alerting tables and mark results taken in a maintenance window."""
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("maintenance", sa.Boolean(), nullable=False, server_default="0"))
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "alert_states",
        sa.Column("check_name", sa.String(), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", timestamp, nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("dedup_key", sa.String(), nullable=False, unique=True),
        sa.Column("check_name", sa.String(), nullable=False),
        sa.Column("service", sa.String()),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", timestamp, nullable=False),
        sa.Column("fired_at", timestamp, nullable=False),
        sa.Column("resolved_at", timestamp),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("measurements", sa.JSON(), nullable=False),
        sa.Column("caused_by", sa.String()),
        sa.Column("flapping", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("last_notified_at", timestamp),
    )
    op.create_index("ix_alerts_state", "alerts", ["state", "fired_at"])
    op.create_index("ix_alerts_check", "alerts", ["check_name", "fired_at"])
    op.create_table(
        "notifications",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("alert_id", row_id, sa.ForeignKey("alerts.id")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("check_name", sa.String(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("channel", sa.String()),
        sa.Column("group_key", sa.String(), nullable=False),
        sa.Column("due_at", timestamp, nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("dispatched_at", timestamp),
        sa.Column("suppressed", sa.String(16)),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_notifications_due", "notifications", ["dispatched_at", "due_at"])
    op.create_table(
        "outbox",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("notify_type", sa.String(16), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("next_attempt_at", timestamp, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.Column("delivered_at", timestamp),
        sa.Column("failed_at", timestamp),
    )
    op.create_index("ix_outbox_due", "outbox", ["delivered_at", "failed_at", "next_attempt_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("outbox_id", row_id, sa.ForeignKey("outbox.id"), nullable=False),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("duration_ms", sa.Float(), nullable=False),
    )
    op.create_index("ix_delivery_attempts_outbox", "delivery_attempts", ["outbox_id"])
    op.create_table(
        "silences",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", timestamp, nullable=False),
        sa.Column("ends_at", timestamp, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("removed_at", timestamp),
    )


def downgrade() -> None:
    """Drop the alerting tables."""
    for table in ("silences", "delivery_attempts", "outbox", "notifications", "alerts"):
        op.drop_table(table)
    op.drop_table("alert_states")
    op.drop_table("cursors")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("maintenance")
