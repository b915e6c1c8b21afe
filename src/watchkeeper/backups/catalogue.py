"""The catalogue of backups in the store: each one taken or attempted, newest first, and its pruning."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from watchkeeper.backups.archive import Taken
from watchkeeper.backups.sources.base import SourceKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.tables import backup_catalogue


class BackupState(StrEnum):
    """How an attempt to take a backup ended."""

    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True)
class Entry:
    """One row of the catalogue; a failed attempt has no file, size or checksum, only its error."""

    id: int
    backup: str
    kind: SourceKind
    path: Path | None
    size: int | None
    sha256: str | None
    started_at: datetime
    finished_at: datetime
    state: BackupState
    error: str | None
    pruned_at: datetime | None


def record_taken(
    connection: Connection, backup: str, taken: Taken, started_at: datetime, finished_at: datetime
) -> Entry:
    """Record the backup ``taken`` of ``backup`` as a good entry, and return it."""
    return _insert(
        connection,
        backup=backup,
        kind=taken.manifest.kind.value,
        path=str(taken.path),
        size=taken.manifest.size,
        sha256=taken.manifest.sha256,
        started_at=started_at,
        finished_at=finished_at,
        state=BackupState.OK.value,
    )


def record_failed(
    connection: Connection,
    backup: str,
    kind: SourceKind,
    error: str,
    secrets: Secrets,
    started_at: datetime,
    finished_at: datetime,
) -> Entry:
    """Record a failed attempt at ``backup`` with its error (secrets redacted), and return it."""
    return _insert(
        connection,
        backup=backup,
        kind=kind.value,
        started_at=started_at,
        finished_at=finished_at,
        state=BackupState.FAILED.value,
        error=secrets.redact(error),
    )


def entries(connection: Connection, backup: str, limit: int | None = None) -> list[Entry]:
    """Return the catalogue entries of ``backup``, newest first (at most ``limit``)."""
    query = (
        select(backup_catalogue)
        .where(backup_catalogue.c.backup == backup)
        .order_by(backup_catalogue.c.finished_at.desc(), backup_catalogue.c.id.desc())
        .limit(limit)
    )
    return [entry_of(row) for row in connection.execute(query)]


def mark_pruned(connection: Connection, ids: Collection[int], now: datetime) -> None:
    """Mark the entries ``ids`` as pruned at ``now`` (their files are gone)."""
    if ids:
        connection.execute(
            update(backup_catalogue)
            .where(backup_catalogue.c.id.in_(list(ids)), backup_catalogue.c.pruned_at.is_(None))
            .values(pruned_at=now)
        )


def _insert(connection: Connection, **values: Any) -> Entry:
    new_id = connection.execute(
        insert(backup_catalogue).values(**values).returning(backup_catalogue.c.id)
    ).scalar_one()
    row = connection.execute(select(backup_catalogue).where(backup_catalogue.c.id == new_id)).one()
    return entry_of(row)


def entry_of(row: Row[Any]) -> Entry:
    """Given a row of the catalogue table, return its Entry."""
    return Entry(
        id=row.id,
        backup=row.backup,
        kind=SourceKind(row.kind),
        path=Path(row.path) if row.path is not None else None,
        size=row.size,
        sha256=row.sha256,
        started_at=row.started_at,
        finished_at=row.finished_at,
        state=BackupState(row.state),
        error=row.error,
        pruned_at=row.pruned_at,
    )
