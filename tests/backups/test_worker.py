"""The backup worker takes, prunes and restore-tests backups on their schedules, on both stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watchkeeper.backups.catalogue import BackupState, entries
from watchkeeper.backups.verify import VerifyOutcome, recent_verifications
from watchkeeper.backups.worker import BackupWorker
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)  # a Friday


def _config(tmp_path: Path) -> Config:
    with sqlite3.connect(tmp_path / "app.sqlite") as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO users DEFAULT VALUES")
    return Config.model_validate(
        {
            "backups": [
                {
                    "name": "broken",
                    "source": {"sqlite": "missing.sqlite"},
                    "to": "backups/broken",
                    "schedule": "daily at 02:00",
                },
                {
                    "name": "app",
                    "source": {"sqlite": "app.sqlite"},
                    "to": "backups/app",
                    "schedule": "daily at 02:00",
                    "keep": {"daily": 2, "weekly": 0, "monthly": 0},
                    "verify": {
                        "schedule": "weekly on sunday at 03:00",
                        "smoke": ["SELECT count(*) FROM users"],
                    },
                },
                {"name": "by-hand", "source": {"sqlite": "app.sqlite"}, "to": "backups/hand"},
            ]
        }
    )


async def test_a_first_start_takes_and_tests_each_scheduled_backup_at_once(
    any_store: Store, tmp_path: Path
) -> None:
    worker = BackupWorker(any_store.engine, _config(tmp_path), tmp_path, Secrets())

    ran = await worker.step(T0)
    again = await worker.step(T0 + timedelta(seconds=10))

    assert ran == 3  # app and broken taken, app tested; by-hand has no schedule
    assert again == 0
    with any_store.engine.connect() as connection:
        [taken] = entries(connection, "app")
        [failed] = entries(connection, "broken")
        [tested] = recent_verifications(connection, "app")
        assert entries(connection, "by-hand") == []
    assert taken.state is BackupState.OK and taken.path is not None and taken.path.is_file()
    assert failed.state is BackupState.FAILED and failed.error
    assert tested.outcome is VerifyOutcome.PASSED and tested.catalogue_id == taken.id


async def test_each_day_takes_one_backup_and_prunes_what_its_keep_rules_drop(
    any_store: Store, tmp_path: Path
) -> None:
    worker = BackupWorker(any_store.engine, _config(tmp_path), tmp_path, Secrets())
    await worker.step(T0)
    for day in range(1, 5):
        night = datetime(2026, 11, 20 + day, 2, 0, 30, tzinfo=UTC)
        await worker.step(night)
        await worker.step(night + timedelta(minutes=1))

    with any_store.engine.connect() as connection:
        app = entries(connection, "app")
        tested = recent_verifications(connection, "app")
    kept = [e for e in app if e.pruned_at is None]
    assert len(app) == 5
    assert [e.started_at.day for e in kept] == [24, 23]
    assert all(e.path is not None and e.path.is_file() for e in kept)
    assert all(e.path is not None and not e.path.exists() for e in app if e.pruned_at)
    # Sunday 22 November 03:00 fell between two steps: the next one (on the 23rd) ran it, once.
    assert [v.at.day for v in tested] == [23, 20]


async def test_a_restore_test_waits_for_the_first_good_copy_instead_of_skipping_its_period(
    any_store: Store, tmp_path: Path
) -> None:
    config = Config.model_validate(
        {
            "backups": [
                {
                    "name": "late",
                    "source": {"sqlite": "late.sqlite"},
                    "to": "backups/late",
                    "schedule": "daily at 02:00",
                    "verify": {"schedule": "monthly on the first sunday at 03:00"},
                }
            ]
        }
    )
    worker = BackupWorker(any_store.engine, config, tmp_path, Secrets())

    assert await worker.step(T0) == 1  # the take, which fails: the source is missing
    with sqlite3.connect(tmp_path / "late.sqlite") as connection:
        connection.execute("CREATE TABLE t (x)")
    next_night = datetime(2026, 11, 21, 2, 0, 30, tzinfo=UTC)
    assert await worker.step(next_night) == 2

    with any_store.engine.connect() as connection:
        [tested] = recent_verifications(connection, "late")
    assert tested.outcome is VerifyOutcome.PASSED
