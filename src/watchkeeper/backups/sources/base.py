"""The contract every backup source keeps: dump to a file, restore that file into a scratch target."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Protocol


class BackupError(Exception):
    """A backup or restore failed; the message is safe to show and store (no passwords)."""


class SourceKind(StrEnum):
    """What a backup was taken from; it decides the backup file's extension."""

    POSTGRES = "postgres"
    SQLITE = "sqlite"
    FILES = "files"

    @property
    def extension(self) -> str:
        """Return the extension of this kind's backup files, dot included."""
        return _EXTENSIONS[self]


_EXTENSIONS = {
    SourceKind.POSTGRES: ".dump",
    SourceKind.SQLITE: ".sqlite",
    SourceKind.FILES: ".tar.gz",
}


class BackupSource(Protocol):
    """Something that can be backed up into one file and restored from it.

    Both methods raise BackupError with a message safe to show; ``kind`` names the format.
    """

    @property
    def kind(self) -> SourceKind:
        """Return what this source is, for the file's extension and the manifest."""
        ...

    async def dump(self, target: Path) -> None:
        """Write a complete backup to ``target`` (a new file; the caller renames it when done)."""
        ...

    async def restore(self, archive: Path, into: str | Path) -> None:
        """Restore the backup ``archive`` into the scratch target ``into``."""
        ...
