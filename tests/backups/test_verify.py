"""Verifying backups against real parts: pg_dump/pg_restore on a PostgreSQL server, SQLite files,
directories; outcomes recorded in a real store."""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import update

from watchkeeper.backups.catalogue import Entry, mark_pruned
from watchkeeper.backups.runner import run_backup
from watchkeeper.backups.sources import BackupError
from watchkeeper.backups.verify import (
    CHECKSUM_MISMATCH,
    VerificationResult,
    VerifyOutcome,
    recent_verifications,
    verify_backup,
    verify_latest,
)
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store
from watchkeeper.store.tables import backup_catalogue

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=30)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The Watchkeeper store the catalogue and verifications are kept in."""
    opened = Store.open(f"sqlite:///{tmp_path / 'watchkeeper.db'}")
    yield opened
    opened.close()


@pytest.fixture
def scratch_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory temporary scratch files and directories are made in, to see them go."""
    parent = tmp_path / "tmp"
    parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(parent))
    return parent


def _backup(source: dict[str, Any], smoke: list[str] | None = None) -> Backup:
    return Backup.model_validate(
        {"name": "main-db", "source": source, "to": "backups", "verify": {"smoke": smoke or []}}
    )


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _recorded(store: Store, entry: Entry) -> list[VerificationResult]:
    with store.engine.connect() as connection:
        return [
            v for v in recent_verifications(connection, entry.backup) if v.catalogue_id == entry.id
        ]


# --- PostgreSQL -------------------------------------------------------------------------------


def _fill(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)")
        conn.execute(
            "INSERT INTO users (email) SELECT 'user' || i || '@example.org' "
            "FROM generate_series(1, 250) i"
        )


def _scratch_databases(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'wk\\_restore\\_%'"
        ).fetchall()
    return {name for (name,) in rows}


async def test_a_dump_with_one_corrupt_byte_fails_verification_on_its_checksum(
    postgres_url: str, store: Store, tmp_path: Path
) -> None:
    _fill(postgres_url)
    backup = _backup({"postgres": postgres_url}, ["SELECT count(*) FROM users"])
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    assert entry.path is not None
    _flip_byte(entry.path, entry.path.stat().st_size // 2)

    result = await verify_backup(store.engine, backup, entry, tmp_path, Secrets(), LATER)

    assert result.outcome is VerifyOutcome.FAILED
    assert result.detail == CHECKSUM_MISMATCH
    assert result.restore_seconds is None
    assert _recorded(store, entry) == [result]
    assert result.at == LATER and result.catalogue_id == entry.id


async def test_an_intact_dump_restores_passes_its_smoke_queries_and_leaves_no_scratch_database(
    postgres_url: str, store: Store, tmp_path: Path
) -> None:
    _fill(postgres_url)
    before = _scratch_databases(postgres_url)
    backup = _backup(
        {"postgres": postgres_url},
        [
            "SELECT count(*) FROM users",
            "SELECT email FROM users WHERE id = 250",
            "SELECT count(*) = 250 FROM users",
        ],
    )
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)

    result = await verify_backup(store.engine, backup, entry, tmp_path, Secrets(), LATER)

    assert result.outcome is VerifyOutcome.PASSED, result.detail
    assert result.detail is None
    assert result.restore_seconds is not None and result.restore_seconds > 0
    assert _recorded(store, entry) == [result]
    assert _scratch_databases(postgres_url) == before


async def test_a_smoke_query_returning_false_fails_the_verification_naming_it(
    postgres_url: str, store: Store, tmp_path: Path
) -> None:
    _fill(postgres_url)
    failing = "SELECT count(*) > 1000 FROM users"
    backup = _backup(
        {"postgres": postgres_url},
        ["SELECT count(*) FROM users", failing, "SELECT count(*) FROM no_such_table"],
    )
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)

    result = await verify_backup(store.engine, backup, entry, tmp_path, Secrets(), LATER)

    assert result.outcome is VerifyOutcome.FAILED
    assert result.detail is not None
    assert f"smoke query {failing!r} returned False" in result.detail
    assert "'SELECT count(*) FROM no_such_table' failed" in result.detail
    assert "no_such_table" in result.detail and "'SELECT count(*) FROM users'" not in result.detail
    # The restore itself worked: its time is still measured.
    assert result.restore_seconds is not None
    assert _recorded(store, entry)[0].outcome is VerifyOutcome.FAILED


# --- SQLite -----------------------------------------------------------------------------------


