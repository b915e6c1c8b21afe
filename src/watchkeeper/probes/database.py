"""The database probe: connect to PostgreSQL or open a SQLite file, run one query, time both.

Checks only read: SQLite files are opened read-only and PostgreSQL sessions are read-only,
so a mistyped check can neither create a database nor change one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import sqlite3
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from watchkeeper.config.secrets import REDACTED, Secrets
from watchkeeper.config.specs import DatabaseSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements

_DEFAULT_QUERY = "SELECT 1"

_STATS_QUERY = (
    "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
    " current_setting('max_connections')::int"
)


async def probe_database(spec: DatabaseSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a database spec, return ``connect_time``, ``query_time``, ``value`` and ``rows``.

    PostgreSQL adds ``connections``, ``max_connections``, ``connections_used_percent`` and
    ``server_version``.
    """
    query = spec.query or _DEFAULT_QUERY
    if spec.is_postgres:
        return await _probe_postgres(spec.url, query, timeout)
    return await _probe_sqlite(spec.sqlite_path, query, timeout)


def _json_value(value: Any) -> Any:
    """Given a value from a database driver, return it as a JSON-friendly Python value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return str(value)


async def _probe_postgres(url: str, query: str, timeout: float) -> Measurements:
    import psycopg  # ~10 MB: only processes that check PostgreSQL pay for it

    # libpq does not know SQLAlchemy's driver suffix.
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        async with asyncio.timeout(timeout):
            started = time.perf_counter()
            conn = await psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, connect_timeout=max(1, math.ceil(timeout))
            )
            async with conn:
                connect_time = time.perf_counter() - started
                # The server stops the query itself even if this client vanishes mid-query.
                await conn.execute(
                    "SELECT set_config('statement_timeout', %s, false),"
                    " set_config('default_transaction_read_only', 'on', false)",
                    [str(math.ceil(timeout * 1000))],
                )
                started = time.perf_counter()
                cursor = await conn.execute(query)
                first = await cursor.fetchone() if cursor.description else None
                rows = cursor.rowcount if cursor.description else 0
                query_time = time.perf_counter() - started
                stats = await (await conn.execute(_STATS_QUERY)).fetchone()
                server_version = conn.info.parameter_status("server_version")
    except TimeoutError:
        raise ProbeError(f"timed out after {format_duration(timeout)}") from None
    except psycopg.Error as exc:
        raise ProbeError(without_password(error_line(exc), url)) from None
    connections, max_connections = stats if stats else (0, 0)
    return {
        "connect_time": connect_time,
        "query_time": query_time,
        "value": _json_value(first[0]) if first else None,
        "rows": rows,
        "connections": connections,
        "max_connections": max_connections,
        "connections_used_percent": 100.0 * connections / max_connections
        if max_connections
        else 0.0,
        "server_version": server_version,
    }


async def _probe_sqlite(path: str, query: str, timeout: float) -> Measurements:
    # A thread cannot be cancelled, so the query checks this flag (and its deadline) as it runs.
    stop = threading.Event()
    try:
        return await asyncio.to_thread(_query_sqlite, path, query, timeout, stop)
    except asyncio.CancelledError:
        stop.set()
        raise


def _query_sqlite(path: str, query: str, timeout: float, stop: threading.Event) -> Measurements:
    deadline = time.monotonic() + timeout
    started = time.perf_counter()
    conn = _open_sqlite(path, timeout)
    try:
        connect_time = time.perf_counter() - started
        conn.set_progress_handler(lambda: stop.is_set() or time.monotonic() > deadline, 1000)
        started = time.perf_counter()
        cursor = conn.execute(query)
        first = cursor.fetchone()
        rows = 0 if first is None else 1 + sum(1 for _ in cursor)
        query_time = time.perf_counter() - started
    except sqlite3.Error as exc:
        if time.monotonic() > deadline:
            raise ProbeError(f"timed out after {format_duration(timeout)}") from None
        raise ProbeError(f"query failed: {exc}") from None
    finally:
        conn.close()
    return {
        "connect_time": connect_time,
        "query_time": query_time,
        "value": _json_value(first[0]) if first else None,
        "rows": rows,
    }


def _open_sqlite(path: str, timeout: float) -> sqlite3.Connection:
    """Given a path, open it read-only; raise ProbeError if it is missing or not a database."""
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(
            f"file:{quote(path)}?mode=ro", uri=True, timeout=timeout, check_same_thread=False
        )
        # SQLite reads the file lazily; reading its header now tells a non-database apart.
        conn.execute("PRAGMA schema_version")
        return conn
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        if not Path(path).exists():
            raise ProbeError(f"SQLite database not found: {path}") from None
        raise ProbeError(f"cannot open SQLite database {path}: {exc}") from None


def error_line(exc: Exception) -> str:
    """Given a database driver's exception, return its first non-blank line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def without_password(message: str, url: str) -> str:
    """Given an error message about ``url``, return it with the URL's password masked."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    secrets: set[str] = set()
    with contextlib.suppress(psycopg.Error):
        secrets.add(str(conninfo_to_dict(url).get("password") or ""))
    with contextlib.suppress(ValueError):
        raw = urlsplit(url).password or ""
        secrets |= {raw, unquote(raw)}
    # Shorter values are masked too: a password here is known to be one, whatever its length.
    for secret in sorted(secrets - {""}, key=len, reverse=True):
        message = message.replace(secret, REDACTED)
    return Secrets().redact(message)
