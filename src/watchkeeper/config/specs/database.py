"""The config of ``database`` checks."""

from __future__ import annotations

from pydantic import Field

from watchkeeper.config.specs.base import Spec


class DatabaseSpec(Spec):
    """A database round trip → ``connect_time``, ``query_time``, ``value``, ``connections`` …"""

    url: str = Field(description="a PostgreSQL URL, or sqlite:///path, or a path to a SQLite file")
    query: str | None = None

    @property
    def is_postgres(self) -> bool:
        """Return True when the URL names a PostgreSQL server."""
        return self.url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://"))

    @property
    def sqlite_path(self) -> str:
        """Return the file path of a SQLite URL or bare path."""
        return (
            self.url.removeprefix("sqlite:///") if self.url.startswith("sqlite:///") else self.url
        )
