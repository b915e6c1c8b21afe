"""Where one backup stands: its newest good copy, its last attempt, its last restore test, and the
figures a ``backup`` check judges (``age``, ``size``, ``last_verified_age``, ``last_restore_time``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from watchkeeper.backups.catalogue import BackupState, Entry, entry_of
from watchkeeper.backups.verify import VerificationResult, VerifyOutcome, result_of
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
        backup = next((b for b in backups() if b.name == name), None)
        if backup is None:  # removed by a reload while its check was running
            return {}
        with engine.connect() as connection:
            status = backup_status(connection, name)
        return status.measurements(datetime.now(UTC), backup.max_age)

    return read


def backup_status(connection: Connection, name: str) -> BackupStatus:
    """Return where the backup ``name`` stands."""
    return backup_statuses(connection, [name])[name]


def backup_statuses(connection: Connection, names: Sequence[str]) -> dict[str, BackupStatus]:
    """Return where each backup of ``names`` stands, by name, from five grouped queries (not
    five per backup: the backups page and ``/metrics`` ask for every backup at once)."""
    catalogue, checked = backup_catalogue.c, backup_verifications.c
    mine = catalogue.backup.in_(list(names))
    live = mine & (catalogue.state == BackupState.OK.value) & catalogue.pruned_at.is_(None)
    newest = _latest(connection, live)
    last_attempt = _latest(connection, mine)
    kept = {
        backup: (int(count), int(size))
        for backup, count, size in connection.execute(
            select(
                catalogue.backup,
                func.count().label("count"),
                func.coalesce(func.sum(catalogue.size), 0).label("bytes"),
            )
            .where(live)
            .group_by(catalogue.backup)
        )
    }
    tested = select(backup_verifications, catalogue.backup.label("of")).join(
        backup_catalogue, catalogue.id == checked.catalogue_id
    )
    ranked = tested.add_columns(
        func.row_number()
        .over(partition_by=catalogue.backup, order_by=(checked.at.desc(), checked.id.desc()))
        .label("rank")
    ).subquery()
    # Not filtered by name in SQL: the planner would then walk the catalogue's index of every
    # entry instead of the (far fewer) restore tests.
    wanted = set(names)
    last_tests = {
        row.of: result_of(row)
        for row in connection.execute(select(ranked).where(ranked.c.rank == 1))
        if row.of in wanted
    }
    last_passed = {
        backup: at
        for backup, at in connection.execute(
            select(catalogue.backup, func.max(checked.at))
            .join(backup_catalogue, catalogue.id == checked.catalogue_id)
            .where(checked.outcome == VerifyOutcome.PASSED.value)
            .group_by(catalogue.backup)
        )
        if backup in wanted
    }
    return {
        name: BackupStatus(
            name=name,
            newest=newest.get(name),
            last_attempt=last_attempt.get(name),
            kept=kept.get(name, (0, 0))[0],
            kept_bytes=kept.get(name, (0, 0))[1],
            last_verification=last_tests.get(name),
            last_passed=last_passed.get(name),
        )
        for name in names
    }


def _latest(connection: Connection, where: ColumnElement[bool]) -> dict[str, Entry]:
    """Return the newest catalogue entry matching ``where`` of each backup, by backup."""
    catalogue = backup_catalogue.c
    # max() per backup walks the (backup, …, finished_at) indexes; a window over every entry would
    # sort the whole catalogue.
    newest = (
        select(catalogue.backup, func.max(catalogue.finished_at).label("finished_at"))
        .where(where)
        .group_by(catalogue.backup)
        .subquery()
    )
    rows = connection.execute(
        select(backup_catalogue)
        .join(
            newest,
            (catalogue.backup == newest.c.backup) & (catalogue.finished_at == newest.c.finished_at),
        )
        .where(where)
        .order_by(catalogue.id)
    )
    # Of two entries finished at the same instant, the later id wins, as in ``entries``.
    return {row.backup: entry_of(row) for row in rows}
