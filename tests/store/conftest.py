"""Fixtures for the store tests: every test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
"""A fixed moment the tests build results around (a bucket boundary at every resolution)."""

Outage = Callable[[], contextlib.AbstractContextManager[None]]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        # A short busy timeout so a locked database fails a write in half a second, not five.
        return f"sqlite:///{tmp_path}/data/watchkeeper.db?timeout=0.5"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A store opened on ``store_url``."""
    opened = Store.open(store_url)
    yield opened
    opened.close()


@pytest.fixture
def outage(request: pytest.FixtureRequest, store_url: str) -> Outage:
    """Return a context manager during which the database really refuses writes."""
    if store_url.startswith("sqlite"):
        path = store_url.removeprefix("sqlite:///").split("?")[0]
        return lambda: _sqlite_locked(path)
    server: str = request.getfixturevalue("postgres_server")
    return lambda: _postgres_closed(server, store_url.rsplit("/", 1)[1])


@contextlib.contextmanager
def _sqlite_locked(path: str) -> Iterator[None]:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextlib.contextmanager
def _postgres_closed(server: str, database: str) -> Iterator[None]:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (database,),
        )
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')


def result(
    check: str = "web",
    at: datetime = T0,
    duration_ms: float = 10.0,
    status: Status = Status.OK,
    measurements: dict[str, Any] | None = None,
) -> Result:
    """Return a result with sensible defaults."""
    message = f"{check} took {duration_ms}ms"
    return Result(check, at, status, duration_ms, message, measurements or {})


def minutes(n: float) -> timedelta:
    """Return ``n`` minutes."""
    return timedelta(minutes=n)


async def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Return once ``condition()`` holds; fail the test if it does not within ``timeout``s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
