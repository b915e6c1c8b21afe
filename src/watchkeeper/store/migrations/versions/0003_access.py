"""Access control and the dashboard: users, API tokens, sessions, the access log, a rollup index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the access-control tables and the index the dashboard's uptime figures read."""
    op.create_table(
        "users",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("user_id", row_id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("expires_at", timestamp),
        sa.Column("last_used_at", timestamp),
        sa.Column("revoked_at", timestamp),
    )
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", row_id, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("expires_at", timestamp, nullable=False),
        sa.Column("last_seen_at", timestamp, nullable=False),
    )
    op.create_table(
        "access_log",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("actor", sa.String()),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("client", sa.String()),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_index(
        "ix_rollups_resolution_bucket",
        "rollups",
        ["resolution", "bucket_start", "check_name", "count", "failures", "avg_ms"],
    )


def downgrade() -> None:
    """Drop what ``upgrade`` created."""
    op.drop_index("ix_rollups_resolution_bucket", table_name="rollups")
    op.drop_index("ix_access_log_at", table_name="access_log")
    for table in ("access_log", "sessions", "api_tokens", "users"):
        op.drop_table(table)
