"""Taking a backup file: final name only when complete, checksum, manifest, nothing left on failure."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psutil
import psycopg
import pytest
from sqlalchemy import make_url

from watchkeeper import __version__
from watchkeeper.backups.archive import (
    Taken,
    partial_path,
    remove_stale_partials,
    take,
    verify_checksum,
)
from watchkeeper.backups.runner import run_backup
from watchkeeper.backups.sources import BackupError, PostgresSource, SourceKind, SqliteSource
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
SECRET = "wk-secret-3e7d20"


def _listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
        db.executemany("INSERT INTO orders (total) VALUES (?)", [(i * 1.5,) for i in range(500)])
    db.close()
    return path


@pytest.fixture
async def silent_server() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A TCP server on loopback that accepts connections and never answers; the event is set on
    the first connection."""
    connected = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await reader.read()  # until the client is gone
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], connected
    server.close()
    await server.wait_closed()


async def test_a_backup_gets_its_final_name_and_a_manifest_beside_it(
    sqlite_db: Path, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    local = datetime(2026, 11, 22, 3, 0, tzinfo=timezone(timedelta(hours=1)))

    taken = await take(SqliteSource(sqlite_db), backups, "main-db", local)

    assert taken.path == backups / "main-db-20261122T020000Z.sqlite"
    assert taken.manifest_path == backups / "main-db-20261122T020000Z.sqlite.manifest.json"
    assert _listing(backups) == [taken.path.name, taken.manifest_path.name]
    assert taken.manifest.size == taken.path.stat().st_size
    assert verify_checksum(taken.path, taken.manifest.sha256)
    assert json.loads(taken.manifest_path.read_text()) == {
        "file": "main-db-20261122T020000Z.sqlite",
        "name": "main-db",
        "kind": "sqlite",
        "created_at": "2026-11-22T02:00:00+00:00",
        "size": taken.manifest.size,
        "sha256": taken.manifest.sha256,
        "watchkeeper_version": __version__,
    }
    with sqlite3.connect(taken.path) as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (500,)
    db.close()


async def _take_postgres(url: str, directory: Path) -> Taken:
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE orders AS SELECT i AS id, md5(i::text) AS ref FROM generate_series(1, 2000) i"
        )
    return await take(PostgresSource(url), directory, "main-db", NOW)


async def test_the_manifest_names_the_kind_never_the_url(postgres_url: str, tmp_path: Path) -> None:
    # The test server trusts loopback, so it accepts any password.
    url = make_url(postgres_url).set(password=SECRET).render_as_string(hide_password=False)

    taken = await _take_postgres(url, tmp_path)

    assert taken.path.name == "main-db-20261122T020000Z.dump"
    assert taken.manifest.kind is SourceKind.POSTGRES
    text = taken.manifest_path.read_text()
    assert SECRET not in text
    assert "127.0.0.1" not in text
    assert "postgresql" not in text


