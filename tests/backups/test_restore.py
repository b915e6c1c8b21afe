"""Putting backups back, against real parts: pg_dump/pg_restore on a PostgreSQL server, SQLite
files (in WAL mode too), directories; entries come from a real catalogue."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import make_url

from tests.pg_server import drop_database
from watchkeeper.backups.catalogue import Entry, mark_pruned
from watchkeeper.backups.restore import (
    ChecksumMismatch,
    DatabaseTarget,
    DirectoryTarget,
    SourceDirectories,
    SqliteTarget,
    default_target,
    existing_data,
    restore_entry,
    target_from,
)
from watchkeeper.backups.runner import run_backup, source_of, store_backup
from watchkeeper.backups.sources import BackupError, PostgresSource, SourceKind, SqliteSource
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The Watchkeeper store the catalogue is kept in."""
    opened = Store.open(f"sqlite:///{tmp_path / 'watchkeeper.db'}")
    yield opened
    opened.close()


@pytest.fixture
def new_database(postgres_server: str) -> Iterator[str]:
    """The URL of a database that does not exist yet on the test server (dropped afterwards)."""
    name = f"wk_test_new_{uuid.uuid4().hex[:12]}"
    yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    drop_database(postgres_server, name)


def _backup(source: dict[str, Any]) -> Backup:
    return Backup.model_validate({"name": "main", "source": source, "to": "backups"})


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


# --- PostgreSQL -------------------------------------------------------------------------------


