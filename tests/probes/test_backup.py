"""Backup checks judge a real catalogue: fresh, too old, failed, never taken, with user thresholds."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.config.test_loader import write
from watchkeeper.backups.catalogue import record_failed
from watchkeeper.backups.runner import run_backup
from watchkeeper.backups.sources import SourceKind
from watchkeeper.backups.status import figures_reader
from watchkeeper.backups.verify import latest_good, verify_backup
from watchkeeper.config.loader import LoadedConfig, load_config
from watchkeeper.config.secrets import Secrets
from watchkeeper.engine.plan import plan_checks
from watchkeeper.engine.runner import Runner
from watchkeeper.probes import ProbeContext
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

CONFIG = """\
backups:
  - {name: app, source: {sqlite: app.sqlite}, to: backups, max_age: 48h}
checks:
  - name: app-backups-kept
    backup: {name: app}
    warn: ["count < 3"]
"""


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedConfig:
    with sqlite3.connect(tmp_path / "app.sqlite") as connection:
        connection.execute("CREATE TABLE t (x)")
    return load_config(write(tmp_path, CONFIG))


async def _run(loaded: LoadedConfig, store: Store | None, check: str) -> Result:
    figures = figures_reader(store.engine, lambda: loaded.config.backups) if store else None
    ctx = ProbeContext(backup_figures=figures)
    [plan] = [p for p in plan_checks(loaded.config) if p.name == check]
    try:
        return await Runner(ctx).run(plan)
    finally:
        await ctx.close()


async def _take(store: Store, loaded: LoadedConfig, ago: timedelta) -> None:
    [backup] = loaded.config.backups
    await run_backup(store.engine, backup, loaded.path.parent, Secrets(), datetime.now(UTC) - ago)


async def test_a_fresh_backup_passes_its_own_check(any_store: Store, loaded: LoadedConfig) -> None:
    await _take(any_store, loaded, timedelta(hours=3))

    result = await _run(loaded, any_store, "backup.app")

    assert result.status is Status.OK, result.message
    assert 3 * 3600 <= result.measurements["age"] < 3 * 3600 + 60
    assert result.measurements["size"] > 0


async def test_a_backup_older_than_max_age_is_critical_saying_how_old(
    any_store: Store, loaded: LoadedConfig
) -> None:
    await _take(any_store, loaded, timedelta(days=3))

    result = await _run(loaded, any_store, "backup.app")

    assert result.status is Status.CRITICAL
    assert result.message.startswith("expected age <= max_age (age = 3d"), result.message
    assert "max_age = 2d" in result.message


async def test_a_failed_last_attempt_is_critical_even_with_a_fresh_copy(
    any_store: Store, loaded: LoadedConfig
) -> None:
    await _take(any_store, loaded, timedelta(hours=3))
    now = datetime.now(UTC)
    with any_store.engine.begin() as connection:
        record_failed(connection, "app", SourceKind.SQLITE, "disk full", Secrets(), now, now)

    result = await _run(loaded, any_store, "backup.app")

    assert result.status is Status.CRITICAL
    assert "expected not last_failed (last_failed = true)" in result.message
    assert result.measurements["last_error"] == "disk full"


async def test_a_corrupt_copy_that_fails_its_restore_test_is_critical(
    any_store: Store, loaded: LoadedConfig
) -> None:
    await _take(any_store, loaded, timedelta(hours=3))
    [backup] = loaded.config.backups
    with any_store.engine.connect() as connection:
        entry = latest_good(connection, "app")
    assert entry is not None and entry.path is not None
    data = bytearray(entry.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.path.write_bytes(bytes(data))
    await verify_backup(
        any_store.engine, backup, entry, loaded.path.parent, Secrets(), datetime.now(UTC)
    )

    result = await _run(loaded, any_store, "backup.app")

    assert result.status is Status.CRITICAL
    assert "expected not verify_failed (verify_failed = true)" in result.message


async def test_a_backup_never_taken_is_an_error_saying_so(
    any_store: Store, loaded: LoadedConfig
) -> None:
    result = await _run(loaded, any_store, "backup.app")

    assert result.status is Status.ERROR
    assert result.message == "no good backup of app yet"


async def test_a_users_thresholds_apply_to_backup_figures(
    any_store: Store, loaded: LoadedConfig
) -> None:
    await _take(any_store, loaded, timedelta(hours=3))
    await _take(any_store, loaded, timedelta(hours=1))

    result = await _run(loaded, any_store, "app-backups-kept")

    assert result.status is Status.WARNING
    assert result.message == "count < 3 (count = 2)"


async def test_without_a_store_a_backup_check_says_it_cannot_read_one(
    loaded: LoadedConfig,
) -> None:
    result = await _run(loaded, None, "backup.app")

    assert result.status is Status.ERROR
    assert "read the store" in result.message
