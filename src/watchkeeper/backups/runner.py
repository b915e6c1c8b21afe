"""Taking a configured backup into the catalogue, and pruning the catalogue by its keep rules."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError

from watchkeeper.backups.archive import MANIFEST_SUFFIX, remove_stale_partials, take
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

STORE_BACKUP_NAME = "watchkeeper-store"
"""The name of Watchkeeper's own store's backup when the config has none of its own."""


def source_of(backup: Backup, config_dir: Path, store_url: str | None = None) -> BackupSource:
    """Given a configured backup, its config file's directory and the store's URL, return its
    source (relative SQLite and directory paths count from that directory).

    Raises BackupError for a ``watchkeeper_store`` source when ``store_url`` is not given.
    """
    given = backup.source
    if given.postgres is not None:
        return PostgresSource(given.postgres, timeout=backup.timeout)
    if given.sqlite is not None:
        return SqliteSource((config_dir / given.sqlite).resolve())
    if given.files is not None:
        return FilesSource(tuple((config_dir / directory).resolve() for directory in given.files))
    if store_url is None:
        raise BackupError(f"backup {backup.name} backs up the store, but its URL was not given")
    return store_source(store_url, backup.timeout)


def store_source(store_url: str, timeout: float) -> PostgresSource | SqliteSource:
    """Given the store's URL (``sqlite:///PATH``, a bare path, or ``postgresql://…``), return the
    source that backs it up."""
    if "://" not in store_url:
        return SqliteSource(Path(store_url).expanduser().resolve())
    try:
        url = make_url(store_url)
    except ArgumentError:
        raise BackupError("the store's URL cannot be read") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise BackupError("an in-memory store has nothing to back up")
        return SqliteSource(Path(url.database).expanduser().resolve())
    if backend in ("postgres", "postgresql"):
        return PostgresSource(url.render_as_string(hide_password=False), timeout=timeout)
    raise BackupError(f"cannot back up a {backend} store")


def store_url_of(engine: Engine) -> str:
    """Given the store's engine, return the store's URL, password included."""
    return engine.url.render_as_string(hide_password=False)


def store_backup(configured: Sequence[Backup]) -> Backup:
    """Given the configured backups, return the one of Watchkeeper's own store, or else
    ``watchkeeper-store`` into ``backups/watchkeeper-store`` (beside the config) with default
    keep rules."""
    return next(
        (b for b in configured if b.source.watchkeeper_store),
        Backup.model_validate(
            {
                "name": STORE_BACKUP_NAME,
                "source": {"watchkeeper_store": True},
                "to": f"backups/{STORE_BACKUP_NAME}",
            }
        ),
    )


def target_dir(backup: Backup, config_dir: Path) -> Path:
    """Given a configured backup and its config file's directory, return where its files go."""
    # Absolute: the catalogue keeps this path, and later commands may run from anywhere.
    return (config_dir / backup.to).resolve()


async def run_backup(
    engine: Engine,
    backup: Backup,
    config_dir: Path,
    secrets: Secrets,
    now: datetime,
    store_url: str | None = None,
) -> Entry:
    """Take ``backup`` now and record it in the catalogue; a failure is recorded (redacted) and
    its BackupError raised again.

    A ``watchkeeper_store`` source backs up ``store_url``, by default the store of ``engine``.
    Partial files that a crashed run of this backup left, older than its timeout, go first.
    """
    source = source_of(backup, config_dir, store_url or store_url_of(engine))
    directory = target_dir(backup, config_dir)
    try:
        remove_stale_partials(directory, backup.name, backup.timeout, now)
        taken = await take(source, directory, backup.name, now)
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
            if not entry.path.exists():
                log.warning("%s backup %s was already gone", backup.name, entry.path)
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
