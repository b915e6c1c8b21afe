"""Taking a configured backup into the catalogue, and pruning the catalogue by its keep rules."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from watchkeeper.backups.archive import MANIFEST_SUFFIX, take
from watchkeeper.backups.catalogue import (
    BackupState,
    Entry,
    entries,
    mark_pruned,
    record_failed,
    record_taken,
)
from watchkeeper.backups.retention import Keep, pruned
from watchkeeper.backups.sources import (
    BackupError,
    BackupSource,
    FilesSource,
    PostgresSource,
    SqliteSource,
)
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets

log = logging.getLogger("watchkeeper.backups")


def source_of(backup: Backup, config_dir: Path) -> BackupSource:
    """Given a configured backup and its config file's directory, return its source (relative
    SQLite and directory paths count from that directory)."""
    given = backup.source
    if given.postgres is not None:
        return PostgresSource(given.postgres, timeout=backup.timeout)
    if given.sqlite is not None:
        return SqliteSource(config_dir / given.sqlite)
    assert given.files is not None  # the config allows exactly one kind
    return FilesSource(tuple(config_dir / directory for directory in given.files))


def target_dir(backup: Backup, config_dir: Path) -> Path:
    """Given a configured backup and its config file's directory, return where its files go."""
    return config_dir / backup.to


async def run_backup(
    engine: Engine, backup: Backup, config_dir: Path, secrets: Secrets, now: datetime
) -> Entry:
    """Take ``backup`` now and record it in the catalogue; a failure is recorded (redacted) and
    its BackupError raised again."""
    source = source_of(backup, config_dir)
    try:
        taken = await take(source, target_dir(backup, config_dir), backup.name, now)
    except BackupError as exc:
        with engine.begin() as connection:
            record_failed(connection, backup.name, source.kind, str(exc), secrets, now, now)
        raise
    with engine.begin() as connection:
        entry = record_taken(
            connection, backup.name, taken, now, now + timedelta(seconds=taken.duration)
        )
    log.info("backed up %s to %s (%d bytes)", backup.name, taken.path, taken.manifest.size)
    return entry


def prune(
    engine: Engine, backup: Backup, tz: ZoneInfo, now: datetime, dry_run: bool = False
) -> list[Entry]:
    """Delete the good backups of ``backup`` its keep rules do not keep (file and manifest), mark
    them pruned, and return them oldest first; with ``dry_run`` only return them."""
    with engine.connect() as connection:
        live = [
            e
            for e in entries(connection, backup.name)
            if e.state is BackupState.OK and e.pruned_at is None
        ]
    rules = backup.keep
    keep = Keep(rules.hourly, rules.daily, rules.weekly, rules.monthly, rules.yearly)
    doomed = set(pruned([e.started_at for e in live], keep, tz))
    going = sorted((e for e in live if e.started_at in doomed), key=lambda e: e.started_at)
    if dry_run:
        for entry in going:
            log.info("would prune %s backup %s", backup.name, entry.path)
        return going
    removed: list[Entry] = []
    for entry in going:
        assert entry.path is not None  # every good entry has its file
        try:
            entry.path.unlink(missing_ok=True)
            entry.path.with_name(entry.path.name + MANIFEST_SUFFIX).unlink(missing_ok=True)
        except OSError as exc:
            raise BackupError(f"cannot delete {entry.path}: {exc.strerror}") from None
        # One entry at a time: those deleted before a failure stay marked, and are not retried.
        with engine.begin() as connection:
            mark_pruned(connection, [entry.id], now)
        log.info("pruned %s backup %s", backup.name, entry.path)
        removed.append(replace(entry, pruned_at=now))
    return removed
