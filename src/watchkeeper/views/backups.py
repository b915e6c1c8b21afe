"""Each configured backup as the API and the dashboard show it: where it stands, its health, its
next scheduled run, and for one backup its catalogue and restore tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from watchkeeper.backups.catalogue import Entry, entries
from watchkeeper.backups.status import BackupStatus, backup_statuses
from watchkeeper.backups.verify import VerificationResult, VerifyOutcome, recent_verifications
from watchkeeper.config.backups import Backup
from watchkeeper.config.schedules import parse_schedule


class BackupHealth(StrEnum):
    """One word for how a backup is doing."""

    OK = "ok"
    STALE = "stale"
    FAILED = "failed"
    NONE = "none"


HEALTH_RULE = (
    "failed: the last attempt failed or the last restore test failed; "
    "none: no good backup yet; "
    "stale: the newest good backup is older than max_age; "
    "ok: otherwise"
)


def health_of(status: BackupStatus, max_age: float | None, now: datetime) -> BackupHealth:
    """Given a backup's status, its ``max_age`` in seconds (None: no limit) and now, return its
    health by HEALTH_RULE; a failure outranks having no copy, which outranks staleness."""
    verified = status.last_verification
    if status.last_failed or (verified is not None and verified.outcome is VerifyOutcome.FAILED):
        return BackupHealth.FAILED
    if status.newest is None:
        return BackupHealth.NONE
    if max_age is not None and (now - status.newest.finished_at).total_seconds() > max_age:
        return BackupHealth.STALE
    return BackupHealth.OK


@dataclass(frozen=True)
class BackupView:
    """A configured backup with its status, health, the newest copy's age in seconds and the
    next time its schedule runs it (None without a schedule)."""

    backup: Backup
    status: BackupStatus
    health: BackupHealth
    age: float | None
    next_run: datetime | None


@dataclass(frozen=True)
class BackupHistory:
    """A backup's view with its catalogue entries and its restore tests, newest first."""

    view: BackupView
    entries: list[Entry]
    verifications: list[VerificationResult]


def backup_view(connection: Connection, backup: Backup, tz: ZoneInfo, now: datetime) -> BackupView:
    """Return how ``backup`` stands at ``now``; its schedule is read in the zone ``tz``."""
    [view] = backup_views(connection, [backup], tz, now)
    return view


def backup_views(
    connection: Connection, backups: Sequence[Backup], tz: ZoneInfo, now: datetime
) -> list[BackupView]:
    """Return the view of each of ``backups``, in their order."""
    statuses = backup_statuses(connection, [b.name for b in backups])
    return [_view(backup, statuses[backup.name], tz, now) for backup in backups]


def _view(backup: Backup, status: BackupStatus, tz: ZoneInfo, now: datetime) -> BackupView:
    newest = status.newest
    age = max(0.0, (now - newest.finished_at).total_seconds()) if newest is not None else None
    next_run = parse_schedule(backup.schedule, tz).next_after(now) if backup.schedule else None
    return BackupView(backup, status, health_of(status, backup.max_age, now), age, next_run)


def backup_history(
    connection: Connection, backup: Backup, tz: ZoneInfo, now: datetime, limit: int
) -> BackupHistory:
    """Return the view of ``backup`` with its newest ``limit`` catalogue entries and restore tests."""
    return BackupHistory(
        view=backup_view(connection, backup, tz, now),
        entries=entries(connection, backup.name, limit=limit),
        verifications=recent_verifications(connection, backup.name, limit=limit),
    )
