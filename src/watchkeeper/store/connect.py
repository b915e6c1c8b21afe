"""Turn a store URL into a ready SQLAlchemy engine: driver, SQLite pragmas, migrations.

Alembic is imported only when a database is behind the newest revision, so a process opening
an up-to-date store does not pay for it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.pool import StaticPool

from watchkeeper.config.secrets import Secrets

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT = 5.0
"""Seconds a SQLite write waits for a writer's lock; ``?timeout=`` in the URL overrides it."""
POSTGRES_CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL server; override with ``?connect_timeout=`` in the URL."""

# Any constant: it names the lock that keeps two workers from migrating one database at once.
_MIGRATION_LOCK = 0x5741544348


def normalise_url(raw: str) -> URL:
    """Given a store URL or a bare file path, return the SQLAlchemy URL to connect to."""
    if "://" not in raw:
        return URL.create("sqlite", database=str(Path(raw).expanduser().resolve()))
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def display(raw: str) -> str:
    """Given a URL that may not even parse, return it with any password replaced by ``***``."""
    try:
        return normalise_url(raw).render_as_string(hide_password=True)
    except Exception:
        return Secrets().redact(raw)


def create(url: URL) -> Engine:
    """Given a normalised URL, return an engine for it (SQLite in WAL mode with foreign keys on)."""
    options: dict[str, Any] = {"json_serializer": to_json}
    backend = url.get_backend_name()
    if backend == "sqlite":
        memory = url.database in (None, "", ":memory:")
        if memory:
            # One shared connection, or every thread would see its own empty database.
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
            if "timeout" not in url.query:
                # sqlite3's timeout is SQLite's busy_timeout.
                options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if "connect_timeout" not in url.query:
            options["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT}
        # Pre-ping replaces connections a server restart killed, so writes resume after an outage.
        return create_engine(url, pool_pre_ping=True, **options)
    raise ValueError(
        f"unsupported database {backend!r}: use sqlite:///path/to.db or postgresql://…"
    )


class MigrationError(ValueError):
    """The database's schema cannot be brought to the newest revision, e.g. it is newer."""


def migrate(engine: Engine) -> None:
    """Given an engine, bring its database's schema to the newest revision."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        if _revisions(connection) == [head_revision()]:
            return
        from alembic import command
        from alembic.config import Config
        from alembic.util import CommandError

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            raise MigrationError(str(exc)) from exc


def head_revision() -> str:
    """Return the newest revision id: each migration file is named after its zero-padded id."""
    newest = max(path.name for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
    return newest.split("_", 1)[0]


def _revisions(connection: Connection) -> list[str]:
    """Return the revisions Alembic recorded in the database (none in a new database)."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    return list(connection.scalars(text("SELECT version_num FROM alembic_version")))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode and much faster than FULL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def to_json(value: Any) -> str:
    """Given measurements, return them as JSON text: NaN and Infinity as null, odd types as text."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError):
        # PostgreSQL's json rejects NaN and Infinity, and one unwritable result must not stall a batch.
        return json.dumps(_finite(value), default=str, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