def _app_db(path: Path, users: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO users (name) VALUES (?)", [(f"u{i}",) for i in range(users)])


async def test_a_sqlite_backup_passes_integrity_and_its_smoke_queries_run_on_the_restored_copy(
    store: Store, tmp_path: Path, scratch_parent: Path
) -> None:
    _app_db(tmp_path / "app.db", 3)
    backup = _backup({"sqlite": "app.db"}, ["SELECT count(*) FROM users"])
    await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    # Emptied after the backup: the query passes only if it reads the restored copy.
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("DELETE FROM users")

    result = await verify_latest(store.engine, backup, tmp_path, Secrets(), LATER)

    assert result is not None
    assert result.outcome is VerifyOutcome.PASSED, result.detail
    assert result.restore_seconds is not None
    assert list(scratch_parent.iterdir()) == []


async def test_a_sqlite_smoke_query_returning_zero_fails(store: Store, tmp_path: Path) -> None:
    _app_db(tmp_path / "app.db", 0)
    backup = _backup({"sqlite": "app.db"}, ["SELECT count(*) FROM users"])
    await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("INSERT INTO users (name) VALUES ('late')")

    result = await verify_latest(store.engine, backup, tmp_path, Secrets(), LATER)

    assert result is not None and result.outcome is VerifyOutcome.FAILED
    assert result.detail == "smoke query 'SELECT count(*) FROM users' returned 0"


ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"


async def test_a_smoke_query_that_never_ends_is_stopped_at_the_backups_timeout(
    store: Store, tmp_path: Path
) -> None:
    _app_db(tmp_path / "app.db", 3)
    backup = _backup({"sqlite": "app.db"}, [ENDLESS, "SELECT count(*) FROM users"])
    backup = backup.model_copy(update={"timeout": 1.0})
    await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    started = time.monotonic()

    result = await verify_latest(store.engine, backup, tmp_path, Secrets(), LATER)

    assert time.monotonic() - started < 10
    assert result is not None and result.outcome is VerifyOutcome.FAILED
    assert result.detail is not None
    assert result.detail.startswith(f"smoke query {ENDLESS!r} failed: interrupted"), result.detail
    assert "'SELECT count(*) FROM users' not run: the backup's timeout ran out" in result.detail


async def test_a_postgresql_smoke_query_that_never_ends_is_cancelled_at_the_backups_timeout(
    postgres_url: str, store: Store, tmp_path: Path
) -> None:
    _fill(postgres_url)
    endless = "SELECT pg_sleep(3600)"
    backup = _backup({"postgres": postgres_url}, [endless])
    backup = backup.model_copy(update={"timeout": 3.0})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    started = time.monotonic()

    result = await verify_backup(store.engine, backup, entry, tmp_path, Secrets(), LATER)

    assert time.monotonic() - started < 15
    assert result.outcome is VerifyOutcome.FAILED
    assert result.detail is not None and "statement timeout" in result.detail, result.detail


async def test_a_sqlite_backup_corrupt_before_its_checksum_was_taken_fails_integrity(
    store: Store, tmp_path: Path
) -> None:
    _app_db(tmp_path / "app.db", 2000)
    backup = _backup({"sqlite": "app.db"})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    assert entry.path is not None
    # Garble a data page and record the garbled file's checksum: only the restore can tell.
    data = bytearray(entry.path.read_bytes())
    data[4096 * 2 : 4096 * 2 + 512] = b"\xa5" * 512
    entry.path.write_bytes(bytes(data))
    with store.engine.begin() as connection:
        connection.execute(
            update(backup_catalogue)
            .where(backup_catalogue.c.id == entry.id)
            .values(sha256=hashlib.sha256(bytes(data)).hexdigest())
        )

    result = await verify_latest(store.engine, backup, tmp_path, Secrets(), LATER)

    assert result is not None and result.outcome is VerifyOutcome.FAILED
    assert result.detail is not None and result.detail.startswith("restore failed: ")
    assert "is corrupt" in result.detail


async def test_verify_latest_picks_the_newest_good_unpruned_backup_or_none(
    store: Store, tmp_path: Path
) -> None:
    _app_db(tmp_path / "app.db", 1)
    backup = _backup({"sqlite": "app.db"})
    assert await verify_latest(store.engine, backup, tmp_path, Secrets(), LATER) is None

    older, newer = [
        await run_backup(store.engine, backup, tmp_path, Secrets(), T0 + timedelta(days=d))
        for d in range(2)
    ]
    with store.engine.begin() as connection:
        mark_pruned(connection, [newer.id], LATER)
    (tmp_path / "app.db").rename(tmp_path / "moved.db")
    with pytest.raises(BackupError, match="SQLite database not found"):
        await run_backup(store.engine, backup, tmp_path, Secrets(), T0 + timedelta(days=3))

    result = await verify_latest(store.engine, backup, tmp_path, Secrets(), LATER)

    assert result is not None and result.catalogue_id == older.id
    assert result.outcome is VerifyOutcome.PASSED


# --- Directories ------------------------------------------------------------------------------


async def test_a_directory_backup_restores_into_a_temporary_directory_removed_afterwards(
    store: Store, tmp_path: Path, scratch_parent: Path
) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>hi</h1>")
    backup = _backup({"files": ["site"]})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)

    result = await verify_backup(store.engine, backup, entry, tmp_path, Secrets(), LATER)

    assert result.outcome is VerifyOutcome.PASSED, result.detail
    assert result.restore_seconds is not None
    assert list(scratch_parent.iterdir()) == []
