"""Where a backup stands, and the figures its checks judge, from a real catalogue on both stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watchkeeper.backups.catalogue import record_failed
from watchkeeper.backups.runner import run_backup
from watchkeeper.backups.sources import SourceKind
from watchkeeper.backups.status import backup_status
from watchkeeper.backups.verify import verify_latest
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _sqlite_backup(tmp_path: Path, smoke: list[str]) -> Backup:
    db = tmp_path / "app.sqlite"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO users DEFAULT VALUES")
    return Backup.model_validate(
        {
            "name": "app",
            "source": {"sqlite": "app.sqlite"},
            "to": "backups",
            "max_age": "48h",
            "verify": {"smoke": smoke},
        }
    )


def test_a_backup_never_taken_has_no_age_and_nothing_failed(any_store: Store) -> None:
    with any_store.engine.connect() as connection:
        status = backup_status(connection, "app")

    figures = status.measurements(T0, 48 * 3600.0)

    assert status.newest is None and status.last_attempt is None
    assert figures == {
        "count": 0,
        "total_size": 0,
        "last_failed": False,
        "verify_failed": False,
        "max_age": 48 * 3600.0,
    }


async def test_figures_follow_the_newest_good_copy_its_last_attempt_and_restore_test(
    any_store: Store, tmp_path: Path
) -> None:
    backup = _sqlite_backup(tmp_path, ["SELECT count(*) FROM users"])
    engine = any_store.engine
    first = await run_backup(engine, backup, tmp_path, Secrets(), T0)
    second = await run_backup(engine, backup, tmp_path, Secrets(), T0 + HOUR)
    passed = await verify_latest(engine, backup, tmp_path, Secrets(), T0 + 2 * HOUR)
    assert passed is not None
    with engine.begin() as connection:
        record_failed(
            connection,
            "app",
            SourceKind.SQLITE,
            "disk full",
            Secrets(),
            T0 + 3 * HOUR,
            T0 + 3 * HOUR,
        )

    with engine.connect() as connection:
        status = backup_status(connection, "app")
    figures = status.measurements(T0 + 5 * HOUR, backup.max_age)

    assert status.newest is not None and status.newest.id == second.id
    assert status.kept == 2 and status.kept_bytes == (first.size or 0) + (second.size or 0)
    assert figures["size"] == second.size
    assert 4 * 3600 - 5 < figures["age"] <= 4 * 3600  # finished a moment after T0 + 1h
    assert figures["last_failed"] is True and figures["last_error"] == "disk full"
    assert figures["verify_failed"] is False
    assert figures["last_verified_age"] == 3 * 3600
    assert figures["last_restore_time"] == passed.restore_seconds


async def test_a_failed_restore_test_shows_but_the_last_passed_one_keeps_its_age(
    any_store: Store, tmp_path: Path
) -> None:
    backup = _sqlite_backup(tmp_path, ["SELECT count(*) FROM users"])
    engine = any_store.engine
    await run_backup(engine, backup, tmp_path, Secrets(), T0)
    await verify_latest(engine, backup, tmp_path, Secrets(), T0 + HOUR)
    failing = _sqlite_backup(tmp_path, ["SELECT count(*) > 1000 FROM users"])
    failed = await verify_latest(engine, failing, tmp_path, Secrets(), T0 + 2 * HOUR)
    assert failed is not None and failed.detail is not None

    with engine.connect() as connection:
        figures = backup_status(connection, "app").measurements(T0 + 3 * HOUR, None)

    assert figures["verify_failed"] is True
    assert figures["last_verified_age"] == 2 * 3600
    assert "max_age" not in figures
