"""The store's tables as SQLAlchemy Core objects; the migrations create the same schema."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back as an aware UTC datetime.

    SQLite keeps no time zone, so values are converted to UTC when written; naive ones count as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Given a datetime, return it in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Given a datetime read from the database, return it as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
RowId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

results = Table(
    "results",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("check_name", String(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("duration_ms", Float(), nullable=False),
    Column("message", Text(), nullable=False),
    Column("measurements", JSON(), nullable=False),
    Column("maintenance", Boolean(), nullable=False, server_default="0"),
    Index("ix_results_check_started", "check_name", "started_at"),
    Index("ix_results_started", "started_at"),
)

check_state = Table(
    "check_state",
    metadata,
    Column("check_name", String(), primary_key=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("duration_ms", Float(), nullable=False),
    Column("message", Text(), nullable=False),
    Column("measurements", JSON(), nullable=False),
)

# The primary key is the unique (check, resolution, bucket_start) index the charts query by.
rollups = Table(
    "rollups",
    metadata,
    Column("check_name", String(), primary_key=True),
    Column("resolution", String(8), primary_key=True),
    Column("bucket_start", UTCDateTime(), primary_key=True),
    Column("count", Integer(), nullable=False),
    Column("failures", Integer(), nullable=False),
    Column("min_ms", Float(), nullable=False),
    Column("avg_ms", Float(), nullable=False),
    Column("max_ms", Float(), nullable=False),
    Column("p95_ms", Float(), nullable=False),
    # The dashboard's uptime figures read one resolution over a time range for every check.
    Index(
        "ix_rollups_resolution_bucket",
        "resolution",
        "bucket_start",
        "check_name",
        "count",
        "failures",
        "avg_ms",
    ),
)

rollup_watermarks = Table(
    "rollup_watermarks",
    metadata,
    Column("resolution", String(8), primary_key=True),
    Column("rolled_up_to", UTCDateTime(), nullable=False),
)
"""Per resolution, the end of the last bucket rolled up: everything before it is done."""

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(), primary_key=True),
    Column("position", BigInteger(), nullable=False),
)
"""How far a consumer of a table has read, e.g. the alert engine through ``results``."""

alert_states = Table(
    "alert_states",
    metadata,
    Column("check_name", String(), primary_key=True),
    Column("data", JSON(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
"""Each check's alerting state machine (``alerting.model.CheckState`` as JSON)."""

