"""Incidents, procedure checklists and runbook runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables of incidents, checklists and runbooks."""
    op.create_table(
        "incidents",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("source_key", sa.String()),
        sa.Column("opened_at", timestamp, nullable=False),
        sa.Column("opened_by", sa.String(), nullable=False),
        sa.Column("acknowledged_at", timestamp),
        sa.Column("acknowledged_by", sa.String()),
        sa.Column("mitigated_at", timestamp),
        sa.Column("mitigated_by", sa.String()),
        sa.Column("resolved_at", timestamp),
        sa.Column("resolved_by", sa.String()),
        sa.Column("closed_at", timestamp),
        sa.Column("closed_by", sa.String()),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("respond_by", timestamp, nullable=False),
        sa.Column("response_breached_at", timestamp),
        sa.Column("status_update_breached_at", timestamp),
        sa.Column("postmortem_path", sa.String()),
    )
    op.create_table(
        "incident_alerts",
        sa.Column("alert_id", row_id, sa.ForeignKey("alerts.id"), primary_key=True),
        sa.Column("incident_id", row_id, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("attached_at", timestamp, nullable=False),
    )
    op.create_table(
        "incident_events",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("incident_id", row_id, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("actor", sa.String()),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("data", sa.JSON()),
    )
    op.create_table(
        "procedure_schedule",
        sa.Column("procedure", sa.String(), primary_key=True),
        sa.Column("next_at", timestamp, nullable=False),
    )
    op.create_table(
        "checklist_runs",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("procedure", sa.String()),
        sa.Column("incident_id", row_id, sa.ForeignKey("incidents.id")),
        sa.Column("phase", sa.String()),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("scheduled_for", timestamp, nullable=False),
        sa.Column("due_at", timestamp),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("completed_at", timestamp),
        sa.Column("completed_by", sa.String()),
        sa.Column("overdue_at", timestamp),
        sa.Column("escalated_at", timestamp),
        sa.Column("issues_found", sa.Text(), nullable=False, server_default=""),
        sa.Column("actions_taken", sa.Text(), nullable=False, server_default=""),
        sa.Column("escalations_made", sa.Text(), nullable=False, server_default=""),
    )
    op.create_table(
        "checklist_items",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("run_id", row_id, sa.ForeignKey("checklist_runs.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("check_name", sa.String()),
        sa.Column("argv", sa.JSON()),
        sa.Column("timeout", sa.Float()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String()),
        sa.Column("decided_at", timestamp),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("output", sa.Text()),
        sa.Column("exit_code", sa.Integer()),
    )
    op.create_table(
        "runbook_runs",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("runbook", sa.String(), nullable=False),
        sa.Column("started_at", timestamp, nullable=False),
        sa.Column("started_by", sa.String(), nullable=False),
        sa.Column("finished_at", timestamp),
        sa.Column("outcome", sa.String(16)),
    )
    op.create_table(
        "runbook_steps",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("run_id", row_id, sa.ForeignKey("runbook_runs.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("argv", sa.JSON()),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("exit_code", sa.Integer()),
        sa.Column("output", sa.Text()),
        sa.Column("started_at", timestamp, nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
    )
    op.create_index("ix_incidents_state", "incidents", ["state", "opened_at"])
    op.create_index("ix_incidents_opened", "incidents", ["opened_at"])
    op.create_index("ix_incident_alerts_incident", "incident_alerts", ["incident_id"])
    op.create_index("ix_incident_events_incident", "incident_events", ["incident_id", "id"])
    op.create_index(
        "ux_checklist_runs_occurrence",
        "checklist_runs",
        ["procedure", "scheduled_for"],
        unique=True,
    )
    op.create_index("ix_checklist_runs_incident", "checklist_runs", ["incident_id"])
    op.create_index("ix_checklist_runs_open", "checklist_runs", ["state", "due_at"])
    op.create_index(
        "ux_checklist_items_position", "checklist_items", ["run_id", "position"], unique=True
    )
    op.create_index("ix_runbook_runs_runbook", "runbook_runs", ["runbook", "started_at"])
    op.create_index("ix_runbook_steps_run", "runbook_steps", ["run_id", "position"])


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    for table in (
        "runbook_steps",
        "runbook_runs",
        "checklist_items",
        "checklist_runs",
        "procedure_schedule",
        "incident_events",
        "incident_alerts",
        "incidents",
    ):
        op.drop_table(table)
