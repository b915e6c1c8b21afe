"""Directory backups: one gzip-compressed tar of one or more directories, each under its own name."""

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


async def restore_directories(archive: Path, directories: Sequence[Path]) -> None:
    """Extract ``archive`` back into the directories it was taken from.

    FilesSource stores each directory under its own name, so the member ``NAME/a/b`` goes to
    ``a/b`` in the directory whose name is NAME. Files in the backup replace their current
    versions; files added since the backup stay; a directory the backup does not hold is left
    alone. A member that belongs to none of ``directories`` or would land outside its directory
    is refused before anything is extracted.
    """
    await asyncio.to_thread(_extract_home, archive, directories)


def _extract(archive: Path, into: Path) -> None:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                _check(archive, member, into)
            into.mkdir(parents=True, exist_ok=True)
            # The data filter also refuses links out of the target, devices and odd modes.
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{archive.name} cannot be extracted: {exc}") from None


def _extract_home(archive: Path, directories: Sequence[Path]) -> None:
    homes = {directory.resolve().name: directory for directory in directories}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            placed: dict[Path, list[tarfile.TarInfo]] = {}
            for member in tar.getmembers():
                top, _, rest = member.name.strip("/").partition("/")
                home = homes.get(top)
                if home is None:
                    raise BackupError(
                        f"{archive.name}: {top!r} is none of the directories "
                        f"{', '.join(sorted(homes))}"
                    )
                if not rest:
                    continue  # the directory itself: it is the target
                moved = member.replace(name=rest, deep=False)
                if member.islnk():
                    link_top, _, link_rest = member.linkname.partition("/")
                    if link_top != top:
                        raise BackupError(
                            f"{archive.name}: refusing member {member.name!r}: "
                            "a hard link to another directory"
                        )
                    moved = moved.replace(linkname=link_rest, deep=False)
                _check(archive, moved, home)
                placed.setdefault(home, []).append(moved)
            for home, members in placed.items():
                home.mkdir(parents=True, exist_ok=True)
                tar.extractall(home, members=members, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{archive.name} cannot be extracted: {exc}") from None


def _check(archive: Path, member: tarfile.TarInfo, into: Path) -> None:
    """Refuse a member that could escape ``into``, before anything is extracted."""
    unsafe = _unsafe(member.name)
    if unsafe:
        raise BackupError(f"{archive.name}: refusing member {member.name!r}: {unsafe}")
    try:
        tarfile.data_filter(member, str(into))
    except tarfile.FilterError as exc:
        raise BackupError(f"{archive.name}: refusing member {member.name!r}: {exc}") from None


def _unsafe(name: str) -> str | None:
    """Given a member's name, return why extracting it could escape the target, or None."""
    path = PurePosixPath(name)
    if path.is_absolute():
        return "absolute path"
    if ".." in path.parts:
        return "path goes up with '..'"
    return None