async def test_corrupting_one_byte_of_a_dump_fails_its_checksum(
    postgres_url: str, tmp_path: Path
) -> None:
    taken = await _take_postgres(postgres_url, tmp_path)
    assert verify_checksum(taken.path, taken.manifest.sha256)

    data = bytearray(taken.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    taken.path.write_bytes(bytes(data))

    assert taken.path.stat().st_size == taken.manifest.size
    assert not verify_checksum(taken.path, taken.manifest.sha256)


async def test_a_failing_dump_leaves_no_file_and_hides_the_password(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"postgresql://backup:{SECRET}@127.0.0.1:{closed_port}/main"
    backups = tmp_path / "backups"

    with pytest.raises(BackupError, match="pg_dump failed") as failure:
        await take(PostgresSource(url), backups, "main-db", NOW)

    assert "Connection refused" in str(failure.value)
    assert SECRET not in str(failure.value)
    assert _listing(backups) == []


async def test_a_dump_that_hangs_is_killed_at_its_timeout_and_leaves_no_file(
    tmp_path: Path, silent_server: tuple[int, asyncio.Event]
) -> None:
    port, _ = silent_server
    source = PostgresSource(f"postgresql://backup@127.0.0.1:{port}/main", timeout=0.5)

    with pytest.raises(BackupError, match=r"pg_dump timed out after"):
        await take(source, tmp_path, "main-db", NOW)

    assert _listing(tmp_path) == []


async def test_a_cancelled_backup_leaves_no_partial_file(
    tmp_path: Path, silent_server: tuple[int, asyncio.Event]
) -> None:
    port, connected = silent_server
    source = PostgresSource(f"postgresql://backup@127.0.0.1:{port}/main")
    task = asyncio.create_task(take(source, tmp_path, "main-db", NOW))
    await connected.wait()
    # pg_dump creates its output file before it connects.
    assert _listing(tmp_path) == [".main-db-20261122T020000Z.partial"]

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert _listing(tmp_path) == []


async def test_the_password_travels_in_the_environment_not_on_the_command_line(
    tmp_path: Path, silent_server: tuple[int, asyncio.Event]
) -> None:
    port, connected = silent_server
    source = PostgresSource(f"postgresql://backup:{SECRET}@127.0.0.1:{port}/main")
    task = asyncio.create_task(source.dump(tmp_path / "main.dump"))
    await connected.wait()
    try:
        # The session's PostgreSQL server is a child of this process too.
        (pg_dump,) = [p for p in psutil.Process().children() if p.name() == "pg_dump"]
        assert not any(SECRET in arg for arg in pg_dump.cmdline())
        assert pg_dump.environ()["PGPASSWORD"] == SECRET
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not psutil.pid_exists(pg_dump.pid)


async def test_an_existing_backup_is_never_overwritten(sqlite_db: Path, tmp_path: Path) -> None:
    first = await take(SqliteSource(sqlite_db), tmp_path / "b", "main-db", NOW)
    before = first.path.read_bytes()

    with pytest.raises(BackupError, match="exists already"):
        await take(SqliteSource(sqlite_db), tmp_path / "b", "main-db", NOW)

    assert first.path.read_bytes() == before
    assert _listing(tmp_path / "b") == [first.path.name, first.manifest_path.name]


@pytest.mark.parametrize("name", ["../escape", ".hidden", "a/b", ""])
async def test_a_name_that_is_not_a_plain_file_name_is_refused(
    sqlite_db: Path, tmp_path: Path, name: str
) -> None:
    with pytest.raises(ValueError, match="backup name"):
        await take(SqliteSource(sqlite_db), tmp_path / "b", name, NOW)
    assert not (tmp_path / "b").exists()


# --- Partial files a crash left behind ---------------------------------------------------------

HOUR = 3600.0


def _partial(directory: Path, name: str, started: datetime, written: datetime) -> Path:
    path = partial_path(directory, name, started)
    path.write_bytes(b"half a dump")
    os.utime(path, (written.timestamp(), written.timestamp()))
    return path


def test_only_partial_files_older_than_the_timeout_are_removed(tmp_path: Path) -> None:
    long_ago = NOW - timedelta(hours=3)
    crashed = _partial(tmp_path, "main-db", long_ago, long_ago)
    crashed_manifest = tmp_path / f"{crashed.name.removesuffix('.partial')}.manifest.partial"
    crashed_manifest.write_text("{}")
    os.utime(crashed_manifest, (long_ago.timestamp(), long_ago.timestamp()))
    running = _partial(tmp_path, "main-db", NOW - timedelta(minutes=5), NOW)
    # Started long ago but still being written: a slow dump, not a crashed one.
    still_writing = _partial(tmp_path, "main-db", long_ago - timedelta(hours=1), NOW)
    other_backup = _partial(tmp_path, "main-db-replica", long_ago, long_ago)
    complete = tmp_path / "main-db-20261101T000000Z.dump"
    complete.write_bytes(b"a whole dump")
    os.utime(complete, (long_ago.timestamp(), long_ago.timestamp()))

    removed = remove_stale_partials(tmp_path, "main-db", HOUR, NOW)

    assert removed == sorted([crashed, crashed_manifest])
    assert not crashed.exists() and not crashed_manifest.exists()
    assert running.exists() and still_writing.exists()
    assert other_backup.exists() and complete.exists()


def test_a_missing_backup_directory_has_no_stale_partial_files(tmp_path: Path) -> None:
    assert remove_stale_partials(tmp_path / "not-yet", "main-db", HOUR, NOW) == []


async def test_a_new_backup_first_removes_its_stale_partial_files_and_logs_each(
    sqlite_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backup = Backup.model_validate(
        {"name": "main-db", "source": {"sqlite": "app.db"}, "to": "b", "timeout": "1h"}
    )
    (tmp_path / "b").mkdir()
    long_ago = NOW - timedelta(hours=2)
    crashed = _partial(tmp_path / "b", "main-db", long_ago, long_ago)
    recent = _partial(tmp_path / "b", "main-db", NOW - timedelta(minutes=10), NOW)
    store = Store.open(f"sqlite:///{tmp_path / 'watchkeeper.db'}")
    caplog.set_level("INFO", logger="watchkeeper.backups")
    try:
        entry = await run_backup(store.engine, backup, tmp_path, Secrets(), NOW)
    finally:
        store.close()

    assert not crashed.exists() and recent.exists()
    assert entry.path is not None and entry.path.exists()
    assert f"removed stale partial backup {crashed}" in caplog.text
    assert str(recent) not in caplog.text