def _emails(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [email for (email,) in conn.execute("SELECT email FROM users ORDER BY id")]


def _fill(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)")
        conn.execute("INSERT INTO users (email) VALUES ('ana@example.org'), ('bo@example.org')")


def _change(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM users WHERE email = 'ana@example.org'")
        conn.execute("INSERT INTO users (email) VALUES ('mallory@example.org')")


async def test_restoring_over_the_source_database_brings_back_the_data_of_the_backup(
    postgres_url: str, store: Store, tmp_path: Path
) -> None:
    _fill(postgres_url)
    backup = _backup({"postgres": postgres_url})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    _change(postgres_url)
    target = default_target(backup, tmp_path)

    assert await existing_data(target) == f"the database {target.describe()} (1 table)"
    outcome = await restore_entry(backup, entry, target, Secrets())

    assert _emails(postgres_url) == ["ana@example.org", "bo@example.org"]
    assert outcome.entry == entry and outcome.target == target and outcome.seconds > 0


async def test_restoring_into_a_new_database_creates_it_and_leaves_the_source_untouched(
    postgres_url: str, new_database: str, store: Store, tmp_path: Path
) -> None:
    _fill(postgres_url)
    backup = _backup({"postgres": postgres_url})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    _change(postgres_url)
    target = target_from(SourceKind.POSTGRES, new_database)

    assert await existing_data(target) is None
    await restore_entry(backup, entry, target, Secrets())

    assert _emails(new_database) == ["ana@example.org", "bo@example.org"]
    assert _emails(postgres_url) == ["bo@example.org", "mallory@example.org"]


async def test_a_database_without_tables_holds_no_data_to_overwrite(postgres_url: str) -> None:
    assert await existing_data(DatabaseTarget(postgres_url)) is None


async def test_a_corrupt_dump_is_refused_and_the_database_left_as_it_is(
    postgres_url: str, store: Store, tmp_path: Path
) -> None:
    _fill(postgres_url)
    backup = _backup({"postgres": postgres_url})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    _change(postgres_url)
    assert entry.path is not None
    _flip_byte(entry.path, entry.path.stat().st_size // 2)

    with pytest.raises(ChecksumMismatch, match="does not match its recorded SHA-256"):
        await restore_entry(backup, entry, default_target(backup, tmp_path), Secrets())

    assert _emails(postgres_url) == ["bo@example.org", "mallory@example.org"]


def test_a_postgresql_backup_only_restores_into_a_postgresql_url() -> None:
    with pytest.raises(BackupError, match="restores into a postgresql:// URL"):
        target_from(SourceKind.POSTGRES, "/tmp/copy.db")


# --- SQLite -----------------------------------------------------------------------------------


def _names(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [name for (name,) in db.execute("SELECT name FROM users ORDER BY id")]


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ana'), ('bo')")
    return path


async def test_restoring_a_sqlite_backup_replaces_the_file_with_the_backups_data(
    app_db: Path, store: Store, tmp_path: Path
) -> None:
    backup = _backup({"sqlite": "app.db"})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    with contextlib.closing(sqlite3.connect(app_db)) as db, db:
        db.execute("DELETE FROM users")
    target = default_target(backup, tmp_path)

    assert target == SqliteTarget(app_db)
    assert await existing_data(target) == f"the SQLite file {app_db}"
    await restore_entry(backup, entry, target, Secrets())

    assert _names(app_db) == ["ana", "bo"]
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


async def test_writes_waiting_in_the_write_ahead_log_are_not_replayed_onto_the_restored_file(
    app_db: Path, store: Store, tmp_path: Path
) -> None:
    backup = _backup({"sqlite": "app.db"})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    writer = sqlite3.connect(app_db, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")  # the rows stay in the log
        writer.execute("DELETE FROM users")
        writer.execute("INSERT INTO users (name) VALUES ('mallory')")
        assert (tmp_path / "app.db-wal").stat().st_size > 0

        await restore_entry(backup, entry, default_target(backup, tmp_path), Secrets())
    finally:
        writer.close()

    assert _names(app_db) == ["ana", "bo"]


async def test_a_sqlite_backup_restores_to_a_new_path_leaving_the_source_alone(
    app_db: Path, store: Store, tmp_path: Path
) -> None:
    backup = _backup({"sqlite": "app.db"})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    target = target_from(SourceKind.SQLITE, str(tmp_path / "copies" / "copy.db"))

    assert await existing_data(target) is None
    await restore_entry(backup, entry, target, Secrets())

    assert _names(tmp_path / "copies" / "copy.db") == ["ana", "bo"]
    assert _names(app_db) == ["ana", "bo"]


async def test_a_corrupt_sqlite_backup_is_refused_and_the_file_left_as_it_is(
    app_db: Path, store: Store, tmp_path: Path
) -> None:
    backup = _backup({"sqlite": "app.db"})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    assert entry.path is not None
    _flip_byte(entry.path, 100)
    before = app_db.read_bytes()

    with pytest.raises(ChecksumMismatch):
        await restore_entry(backup, entry, default_target(backup, tmp_path), Secrets())

    assert app_db.read_bytes() == before


async def test_entries_that_cannot_be_restored_say_why(
    app_db: Path, store: Store, tmp_path: Path
) -> None:
    backup = _backup({"sqlite": "app.db"})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    later = await run_backup(store.engine, backup, tmp_path, Secrets(), T0 + timedelta(days=1))
    target = default_target(backup, tmp_path)
    with store.engine.begin() as connection:
        mark_pruned(connection, [entry.id], T0)
    pruned = Entry(**{**entry.__dict__, "pruned_at": T0})
    other = Backup.model_validate({"name": "other", "source": {"sqlite": "app.db"}, "to": "b"})
    assert later.path is not None
    later.path.unlink()

    with pytest.raises(BackupError, match="was pruned"):
        await restore_entry(backup, pruned, target, Secrets())
    with pytest.raises(BackupError, match="belongs to main, not other"):
        await restore_entry(other, entry, target, Secrets())
    with pytest.raises(BackupError, match="cannot be restored into a files target"):
        await restore_entry(backup, entry, DirectoryTarget(tmp_path / "d"), Secrets())
    with pytest.raises(BackupError, match="backup file missing"):
        await restore_entry(backup, later, target, Secrets())


# --- Directories ------------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


async def test_a_files_backup_goes_back_into_each_of_its_directories(
    store: Store, tmp_path: Path
) -> None:
    uploads, settings = tmp_path / "srv" / "uploads", tmp_path / "etc" / "settings"
    (uploads / "2026").mkdir(parents=True)
    (uploads / "2026" / "photo.bin").write_bytes(bytes(range(256)) * 8)
    (uploads / "readme.txt").write_text("hello\n")
    settings.mkdir(parents=True)
    (settings / "app.yaml").write_text("debug: false\n")
    backup = _backup({"files": ["srv/uploads", "etc/settings"]})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    uploads_then, settings_then = _tree(uploads), _tree(settings)
    (uploads / "readme.txt").write_text("changed\n")
    (uploads / "2026" / "photo.bin").unlink()
    (settings / "added-since.txt").write_text("new\n")
    target = default_target(backup, tmp_path)

    assert target == SourceDirectories((uploads, settings))
    assert await existing_data(target) == (f"the non-empty directories {uploads}, {settings}")
    await restore_entry(backup, entry, target, Secrets())

    assert _tree(uploads) == uploads_then
    # Files added since the backup stay: a restore puts back, it does not delete.
    assert _tree(settings) == {**settings_then, "added-since.txt": b"new\n"}


async def test_a_files_backup_restores_into_another_directory_under_the_directories_names(
    store: Store, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# guide\n")
    backup = _backup({"files": ["docs"]})
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    target = target_from(SourceKind.FILES, str(tmp_path / "elsewhere"))

    assert await existing_data(target) is None
    await restore_entry(backup, entry, target, Secrets())

    assert _tree(tmp_path / "elsewhere") == {"docs/guide.md": b"# guide\n"}


async def test_a_member_for_a_directory_no_longer_configured_is_refused_before_extracting(
    store: Store, tmp_path: Path
) -> None:
    for name in ("docs", "www"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.txt").write_text(name)
    taken = _backup({"files": ["docs", "www"]})
    entry = await run_backup(store.engine, taken, tmp_path, Secrets(), T0)
    (tmp_path / "docs" / "index.txt").write_text("changed")
    now_configured = _backup({"files": ["docs"]})

    with pytest.raises(BackupError, match="'www' is none of the directories docs"):
        await restore_entry(
            now_configured, entry, default_target(now_configured, tmp_path), Secrets()
        )

    assert (tmp_path / "docs" / "index.txt").read_text() == "changed"


# --- Watchkeeper's own store ------------------------------------------------------------------


def test_the_store_source_follows_the_store_url(tmp_path: Path) -> None:
    backup = store_backup(())

    assert backup.name == "watchkeeper-store" and backup.to == "backups/watchkeeper-store"
    assert source_of(backup, tmp_path, f"sqlite:///{tmp_path}/wk.db") == SqliteSource(
        tmp_path / "wk.db"
    )
    assert source_of(backup, tmp_path, "postgresql+psycopg://u:pw@db/wk") == PostgresSource(
        "postgresql+psycopg://u:pw@db/wk", timeout=backup.timeout
    )
    with pytest.raises(BackupError, match="its URL was not given"):
        source_of(backup, tmp_path)
    with pytest.raises(BackupError, match="in-memory store"):
        source_of(backup, tmp_path, "sqlite://")


async def test_backing_up_the_store_by_default_backs_up_the_catalogues_own_database(
    store: Store, tmp_path: Path
) -> None:
    backup = store_backup(())
    entry = await run_backup(store.engine, backup, tmp_path, Secrets(), T0)
    copy = tmp_path / "restored.db"

    await restore_entry(backup, entry, SqliteTarget(copy), Secrets())

    assert entry.kind is SourceKind.SQLITE
    assert entry.path is not None and entry.path.parent == tmp_path / "backups/watchkeeper-store"
    with contextlib.closing(sqlite3.connect(copy)) as db:
        assert db.execute("SELECT count(*) FROM backup_catalogue").fetchone() == (0,)
