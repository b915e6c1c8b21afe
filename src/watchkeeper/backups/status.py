"""Where one backup stands: its newest good copy, its last attempt, its last restore test, and the
figures a ``backup`` check judges (``age``, ``size``, ``last_verified_age``, ``last_restore_time``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from watchkeeper.backups.catalogue import BackupState, Entry, entries, entry_of
from watchkeeper.backups.verify import VerificationResult, VerifyOutcome, recent_verifications
from watchkeeper.config.backups import Backup
from watchkeeper.store.tables import backup_catalogue, backup_verifications


@dataclass(frozen=True)
class BackupStatus:
    """One backup's state in the catalogue; ``newest`` is its newest good, unpruned copy."""

    name: str
    newest: Entry | None
    last_attempt: Entry | None
    kept: int
    kept_bytes: int
    last_verification: VerificationResult | None
    last_passed: datetime | None

    @property
    def last_failed(self) -> bool:
        """Return True when the latest attempt to take this backup failed."""
        return self.last_attempt is not None and self.last_attempt.state is BackupState.FAILED

    def measurements(self, now: datetime, max_age: float | None) -> dict[str, Any]:
        """Given the time now and the backup's ``max_age``, return the figures a ``backup`` check
        judges; those not known yet (no copy, never restored) are left out, so conditions on them
        stay undecided rather than pass."""
        verified = self.last_verification
        figures: dict[str, Any] = {
            "count": self.kept,
            "total_size": self.kept_bytes,
            "last_failed": self.last_failed,
            "verify_failed": verified is not None and verified.outcome is VerifyOutcome.FAILED,
        }
        if self.last_failed and self.last_attempt is not None:
            figures["last_error"] = self.last_attempt.error
        if self.newest is not None:
            figures["age"] = max(0.0, (now - self.newest.finished_at).total_seconds())
            figures["size"] = self.newest.size
        if max_age is not None:
            figures["max_age"] = max_age
        if self.last_passed is not None:
            figures["last_verified_age"] = max(0.0, (now - self.last_passed).total_seconds())
        if verified is not None and verified.restore_seconds is not None:
            figures["last_restore_time"] = verified.restore_seconds
        return figures


def figures_reader(
    engine: Engine, backups: Callable[[], Sequence[Backup]]
) -> Callable[[str], dict[str, Any]]:
    """Given the store's engine and where the configured backups are read from (they change on a
    reload), return what ``backup`` checks read their figures with."""

    def read(name: str) -> dict[str, Any]:
        backup = next(b for b in backups() if b.name == name)
        with engine.connect() as connection:
            status = backup_status(connection, name)
        return status.measurements(datetime.now(UTC), backup.max_age)

    return read


def backup_status(connection: Connection, name: str) -> BackupStatus:
    """Return where the backup ``name`` stands, from five small queries on the catalogue."""
    catalogue = backup_catalogue.c
    good = (catalogue.backup == name) & (catalogue.state == BackupState.OK.value)
    live = good & catalogue.pruned_at.is_(None)
    newest_row = connection.execute(
        select(backup_catalogue)
        .where(live)
        .order_by(catalogue.finished_at.desc(), catalogue.id.desc())
        .limit(1)
    ).first()
    last = entries(connection, name, limit=1)
    kept, kept_bytes = connection.execute(
        select(func.count(), func.coalesce(func.sum(catalogue.size), 0)).where(live)
    ).one()
    verified = recent_verifications(connection, name, limit=1)
    last_passed = connection.scalar(
        select(func.max(backup_verifications.c.at))
        .join(backup_catalogue, backup_catalogue.c.id == backup_verifications.c.catalogue_id)
        .where(
            (catalogue.backup == name)
            & (backup_verifications.c.outcome == VerifyOutcome.PASSED.value)
        )
    )
    return BackupStatus(
        name=name,
        newest=entry_of(newest_row) if newest_row is not None else None,
        last_attempt=last[0] if last else None,
        kept=int(kept),
        kept_bytes=int(kept_bytes),
        last_verification=verified[0] if verified else None,
        last_passed=last_passed,
    )
