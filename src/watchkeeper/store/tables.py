"""The store's tables as SQLAlchemy Core objects; the migrations create the same schema."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
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
)

rollup_watermarks = Table(
    "rollup_watermarks",
    metadata,
    Column("resolution", String(8), primary_key=True),
    Column("rolled_up_to", UTCDateTime(), nullable=False),
)
"""Per resolution, the end of the last bucket rolled up: everything before it is done."""
