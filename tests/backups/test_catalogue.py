"""The backup catalogue: SQLite backups taken into a real store, failures recorded, pruning by keep rules."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.backups.archive import MANIFEST_SUFFIX
from watchkeeper.backups.catalogue import BackupState, entries
from watchkeeper.backups.runner import prune, run_backup, source_of
from watchkeeper.backups.sources import BackupError, FilesSource, SourceKind, SqliteSource
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def app_database(directory: Path) -> Path:
    """Write a small SQLite database the backups are taken of."""
    path = directory / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ana'), ('bo')")
    return path


def sqlite_backup(**extra: Any) -> Backup:
    return Backup.model_validate(
        {"name": "app-db", "source": {"sqlite": "app.db"}, "to": "backups"} | extra
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_relative_paths_count_from_the_config_directory(tmp_path: Path) -> None:
    files = Backup.model_validate(
        {"name": "docs", "source": {"files": ["docs", "/srv/www"]}, "to": "b"}
    )

    assert source_of(sqlite_backup(), tmp_path) == SqliteSource(tmp_path / "app.db")
    assert source_of(files, tmp_path) == FilesSource((tmp_path / "docs", Path("/srv/www")))


async def test_two_backups_are_listed_newest_first_with_their_files_checksum_and_size(
    any_store: Store, tmp_path: Path
) -> None:
    app_database(tmp_path)
    backup = sqlite_backup()

    first = await run_backup(any_store.engine, backup, tmp_path, Secrets(), T0)
    second = await run_backup(
        any_store.engine, backup, tmp_path, Secrets(), T0 + timedelta(hours=1)
    )

    with any_store.engine.connect() as connection:
        listed = entries(connection, "app-db")
    assert [e.id for e in listed] == [second.id, first.id]
    for entry in listed:
        assert entry.state is BackupState.OK and entry.kind is SourceKind.SQLITE
        assert entry.path is not None and entry.path.parent == tmp_path / "backups"
        assert entry.size == entry.path.stat().st_size
        assert entry.sha256 == sha256_of(entry.path)
        manifest = json.loads(
            entry.path.with_name(entry.path.name + MANIFEST_SUFFIX).read_text(encoding="utf-8")
        )
        assert (manifest["sha256"], manifest["size"]) == (entry.sha256, entry.size)
        assert entry.error is None and entry.pruned_at is None
    assert listed[0].started_at == T0 + timedelta(hours=1)


async def test_a_failing_source_records_a_failed_entry_with_its_error_redacted(
    any_store: Store, tmp_path: Path
) -> None:
    backup = sqlite_backup(source={"sqlite": "gone-hunter2.db"})

    with pytest.raises(BackupError, match="not found"):
        await run_backup(any_store.engine, backup, tmp_path, Secrets(["hunter2"]), T0)

    with any_store.engine.connect() as connection:
        [failed] = entries(connection, "app-db")
    assert failed.state is BackupState.FAILED
    assert failed.path is None and failed.size is None and failed.sha256 is None
    assert failed.error is not None and "SQLite database not found" in failed.error
    assert "hunter2" not in failed.error and "***" in failed.error
    assert not any((tmp_path / "backups").iterdir())


async def taken_on_three_days(store: Store, directory: Path, backup: Backup) -> list[Path]:
    """Take a backup on each of three days (two on the last), returning their files oldest first."""
    app_database(directory)
    times = [T0, T0 + timedelta(days=1), T0 + timedelta(days=2), T0 + timedelta(days=2, hours=3)]
    taken = [await run_backup(store.engine, backup, directory, Secrets(), t) for t in times]
    return [e.path for e in taken if e.path is not None]


async def test_prune_keeps_the_newest_of_the_last_day_and_deletes_the_older_files(
    any_store: Store, tmp_path: Path
) -> None:
    backup = sqlite_backup(keep={"daily": 1, "weekly": 0, "monthly": 0})
    oldest, middle, same_day, newest = await taken_on_three_days(any_store, tmp_path, backup)
    now = T0 + timedelta(days=3)

    removed = prune(any_store.engine, backup, UTC_ZONE, now)

    assert [e.path for e in removed] == [oldest, middle, same_day]
    assert all(e.pruned_at == now for e in removed)
    for path in (oldest, middle, same_day):
        assert not path.exists()
        assert not path.with_name(path.name + MANIFEST_SUFFIX).exists()
    assert newest.exists() and newest.with_name(newest.name + MANIFEST_SUFFIX).exists()
    with any_store.engine.connect() as connection:
        marked = {e.path: e.pruned_at for e in entries(connection, "app-db")}
    assert marked == {oldest: now, middle: now, same_day: now, newest: None}
    # Already pruned entries are not pruned again.
    assert prune(any_store.engine, backup, UTC_ZONE, now + timedelta(hours=1)) == []


async def test_a_dry_run_prune_names_the_backups_but_removes_nothing(
    any_store: Store, tmp_path: Path
) -> None:
    backup = sqlite_backup(keep={"daily": 1, "weekly": 0, "monthly": 0})
    paths = await taken_on_three_days(any_store, tmp_path, backup)

    would = prune(any_store.engine, backup, UTC_ZONE, T0 + timedelta(days=3), dry_run=True)

    assert [e.path for e in would] == paths[:3]
    assert all(p.exists() and p.with_name(p.name + MANIFEST_SUFFIX).exists() for p in paths)
    with any_store.engine.connect() as connection:
        assert all(e.pruned_at is None for e in entries(connection, "app-db"))


async def test_the_only_good_backup_is_kept_even_when_no_rule_keeps_it(
    any_store: Store, tmp_path: Path
) -> None:
    app_database(tmp_path)
    backup = sqlite_backup(keep={"daily": 0, "weekly": 0, "monthly": 0})
    [only] = [await run_backup(any_store.engine, backup, tmp_path, Secrets(), T0)]
    failing = sqlite_backup(source={"sqlite": "missing.db"}, keep=backup.keep)
    with pytest.raises(BackupError):
        await run_backup(any_store.engine, failing, tmp_path, Secrets(), T0 + timedelta(days=1))

    assert prune(any_store.engine, backup, UTC_ZONE, T0 + timedelta(days=2)) == []
    assert only.path is not None and only.path.exists()
