"""The postgres probe: a database's internals from its statistics views — connections, cache hits,
slow statements (from pg_stat_statements when installed), unused indexes, dead tuples, vacuum,
size and the longest open transaction.

The session is read-only and every statement is bounded by the check's timeout on the server.
"""

from __future__ import annotations

import asyncio
import math
import re
from typing import TYPE_CHECKING, Any

from watchkeeper.analytics.fingerprints import redact_tokens
from watchkeeper.config.specs.postgres import PostgresSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.database import error_line, without_password
from watchkeeper.results import Measurements

if TYPE_CHECKING:
    from psycopg import AsyncConnection

_SLOWEST = 10
_MAX_LISTED = 50
_MAX_QUERY = 200

_OVERVIEW = """
SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
  current_setting('max_connections')::int,
  (SELECT blks_hit FROM pg_stat_database WHERE datname = current_database()),
  (SELECT blks_read FROM pg_stat_database WHERE datname = current_database()),
  pg_database_size(current_database()),
  (SELECT coalesce(extract(epoch FROM max(now() - xact_start)), 0)::float8
     FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend'
      AND xact_start IS NOT NULL AND pid <> pg_backend_pid())
"""

_TABLES = """
SELECT
  coalesce(sum(n_dead_tup), 0)::bigint,
  coalesce(max(n_dead_tup::float8 / nullif(n_live_tup + n_dead_tup, 0)), 0)::float8,
  extract(epoch FROM now() - min(last_autovacuum) FILTER (WHERE n_live_tup > 0))::float8
FROM pg_stat_user_tables
"""

# Indexes never scanned since the statistics were reset; those enforcing a constraint are needed.
_UNUSED_INDEXES = """
SELECT s.schemaname || '.' || s.indexrelname
  FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
 WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
 ORDER BY pg_relation_size(s.indexrelid) DESC, 1
"""

_STATEMENTS_SCHEMA = """
SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_stat_statements'
"""

_QUOTED = re.compile(r"'(?:[^']|'')*'")


async def probe_postgres(spec: PostgresSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a postgres spec, return ``connections``, ``max_connections``,
    ``connections_used_percent``, ``cache_hit_ratio``, ``pg_stat_statements``, ``slow_queries``
    and ``slowest`` (when pg_stat_statements is installed), ``unused_indexes``,
    ``unused_index_names``, ``dead_tuples``, ``dead_tuple_ratio``, ``last_autovacuum_age``,
    ``database_size`` and ``longest_transaction_age``."""
    import psycopg  # ~10 MB: only processes that check PostgreSQL pay for it

    # libpq does not know SQLAlchemy's driver suffix.
    conninfo = spec.url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        async with asyncio.timeout(timeout):
            conn = await psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, connect_timeout=max(1, math.ceil(timeout))
            )
            async with conn:
                # The server stops a statement itself even if this client vanishes mid-query.
                await conn.execute(
                    "SELECT set_config('statement_timeout', %s, false),"
                    " set_config('default_transaction_read_only', 'on', false)",
                    [str(math.ceil(timeout * 1000))],
                )
                overview = await _one(conn, _OVERVIEW)
                tables = await _one(conn, _TABLES)
                unused = [row[0] for row in await (await conn.execute(_UNUSED_INDEXES)).fetchall()]
                statements = await _slow_statements(conn, spec.slow_query_ms)
    except TimeoutError:
        raise ProbeError(f"timed out after {format_duration(timeout)}") from None
    except psycopg.Error as exc:
        raise ProbeError(without_password(error_line(exc), spec.url)) from None
    connections, max_connections, hits, reads, size, longest = overview
    dead, dead_ratio, autovacuum_age = tables
    blocks = (hits or 0) + (reads or 0)
    return {
        "connections": connections,
        "max_connections": max_connections,
        "connections_used_percent": 100.0 * connections / max_connections
        if max_connections
        else 0.0,
        "cache_hit_ratio": (hits or 0) / blocks if blocks else None,
        **statements,
        "unused_indexes": len(unused),
        "unused_index_names": unused[:_MAX_LISTED],
        "dead_tuples": dead,
        "dead_tuple_ratio": dead_ratio,
        "last_autovacuum_age": autovacuum_age,
        "database_size": size,
        "longest_transaction_age": longest,
    }


async def _one(conn: AsyncConnection[Any], query: str) -> tuple[Any, ...]:
    row = await (await conn.execute(query)).fetchone()
    if row is None:
        raise ProbeError("the statistics views returned nothing")
    return tuple(row)


async def _slow_statements(conn: AsyncConnection[Any], slow_query_ms: float) -> Measurements:
    """Given a connection, return ``pg_stat_statements`` and, when it is there, ``slow_queries``
    and ``slowest``: this database's statements slower on average than ``slow_query_ms``."""
    import psycopg
    from psycopg import sql

    found = await (await conn.execute(_STATEMENTS_SCHEMA)).fetchone()
    if found is None:
        return {"pg_stat_statements": False}
    # PostgreSQL 13 renamed mean_time, when planning time got a column of its own.
    mean = "mean_exec_time" if conn.info.server_version >= 130000 else "mean_time"
    query = sql.SQL(
        "SELECT query, {mean}, calls FROM {schema}.pg_stat_statements"
        " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND {mean} > %s ORDER BY {mean} DESC"
    ).format(mean=sql.Identifier(mean), schema=sql.Identifier(found[0]))
    try:
        rows = await (await conn.execute(query, [slow_query_ms])).fetchall()
    except psycopg.errors.ObjectNotInPrerequisiteState:
        # Created in the database, but not loaded by the server (shared_preload_libraries).
        return {"pg_stat_statements": False}
    return {
        "pg_stat_statements": True,
        "slow_queries": len(rows),
        "slowest": [
            {"query": _shown(text), "mean_ms": float(mean_ms), "calls": int(calls)}
            for text, mean_ms, calls in rows[:_SLOWEST]
        ],
    }


def _shown(query: str | None) -> str:
    """Given a statement's text, return it fit to show: literals (which pg_stat_statements keeps
    for some statements, passwords among them) and long tokens hidden, cut to 200 characters."""
    text = " ".join(_QUOTED.sub("'…'", query or "").split())
    return redact_tokens(text)[:_MAX_QUERY]
