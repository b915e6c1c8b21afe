"""The database probe times a round trip to real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from watchkeeper.config.specs import DatabaseSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.database import probe_database

SECRET = "hunter2-s3cret"

# Never ends, and reads a table, so it holds a shared lock on the file while it runs.
ENDLESS = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n, disks"
)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[Path]:
    """A SQLite database holding three disk readings."""
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE disks (name TEXT, used REAL)")
        conn.executemany(
            "INSERT INTO disks VALUES (?, ?)", [("sda", 41.5), ("sdb", 87.25), ("sdc", None)]
        )
    conn.close()
    yield path


def with_password(url: str, password: str, database: str | None = None) -> str:
    """Return ``url`` logging in with ``password`` (and on ``database`` when given)."""
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return parts._replace(netloc=netloc, path=f"/{database}" if database else parts.path).geturl()


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sqlite_probe_returns_the_value_and_row_count(
    ctx: ProbeContext, sqlite_file: Path
) -> None:
    spec = DatabaseSpec(
        url=f"sqlite:///{sqlite_file}", query="SELECT used FROM disks ORDER BY used DESC"
    )

    measured = await probe_database(spec, ctx, timeout=10)

    assert measured["value"] == 87.25
    assert measured["rows"] == 3
    assert 0 <= measured["connect_time"] < 10
    assert 0 <= measured["query_time"] < 10


async def test_sqlite_probe_runs_select_1_without_a_query(
    ctx: ProbeContext, sqlite_file: Path
) -> None:
    measured = await probe_database(DatabaseSpec(url=str(sqlite_file)), ctx, timeout=10)

    assert (measured["value"], measured["rows"]) == (1, 1)


async def test_sqlite_probe_reports_null_and_empty_results_as_none(
    ctx: ProbeContext, sqlite_file: Path
) -> None:
    null = DatabaseSpec(url=str(sqlite_file), query="SELECT used FROM disks WHERE name = 'sdc'")
    empty = DatabaseSpec(url=str(sqlite_file), query="SELECT used FROM disks WHERE name = 'zz'")

    assert (await probe_database(null, ctx, timeout=10))["value"] is None
    measured = await probe_database(empty, ctx, timeout=10)
    assert (measured["value"], measured["rows"]) == (None, 0)


async def test_sqlite_probe_never_creates_a_missing_database(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.db"

    with pytest.raises(ProbeError, match=r"SQLite database not found: .*missing.db"):
        await probe_database(DatabaseSpec(url=f"sqlite:///{missing}"), ctx, timeout=10)

    assert not missing.exists()


async def test_sqlite_probe_reports_a_file_that_is_not_a_database(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, just some text that is long enough for a header" * 4)

    with pytest.raises(ProbeError, match=r"notes\.txt: file is not a database"):
        await probe_database(DatabaseSpec(url=str(notes)), ctx, timeout=10)


async def test_sqlite_probe_never_writes(ctx: ProbeContext, sqlite_file: Path) -> None:
    spec = DatabaseSpec(url=str(sqlite_file), query="DELETE FROM disks")

    with pytest.raises(ProbeError, match=r"readonly"):
        await probe_database(spec, ctx, timeout=10)

    with sqlite3.connect(sqlite_file) as conn:
        assert conn.execute("SELECT count(*) FROM disks").fetchone() == (3,)
    conn.close()


async def test_sqlite_probe_reports_bad_sql(ctx: ProbeContext, sqlite_file: Path) -> None:
    spec = DatabaseSpec(url=str(sqlite_file), query="SELEC 1")

    with pytest.raises(ProbeError, match=r'query failed: near "SELEC": syntax error'):
        await probe_database(spec, ctx, timeout=10)


async def test_sqlite_probe_stops_a_slow_query_at_its_timeout(
    ctx: ProbeContext, sqlite_file: Path
) -> None:
    started = time.monotonic()

    with pytest.raises(ProbeError, match=r"timed out after 500ms"):
        await probe_database(DatabaseSpec(url=str(sqlite_file), query=ENDLESS), ctx, timeout=0.5)

    assert time.monotonic() - started < 1.5


async def test_sqlite_probe_cancellation_stops_its_query(
    ctx: ProbeContext, sqlite_file: Path
) -> None:
    def can_write() -> bool:
        # A writer cannot commit while a reader holds its shared lock.
        writer = sqlite3.connect(sqlite_file, timeout=0)
        try:
            with writer:
                writer.execute("UPDATE disks SET used = used")
            return True
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return False
        finally:
            writer.close()

    task = asyncio.create_task(
        probe_database(DatabaseSpec(url=str(sqlite_file), query=ENDLESS), ctx, timeout=60)
    )
    async with asyncio.timeout(10):
        while can_write():
            await asyncio.sleep(0.01)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async with asyncio.timeout(1):
        while not can_write():
            await asyncio.sleep(0.01)


async def test_postgres_probe_returns_value_rows_and_server_figures(
    ctx: ProbeContext, postgres_url: str
) -> None:
    spec = DatabaseSpec(url=postgres_url, query="SELECT 12.5::numeric FROM generate_series(1, 4)")

    measured = await probe_database(spec, ctx, timeout=10)

    assert measured["value"] == 12.5
    assert isinstance(measured["value"], float)
    assert measured["rows"] == 4
    assert 0 < measured["connect_time"] < 10
    assert 0 < measured["query_time"] < 10
    assert 1 <= measured["connections"] <= measured["max_connections"]
    assert measured["max_connections"] == 100
    assert measured["connections_used_percent"] == pytest.approx(measured["connections"])
    assert measured["server_version"][0].isdigit()


async def test_postgres_probe_converts_values_to_json_friendly_ones(
    ctx: ProbeContext, postgres_url: str
) -> None:
    async def value(query: str) -> object:
        spec = DatabaseSpec(url=postgres_url, query=query)
        return (await probe_database(spec, ctx, timeout=10))["value"]

    assert await value("SELECT timestamp '2024-01-02 03:04:05'") == "2024-01-02T03:04:05"
    assert await value("SELECT date '2024-01-02'") == "2024-01-02"
    assert await value("SELECT interval '90 seconds'") == 90.0
    assert await value("SELECT NULL") is None
    assert await value("SELECT 'up'") == "up"
    assert await value("SELECT 1 WHERE false") is None
    assert await value("SELECT 1") == 1


async def test_postgres_probe_accepts_the_sqlalchemy_driver_url(
    ctx: ProbeContext, postgres_url: str
) -> None:
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)

    measured = await probe_database(DatabaseSpec(url=url), ctx, timeout=10)

    assert measured["value"] == 1


async def test_postgres_probe_never_writes(ctx: ProbeContext, postgres_url: str) -> None:
    spec = DatabaseSpec(url=postgres_url, query="CREATE TABLE wk_probe_scratch (id int)")

    with pytest.raises(ProbeError, match=r"read-only transaction"):
        await probe_database(spec, ctx, timeout=10)

    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT to_regclass('wk_probe_scratch')").fetchone() == (None,)


async def test_postgres_probe_reports_sql_errors(ctx: ProbeContext, postgres_url: str) -> None:
    spec = DatabaseSpec(url=postgres_url, query="SELECT * FROM wk_missing_table")

    with pytest.raises(ProbeError, match=r'relation "wk_missing_table" does not exist'):
        await probe_database(spec, ctx, timeout=10)


async def test_postgres_probe_hides_the_password_when_unreachable(ctx: ProbeContext) -> None:
    url = f"postgresql://watcher:{SECRET}@127.0.0.1:{unused_port()}/app"

    with pytest.raises(ProbeError, match=r"127\.0\.0\.1") as err:
        await probe_database(DatabaseSpec(url=url), ctx, timeout=5)

    assert "hunter2" not in str(err.value)


async def test_postgres_probe_hides_the_password_when_login_fails(
    ctx: ProbeContext, postgres_url: str
) -> None:
    # The server names the database it refuses, so a password also used as its name would leak.
    unknown_role = with_password(postgres_url, SECRET).replace("//", "//wk_nobody_", 1)
    unknown_database = with_password(postgres_url, SECRET, database=SECRET)

    with pytest.raises(ProbeError, match=r'role "wk_nobody_.*" does not exist') as err:
        await probe_database(DatabaseSpec(url=unknown_role), ctx, timeout=5)
    assert "hunter2" not in str(err.value)

    with pytest.raises(ProbeError, match=r'database "\*\*\*" does not exist') as err:
        await probe_database(DatabaseSpec(url=unknown_database), ctx, timeout=5)
    assert "hunter2" not in str(err.value)


async def test_postgres_probe_stops_a_slow_query_at_its_timeout(
    ctx: ProbeContext, postgres_url: str
) -> None:
    spec = DatabaseSpec(url=postgres_url, query="SELECT pg_sleep(5)")
    started = time.monotonic()

    with pytest.raises(ProbeError, match=r"timed out after 1s|statement timeout"):
        await probe_database(spec, ctx, timeout=1)

    assert time.monotonic() - started < 1.5
    with psycopg.connect(postgres_url) as conn:
        sleeping = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE state = 'active' AND query = 'SELECT pg_sleep(5)'"
        )
        assert conn.execute(sleeping).fetchone() == (0,)


async def test_postgres_probe_cancellation_closes_its_connection(
    ctx: ProbeContext, postgres_url: str
) -> None:
    spec = DatabaseSpec(url=postgres_url, query="SELECT pg_sleep(30)")
    task = asyncio.create_task(probe_database(spec, ctx, timeout=60))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        active = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE state = 'active' AND query = 'SELECT pg_sleep(30)'"
        )
        async with asyncio.timeout(10):
            while conn.execute(active).fetchone() != (1,):
                await asyncio.sleep(0.02)

        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

        async with asyncio.timeout(5):
            while conn.execute(active).fetchone() != (0,):
                await asyncio.sleep(0.02)
