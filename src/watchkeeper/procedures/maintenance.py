"""Database maintenance a procedure's step runs: ``VACUUM``, ``ANALYZE`` or both on a PostgreSQL
database, for named tables or the whole database."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from watchkeeper.config.procedures import MaintenanceOperation
from watchkeeper.probes.database import error_line, without_password


class MaintenanceError(Exception):
    """The maintenance could not run or failed; the message names no password."""


@dataclass(frozen=True)
class Done:
    """One statement run: what it was, and how long it took."""

    statement: str
    seconds: float


def statements(operation: MaintenanceOperation, tables: tuple[str, ...]) -> list[sql.Composed]:
    """Given an operation and table names (none: the whole database), return the statements to
    run, one per table, with the names quoted as identifiers (``schema.table`` allowed)."""
    verb = sql.SQL(operation.sql)
    if not tables:
        return [sql.Composed([verb])]
    return [
        sql.Composed([verb, sql.SQL(" "), sql.Identifier(*table.split(".", 1))]) for table in tables
    ]


async def maintain(
    url: str, operation: MaintenanceOperation, tables: tuple[str, ...], timeout: float
) -> list[Done]:
    """Run ``operation`` on ``tables`` (or the whole database) at ``url``, each statement in
    autocommit (VACUUM cannot run in a transaction); return what ran. Raises MaintenanceError."""
    try:
        async with asyncio.timeout(timeout):
            conn = await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=max(1, int(timeout))
            )
            async with conn:
                done = []
                for statement in statements(operation, tables):
                    started = time.perf_counter()
                    await conn.execute(statement)
                    text = statement.as_string(conn)
                    done.append(Done(text, time.perf_counter() - started))
                return done
    except TimeoutError:
        raise MaintenanceError(f"{operation.sql} did not finish within {timeout:g}s") from None
    except psycopg.Error as exc:
        raise MaintenanceError(without_password(error_line(exc), url)) from None
