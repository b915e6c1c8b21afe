"""Directory backups: one gzip-compressed tar of one or more directories."""

from __future__ import annotations

import asyncio
import tarfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from watchkeeper.backups.sources.base import BackupError, SourceKind


@dataclass(frozen=True)
class FilesSource:
    """Directories, each stored in the tar under its own name (its path relative to its parent)."""

    directories: Sequence[Path]

    @property
    def kind(self) -> SourceKind:
        """Return SourceKind.FILES."""
        return SourceKind.FILES

    async def dump(self, target: Path) -> None:
        """Write every directory into the new gzip-compressed tar ``target``."""
        await asyncio.to_thread(self._dump, target)

    async def restore(self, archive: Path, into: str | Path) -> None:
        """Extract ``archive`` into the directory ``into``; refuse members that would land
        outside it, extracting nothing."""
        await asyncio.to_thread(_extract, archive, Path(into))

    def _dump(self, target: Path) -> None:
        if not self.directories:
            raise BackupError("no directories to back up")
        names: dict[str, Path] = {}
        for directory in self.directories:
            if not directory.is_dir():
                raise BackupError(f"not a directory: {directory}")
            name = directory.resolve().name
            if name in names:
                raise BackupError(
                    f"{names[name]} and {directory} would share the name {name!r} in the archive"
                )
            names[name] = directory
        try:
            with tarfile.open(target, "w:gz") as tar:
                for name, directory in names.items():
                    tar.add(directory, arcname=name)
        except OSError as exc:
            raise BackupError(f"cannot archive {exc.filename or target}: {exc.strerror}") from None


def _extract(archive: Path, into: Path) -> None:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                unsafe = _unsafe(member.name)
                if unsafe:
                    raise BackupError(f"{archive.name}: refusing member {member.name!r}: {unsafe}")
            into.mkdir(parents=True, exist_ok=True)
            # The data filter also refuses links out of the target, devices and odd modes.
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{archive.name} cannot be extracted: {exc}") from None


def _unsafe(name: str) -> str | None:
    """Given a member's name, return why extracting it could escape the target, or None."""
    path = PurePosixPath(name)
    if path.is_absolute():
        return "absolute path"
    if ".." in path.parts:
        return "path goes up with '..'"
    return None
