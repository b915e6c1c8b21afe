"""The config of ``postgres`` checks."""

from __future__ import annotations

from pydantic import Field, field_validator

from watchkeeper.config.specs.base import Spec


class PostgresSpec(Spec):
    """A PostgreSQL database's health → ``connections``, ``cache_hit_ratio``, ``slow_queries``,
    ``unused_indexes``, ``dead_tuples``, ``last_autovacuum_age``, ``database_size`` …"""

    url: str = Field(description="a PostgreSQL URL naming the database to look into")
    slow_query_ms: float = Field(
        default=500.0, ge=0, description="a statement slower than this on average is slow"
    )

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, v: str) -> str:
        if not v.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("url must be a PostgreSQL URL (postgresql://…)")
        return v
