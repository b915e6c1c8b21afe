"""SQLite backups through SQLite's online backup API, safe while other processes write."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from watchkeeper.backups.sources.base import BackupError, SourceKind

BUSY_TIMEOUT = 30.0
"""Seconds the backup waits for a writer's lock before giving up."""


@dataclass(frozen=True)
class SqliteSource:
    """A SQLite database file."""

    path: Path

    @property
    def kind(self) -> SourceKind:
        """Return SourceKind.SQLITE."""
        return SourceKind.SQLITE

    async def dump(self, target: Path) -> None:
        """Copy a consistent snapshot of the database into the new file ``target``."""
        await asyncio.to_thread(self._dump, target)

    async def restore(self, archive: Path, into: str | Path) -> None:
        """Copy ``archive`` to the path ``into`` (replaced only once the copy passes
        ``PRAGMA integrity_check``, and after an existing database's write-ahead log is emptied,
        so none of it is replayed onto the restored copy)."""
        await asyncio.to_thread(_restore, archive, Path(into))

    def _dump(self, target: Path) -> None:
        if not self.path.is_file():
            raise BackupError(f"SQLite database not found: {self.path}")
        try:
            # Read-only, so a mistyped path never creates an empty database to back up.
            source = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT
            )
            with contextlib.closing(source), contextlib.closing(sqlite3.connect(target)) as copy:
                # One step copies every page inside one read transaction: a consistent snapshot.
                # In WAL mode writers carry on meanwhile; in rollback mode they wait for it.
                source.backup(copy, pages=-1)
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite backup of {self.path} failed: {exc}") from None


def _restore(archive: Path, into: Path) -> None:
    into.parent.mkdir(parents=True, exist_ok=True)
    partial = into.with_name(f".{into.name}.partial")
    try:
        shutil.copyfile(archive, partial)
        problems = integrity_problems(partial)
        if problems:
            raise BackupError(f"{archive.name} is corrupt: {'; '.join(problems[:5])}")
        _empty_wal(into)
        os.replace(partial, into)
    finally:
        partial.unlink(missing_ok=True)


def _empty_wal(database: Path) -> None:
    """Checkpoint and truncate the write-ahead log of ``database``: frames left in it would be
    applied to whatever file takes the database's name."""
    wal = database.with_name(database.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return
    try:
        with contextlib.closing(sqlite3.connect(database, timeout=BUSY_TIMEOUT)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot empty the write-ahead log of {database}: {exc}") from None
    if wal.exists() and wal.stat().st_size > 0:
        raise BackupError(
            f"{database} is in use (its write-ahead log cannot be emptied): stop what uses it"
        )


def integrity_problems(path: Path) -> list[str]:
    """Given a SQLite file, return what ``PRAGMA integrity_check`` finds wrong (empty when ok)."""
    if not path.is_file():
        return [f"{path} does not exist"]
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            rows = db.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.Error as exc:
        return [str(exc)]
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found
