"""Taking a backup file safely: a hidden temporary name, fsync, rename, SHA-256 and a manifest.

A backup file under its final name is always complete; a failed or cancelled backup leaves
nothing behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from watchkeeper import __version__
from watchkeeper.backups.sources.base import BackupError, BackupSource, SourceKind

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
"""The UTC time in a backup's file name: ``main-db-20261122T020000Z.dump``."""
MANIFEST_SUFFIX = ".manifest.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_CHUNK = 1 << 20
_STAMP = re.compile(r"\d{8}T\d{6}Z")

log = logging.getLogger("watchkeeper.backups")


@dataclass(frozen=True)
class Manifest:
    """What the JSON file beside a backup says about it (never where it came from: URLs hold passwords)."""

    file: str
    name: str
    kind: SourceKind
    created_at: datetime
    size: int
    sha256: str
    watchkeeper_version: str

    def to_json(self) -> str:
        """Return the manifest as indented JSON."""
        return json.dumps(
            {
                "file": self.file,
                "name": self.name,
                "kind": self.kind.value,
                "created_at": self.created_at.isoformat(),
                "size": self.size,
                "sha256": self.sha256,
                "watchkeeper_version": self.watchkeeper_version,
            },
            indent=2,
        )


@dataclass(frozen=True)
class Taken:
    """A backup just taken: its file, its manifest's file, and how long the dump took."""

    path: Path
    manifest_path: Path
    manifest: Manifest
    duration: float


async def take(source: BackupSource, directory: Path, name: str, now: datetime) -> Taken:
    """Back ``source`` up into ``directory`` as ``NAME-STAMP.<ext>`` with its manifest beside it.

    Raises BackupError (the source failed, or a backup with that name and time exists already).
    """
    if not _NAME.match(name):
        raise ValueError(f"backup name {name!r}: use letters, digits, '.', '_' and '-'")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    created_at = now.astimezone(UTC)
    stem = _stem(name, now)
    final = directory / f"{stem}{source.kind.extension}"
    manifest_path = final.with_name(final.name + MANIFEST_SUFFIX)
    if final.exists() or manifest_path.exists():
        raise BackupError(f"{final} exists already")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {directory}: {exc.strerror}") from None
    partial = partial_path(directory, name, now)
    manifest_partial = directory / f".{stem}.manifest.partial"
    done: list[Path] = []
    try:
        started = time.perf_counter()
        await source.dump(partial)
        duration = time.perf_counter() - started
        size, sha256 = await asyncio.to_thread(_digest_and_sync, partial)
        manifest = Manifest(
            file=final.name,
            name=name,
            kind=source.kind,
            created_at=created_at,
            size=size,
            sha256=sha256,
            watchkeeper_version=__version__,
        )
        await asyncio.to_thread(_write_synced, manifest_partial, manifest.to_json() + "\n")
        os.replace(partial, final)
        done.append(final)
        os.replace(manifest_partial, manifest_path)
        done.append(manifest_path)
        _sync_directory(directory)
    except BaseException as exc:
        for leftover in (partial, manifest_partial, *done):
            leftover.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            # A full disk or a directory gone mid-way is the backup's failure, to be recorded.
            raise BackupError(f"cannot write the backup in {directory}: {exc.strerror}") from None
        raise
    return Taken(final, manifest_path, manifest, duration)


def partial_path(directory: Path, name: str, now: datetime) -> Path:
    """Given a backup's directory, name and start time, return the file its dump is written to
    until it is complete (its size there is the progress so far)."""
    # Hidden and without the extension: nothing that lists backups mistakes it for one.
    return directory / f".{_stem(name, now)}.partial"


def remove_stale_partials(
    directory: Path, name: str, older_than: float, now: datetime
) -> list[Path]:
    """Delete the partial files a crashed backup of ``name`` left in ``directory``: those started
    and last written more than ``older_than`` seconds before ``now``; return them.

    A running backup is never one of them: it started within its timeout, and it keeps writing.
    """
    pattern = re.compile(rf"\.{re.escape(name)}-({_STAMP.pattern})\.(?:manifest\.)?partial\Z")
    cutoff = now.timestamp() - older_than
    removed: list[Path] = []
    for path in sorted(directory.glob(f".{name}-*partial")):
        found = pattern.match(path.name)
        if found is None:
            continue  # another backup's, whose name starts with this one's
        started = datetime.strptime(found[1], STAMP_FORMAT).replace(tzinfo=UTC)
        try:
            if started.timestamp() > cutoff or path.stat().st_mtime > cutoff:
                continue
            path.unlink()
        except FileNotFoundError:
            continue  # its own run finished or cleaned up meanwhile
        except OSError as exc:
            log.warning("cannot remove stale partial backup %s: %s", path, exc.strerror)
            continue
        log.info("removed stale partial backup %s (started %s)", path, started.isoformat())
        removed.append(path)
    return removed


def verify_checksum(path: Path, sha256: str) -> bool:
    """Given a file and its recorded SHA-256 (hex), return whether the file still matches it."""
    return _digest(path)[1] == sha256.lower()


def _stem(name: str, now: datetime) -> str:
    return f"{name}-{now.astimezone(UTC).strftime(STAMP_FORMAT)}"


def _digest(path: Path) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return size, hasher.hexdigest()


def _digest_and_sync(path: Path) -> tuple[int, str]:
    """Return the file's size and SHA-256, and make sure its bytes are on disk before any rename."""
    with path.open("rb") as file:
        os.fsync(file.fileno())
    return _digest(path)


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def _sync_directory(directory: Path) -> None:
    """Make the renames themselves survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