alerts = Table(
    "alerts",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("dedup_key", String(), nullable=False, unique=True),
    Column("check_name", String(), nullable=False),
    Column("service", String()),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Column("fired_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime()),
    Column("message", Text(), nullable=False),
    Column("measurements", JSON(), nullable=False),
    Column("caused_by", String()),
    Column("flapping", Boolean(), nullable=False, server_default="0"),
    Column("last_notified_at", UTCDateTime()),
    Index("ix_alerts_state", "state", "fired_at"),
    Index("ix_alerts_check", "check_name", "fired_at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("alert_id", RowId, ForeignKey("alerts.id")),
    Column("kind", String(16), nullable=False),
    Column("check_name", String(), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("channel", String()),
    Column("group_key", String(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("dispatched_at", UTCDateTime()),
    Column("suppressed", String(16)),
    Column("payload", JSON(), nullable=False),
    Index("ix_notifications_due", "dispatched_at", "due_at"),
)
"""Alert events waiting to be grouped into messages (or recorded as suppressed, with the reason)."""

outbox = Table(
    "outbox",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("channel", String(), nullable=False),
    Column("title", Text(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("notify_type", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False, server_default="0"),
    Column("last_error", Text()),
    Column("delivered_at", UTCDateTime()),
    Column("failed_at", UTCDateTime()),
    Index("ix_outbox_due", "delivered_at", "failed_at", "next_attempt_at"),
)
"""Messages to send, written before they are sent; channel URLs are read from the config, never stored."""

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("outbox_id", RowId, ForeignKey("outbox.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("ok", Boolean(), nullable=False),
    Column("error", Text()),
    Column("duration_ms", Float(), nullable=False),
    Index("ix_delivery_attempts_outbox", "outbox_id"),
)

silences = Table(
    "silences",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("matchers", JSON(), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("created_by", String(), nullable=False),
    Column("comment", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("removed_at", UTCDateTime()),
)

users = Table(
    "users",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("name", String(), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
"""People who may sign in; passwords are stored as argon2 hashes only."""

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("name", String(), nullable=False),
    Column("user_id", RowId, ForeignKey("users.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)
"""API tokens: only a SHA-256 of each is kept; the token itself is shown once, when created."""

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", RowId, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
)
"""Signed-in browsers: the cookie holds a random id, the table its SHA-256."""

access_log = Table(
    "access_log",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String()),
    Column("via", String(16), nullable=False),
    Column("action", String(), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(), nullable=False),
    Column("status", Integer(), nullable=False),
    Column("client", String()),
    Index("ix_access_log_at", "at"),
)
"""Who did what through the API and the pages: sign-ins, refusals and every change."""

incidents = Table(
    "incidents",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("title", String(), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("summary", Text(), nullable=False, server_default=""),
    Column("source_key", String()),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("opened_by", String(), nullable=False),
    Column("acknowledged_at", UTCDateTime()),
    Column("acknowledged_by", String()),
    Column("mitigated_at", UTCDateTime()),
    Column("mitigated_by", String()),
    Column("resolved_at", UTCDateTime()),
    Column("resolved_by", String()),
    Column("closed_at", UTCDateTime()),
    Column("closed_by", String()),
    Column("policy", JSON(), nullable=False),
    Column("level", Integer(), nullable=False, server_default="0"),
    Column("respond_by", UTCDateTime(), nullable=False),
    Column("response_breached_at", UTCDateTime()),
    Column("status_update_breached_at", UTCDateTime()),
    Column("postmortem_path", String()),
    Index("ix_incidents_state", "state", "opened_at"),
    Index("ix_incidents_opened", "opened_at"),
)
"""Incidents; ``policy`` is the severity's SLA and escalation levels as they were when it opened."""

incident_alerts = Table(
    "incident_alerts",
    metadata,
    Column("alert_id", RowId, ForeignKey("alerts.id"), primary_key=True),
    Column("incident_id", RowId, ForeignKey("incidents.id"), nullable=False),
    Column("attached_at", UTCDateTime(), nullable=False),
    Index("ix_incident_alerts_incident", "incident_id"),
)
"""The alerts that caused or joined an incident (an alert belongs to one incident at most)."""

incident_events = Table(
    "incident_events",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("incident_id", RowId, ForeignKey("incidents.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("actor", String()),
    Column("text", Text(), nullable=False, server_default=""),
    Column("data", JSON()),
    Index("ix_incident_events_incident", "incident_id", "id"),
)
"""An incident's own timeline: state changes, notes, alerts, notifications, breaches, post-mortem.

Its phase checklists' ticks are in ``checklist_events``; the timeline merges them in when read.
"""

procedure_schedule = Table(
    "procedure_schedule",
    metadata,
    Column("procedure", String(), primary_key=True),
    Column("next_at", UTCDateTime(), nullable=False),
)
"""When each scheduled procedure next becomes a checklist run."""

checklist_runs = Table(
    "checklist_runs",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("procedure", String()),
    Column("incident_id", RowId, ForeignKey("incidents.id")),
    Column("phase", String()),
    Column("title", String(), nullable=False),
    Column("owner", String(), nullable=False, server_default=""),
    Column("state", String(16), nullable=False),
    Column("scheduled_for", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(), nullable=False),
    Column("completed_at", UTCDateTime()),
    Column("completed_by", String()),
    Column("overdue_at", UTCDateTime()),
    Column("escalated_at", UTCDateTime()),
    Column("issues_found", Text(), nullable=False, server_default=""),
    Column("actions_taken", Text(), nullable=False, server_default=""),
    Column("escalations_made", Text(), nullable=False, server_default=""),
    Index("ux_checklist_runs_occurrence", "procedure", "scheduled_for", unique=True),
    Index("ix_checklist_runs_incident", "incident_id"),
    Index("ix_checklist_runs_open", "state", "due_at"),
)
"""Checklists: one per procedure occurrence (unique, so two workers cannot both create it) or incident phase."""

checklist_items = Table(
    "checklist_items",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("run_id", RowId, ForeignKey("checklist_runs.id"), nullable=False),
    Column("position", Integer(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text(), nullable=False),
    Column("check_name", String()),
    Column("argv", JSON()),
    Column("timeout", Float()),
    Column("state", String(16), nullable=False),
    Column("decided_by", String()),
    Column("decided_at", UTCDateTime()),
    Column("note", Text(), nullable=False, server_default=""),
    Column("output", Text()),
    Column("exit_code", Integer()),
    Column("claimed_until", UTCDateTime()),
    Index("ux_checklist_items_position", "run_id", "position", unique=True),
)
"""The items of a checklist run, each decided by the machine (check, run) or a person (manual)."""

checklist_events = Table(
    "checklist_events",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("run_id", RowId, ForeignKey("checklist_runs.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("position", Integer()),
    Column("state", String(16)),
    Column("field", String(24)),
    Column("text", Text(), nullable=False, server_default=""),
    Index("ix_checklist_events_run", "run_id", "id"),
)
"""A run's history: every decision (corrections included), note line and completion, by whom."""

runbook_runs = Table(
    "runbook_runs",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("runbook", String(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("started_by", String(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("outcome", String(16)),
    Index("ix_runbook_runs_runbook", "runbook", "started_at"),
)
"""Each time a runbook was run, by whom, and how it ended."""

runbook_steps = Table(
    "runbook_steps",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("run_id", RowId, ForeignKey("runbook_runs.id"), nullable=False),
    Column("position", Integer(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text(), nullable=False),
    Column("argv", JSON()),
    Column("outcome", String(16), nullable=False),
    Column("exit_code", Integer()),
    Column("output", Text()),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("duration_ms", Float(), nullable=False),
    Index("ix_runbook_steps_run", "run_id", "position"),
)
"""Every step of a runbook run: its output (secrets redacted) and outcome."""

backup_catalogue = Table(
    "backup_catalogue",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("backup", String(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("path", String()),
    Column("size", BigInteger()),
    Column("sha256", String(64)),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("error", Text()),
    Column("pruned_at", UTCDateTime()),
    Index("ix_backup_catalogue_backup", "backup", "finished_at"),
    Index("ix_backup_catalogue_live", "backup", "state", "pruned_at", "finished_at"),
)
"""Every backup taken (its file, size and SHA-256) or attempted and failed (its redacted error)."""

backup_verifications = Table(
    "backup_verifications",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("catalogue_id", RowId, ForeignKey("backup_catalogue.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("restore_seconds", Float()),
    Column("detail", Text()),
    Index("ix_backup_verifications_catalogue", "catalogue_id", "at"),
)
"""Every restore test of a catalogued backup: passed or failed, how long the restore took, and
what failed (redacted)."""

backup_jobs = Table(
    "backup_jobs",
    metadata,
    Column("backup", String(), primary_key=True),
    Column("job", String(16), primary_key=True),
    Column("last_started", UTCDateTime()),
    Column("running_until", UTCDateTime()),
)
"""When each scheduled backup and restore test last started, and until when a worker holds it:
the lease that makes several workers on one PostgreSQL run each occurrence once."""

push_pings = Table(
    "push_pings",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("series", String(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("message", Text()),
    Index("ix_push_pings_series", "series", "at"),
)
"""Every ping (success, start or fail) with the redacted body a job sent, by series: a token's
SHA-256, never the token (``HeartbeatSpec.series``)."""

push_values = Table(
    "push_values",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("series", String(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("value", Float(), nullable=False),
    Index("ix_push_values_series", "series", "at"),
)
"""Every posted value, by series: its token's SHA-256 and its name (``MetricSpec.series``)."""

push_series = Table(
    "push_series",
    metadata,
    Column("series", String(), primary_key=True),
    Column("first_seen_at", UTCDateTime(), nullable=False),
)
"""When each series was first read by a check: one never pinged is late only from then on."""

reports = Table(
    "reports",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("name", String(), nullable=False),
    Column("period", String(16), nullable=False),
    Column("occurrence", UTCDateTime()),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("claimed_until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("generated_at", UTCDateTime()),
    Column("title", Text()),
    Column("summary", Text()),
    Column("markdown", Text()),
    Column("html", Text()),
    Column("error", Text()),
    UniqueConstraint("name", "occurrence", name="uq_reports_occurrence"),
)
"""Reports written on schedule: a row per occurrence (pending until written, then ready or
failed), so each is written once, by one worker, and one that failed is retried."""

report_schedule = Table(
    "report_schedule",
    metadata,
    Column("report", String(), primary_key=True),
    Column("next_at", UTCDateTime(), nullable=False),
)
"""When each scheduled report is next written."""

error_events = Table(
    "error_events",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("series", String(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("level", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("message", Text(), nullable=False),
    Column("stack", Text()),
    Column("tags", JSON()),
    Index("ix_error_events_series", "series", "at"),
    # Pruning, and the patterns of every app together, select by time alone.
    Index("ix_error_events_at", "at"),
)
"""Every error event an app posted (``POST /api/errors``), secrets masked, by series: its token's
SHA-256 (``ErrorsSpec.series``); ``stack`` holds its frames one a line."""
