"""Putting a backup back: over its own source, or into another database, SQLite file or directory.

The file's SHA-256 is checked first; what a target already holds is reported, so that an
interface can ask before anything is overwritten.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from watchkeeper.backups.archive import verify_checksum
from watchkeeper.backups.catalogue import BackupState, Entry
from watchkeeper.backups.runner import source_of
from watchkeeper.backups.sources import (
    BackupError,
    FilesSource,
    PostgresSource,
    SourceKind,
    SqliteSource,
    database_tables,
    restore_database,
    restore_directories,
)
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets


class ChecksumMismatch(BackupError):
    """The backup file no longer matches the SHA-256 recorded when it was taken."""


@dataclass(frozen=True)
class DatabaseTarget:
    """A PostgreSQL database, created by the restore when it does not exist."""

    url: str = field(repr=False)  # it may hold the password

    @property
    def kind(self) -> SourceKind:
        """Return SourceKind.POSTGRES."""
        return SourceKind.POSTGRES

    def describe(self) -> str:
        """Return the database's URL without its password."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return Secrets().redact(self.url)


@dataclass(frozen=True)
class SqliteTarget:
    """A SQLite file, replaced in one rename once the restored copy passes its integrity check."""

    path: Path

    @property
    def kind(self) -> SourceKind:
        """Return SourceKind.SQLITE."""
        return SourceKind.SQLITE

    def describe(self) -> str:
        """Return the file's path."""
        return str(self.path)


@dataclass(frozen=True)
class DirectoryTarget:
    """One directory the archive is extracted into as it is: each backed-up directory becomes a
    subdirectory of it, under its own name."""

    path: Path

    @property
    def kind(self) -> SourceKind:
        """Return SourceKind.FILES."""
        return SourceKind.FILES

    def describe(self) -> str:
        """Return the directory's path."""
        return str(self.path)


@dataclass(frozen=True)
class SourceDirectories:
    """The directories a files backup was taken from, each getting back its own part of the
    archive (see sources.files.restore_directories for the mapping)."""

    directories: tuple[Path, ...]

    @property
    def kind(self) -> SourceKind:
        """Return SourceKind.FILES."""
        return SourceKind.FILES

    def describe(self) -> str:
        """Return the directories' paths."""
        return ", ".join(map(str, self.directories))


Target = DatabaseTarget | SqliteTarget | DirectoryTarget | SourceDirectories


@dataclass(frozen=True)
class RestoreOutcome:
    """A finished restore: which entry went where, and how long the restore itself took."""

    entry: Entry
    target: Target
    seconds: float


def default_target(backup: Backup, config_dir: Path, store_url: str | None = None) -> Target:
    """Given a configured backup, its config's directory and the store's URL, return its own
    source as a restore target."""
    source = source_of(backup, config_dir, store_url)
    if isinstance(source, PostgresSource):
        return DatabaseTarget(source.url)
    if isinstance(source, SqliteSource):
        return SqliteTarget(source.path)
    assert isinstance(source, FilesSource)  # source_of makes exactly three kinds
    return SourceDirectories(tuple(source.directories))


def target_from(kind: SourceKind, given: str) -> Target:
    """Given a backup's kind and a target a user named (a PostgreSQL URL, a SQLite file, a
    directory), return that target; relative paths count from the working directory."""
    if kind is SourceKind.POSTGRES:
        try:
            backend = make_url(given).get_backend_name()
        except ArgumentError:
            backend = None
        if backend not in ("postgres", "postgresql"):
            raise BackupError(
                f"a PostgreSQL backup restores into a postgresql:// URL, not {Secrets().redact(given)}"
            )
        return DatabaseTarget(given)
    if kind is SourceKind.SQLITE:
        return SqliteTarget(Path(given).expanduser().resolve())
    return DirectoryTarget(Path(given).expanduser().resolve())


async def existing_data(target: Target) -> str | None:
    """Given a restore target, return what it already holds that a restore would overwrite, or
    None when it holds nothing (a database without tables in ``public``, no file, empty dirs)."""
    if isinstance(target, DatabaseTarget):
        tables = await database_tables(target.url)
        if not tables:
            return None
        return f"the database {target.describe()} ({tables} table{'' if tables == 1 else 's'})"
    if isinstance(target, SqliteTarget):
        return f"the SQLite file {target.path}" if target.path.exists() else None
    directories = target.directories if isinstance(target, SourceDirectories) else (target.path,)
    full = [d for d in directories if d.is_dir() and any(d.iterdir())]
    if not full:
        return None
    return f"the non-empty director{'y' if len(full) == 1 else 'ies'} {', '.join(map(str, full))}"


async def restore_entry(
    backup: Backup, entry: Entry, target: Target, secrets: Secrets
) -> RestoreOutcome:
    """Check the SHA-256 of the catalogue ``entry`` of ``backup`` and restore it into ``target``.

    Raises ChecksumMismatch when the file changed, BackupError (redacted) when the entry is not a
    good, unpruned backup of ``backup``, its file is gone, its kind is not the target's, or the
    restore fails.
    """
    path = _restorable(backup, entry, target)
    if not await asyncio.to_thread(verify_checksum, path, entry.sha256 or ""):
        raise ChecksumMismatch(
            f"{path} does not match its recorded SHA-256: it changed or is corrupt"
        )
    if isinstance(target, DatabaseTarget):
        secrets = _with_password(secrets, target.url)
    started = time.perf_counter()
    try:
        await _restore(path, target, backup.timeout)
    except BackupError as exc:
        raise BackupError(secrets.redact(str(exc))) from None
    return RestoreOutcome(entry, target, time.perf_counter() - started)


def _restorable(backup: Backup, entry: Entry, target: Target) -> Path:
    """Return the entry's file, or raise BackupError saying why it cannot be restored."""
    if entry.backup != backup.name:
        raise BackupError(
            f"catalogue entry {entry.id} belongs to {entry.backup}, not {backup.name}"
        )
    if entry.state is not BackupState.OK or entry.path is None or entry.sha256 is None:
        raise BackupError(f"catalogue entry {entry.id} is a failed attempt: nothing to restore")
    if entry.pruned_at is not None:
        raise BackupError(f"catalogue entry {entry.id} was pruned: its file is gone")
    if entry.kind is not target.kind:
        raise BackupError(
            f"catalogue entry {entry.id} is a {entry.kind.value} backup; "
            f"it cannot be restored into a {target.kind.value} target"
        )
    if not entry.path.is_file():
        raise BackupError(f"backup file missing: {entry.path}")
    return entry.path


async def _restore(path: Path, target: Target, timeout: float) -> None:
    if isinstance(target, DatabaseTarget):
        await restore_database(path, target.url, timeout)
    elif isinstance(target, SqliteTarget):
        await SqliteSource(target.path).restore(path, target.path)
    elif isinstance(target, DirectoryTarget):
        await FilesSource(()).restore(path, target.path)
    else:
        await restore_directories(path, target.directories)


def _with_password(secrets: Secrets, url: str) -> Secrets:
    """Return ``secrets`` plus the password in ``url``, which the server's errors could echo."""
    try:
        password = make_url(url).password
    except ArgumentError:
        return secrets
    return Secrets([*secrets.values, str(password)]) if password else secrets
