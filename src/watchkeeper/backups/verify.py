"""Verifying a backup: check its SHA-256, restore it into a scratch target, run the smoke queries
on the copy, drop the scratch, and record the outcome."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, create_engine, insert, make_url, select, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from watchkeeper.backups.archive import verify_checksum
from watchkeeper.backups.catalogue import BackupState, Entry, entries
from watchkeeper.backups.runner import source_of, store_url_of
from watchkeeper.backups.sources import (
    BackupError,
    BackupSource,
    FilesSource,
    PostgresSource,
    SqliteSource,
    scratch_database,
)
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.tables import backup_catalogue, backup_verifications

CHECKSUM_MISMATCH = "checksum mismatch: the file changed or is corrupt"


class VerifyOutcome(StrEnum):
    """How a verification ended."""

    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class VerificationResult:
    """One recorded verification of a catalogue entry; ``detail`` says what failed (redacted)."""

    id: int
    catalogue_id: int
    at: datetime
    outcome: VerifyOutcome
    restore_seconds: float | None
    detail: str | None


@dataclass(frozen=True)
class _Checked:
    restore_seconds: float | None
    failures: tuple[str, ...]


async def verify_backup(
    engine: Engine,
    backup: Backup,
    entry: Entry,
    config_dir: Path,
    secrets: Secrets,
    now: datetime,
) -> VerificationResult:
    """Verify the catalogue ``entry`` of ``backup`` and record the outcome in the store.

    Raises BackupError when the entry is not a good, unpruned backup of ``backup`` (nothing to test).
    """
    if entry.backup != backup.name:
        raise BackupError(
            f"catalogue entry {entry.id} belongs to {entry.backup}, not {backup.name}"
        )
    if entry.state is not BackupState.OK or entry.path is None or entry.sha256 is None:
        raise BackupError(f"catalogue entry {entry.id} is a failed attempt: nothing to verify")
    if entry.pruned_at is not None:
        raise BackupError(f"catalogue entry {entry.id} was pruned: its file is gone")
    secrets = _with_source_password(backup, secrets)
    source = source_of(backup, config_dir, store_url_of(engine))
    checked = await _check(backup, source, entry.path, entry.sha256, secrets)
    outcome = VerifyOutcome.FAILED if checked.failures else VerifyOutcome.PASSED
    detail = secrets.redact("; ".join(checked.failures)) if checked.failures else None
    with engine.begin() as connection:
        new_id = connection.execute(
            insert(backup_verifications)
            .values(
                catalogue_id=entry.id,
                at=now,
                outcome=outcome.value,
                restore_seconds=checked.restore_seconds,
                detail=detail,
            )
            .returning(backup_verifications.c.id)
        ).scalar_one()
        row = connection.execute(
            select(backup_verifications).where(backup_verifications.c.id == new_id)
        ).one()
    return result_of(row)


async def verify_latest(
    engine: Engine, backup: Backup, config_dir: Path, secrets: Secrets, now: datetime
) -> VerificationResult | None:
    """Verify the newest good, unpruned backup of ``backup``; return None when there is none."""
    with engine.connect() as connection:
        entry = latest_good(connection, backup.name)
    if entry is None:
        return None
    return await verify_backup(engine, backup, entry, config_dir, secrets, now)


def latest_good(connection: Connection, backup: str) -> Entry | None:
    """Return the newest good, unpruned catalogue entry of ``backup``, or None."""
    return next(
        (
            e
            for e in entries(connection, backup)
            if e.state is BackupState.OK and e.pruned_at is None
        ),
        None,
    )


def recent_verifications(
    connection: Connection, backup: str, limit: int = 50
) -> list[VerificationResult]:
    """Return the newest ``limit`` verifications of any catalogue entry of ``backup``, newest first."""
    query = (
        select(backup_verifications)
        .join(backup_catalogue, backup_catalogue.c.id == backup_verifications.c.catalogue_id)
        .where(backup_catalogue.c.backup == backup)
        .order_by(backup_verifications.c.at.desc(), backup_verifications.c.id.desc())
        .limit(limit)
    )
    return [result_of(row) for row in connection.execute(query)]


def smoke_failure(query: str, rows: Sequence[Row[Any]]) -> str | None:
    """Given a smoke query and the rows it returned, return why it failed, or None when its
    first row's first value is true, non-zero or non-empty."""
    if not rows:
        return f"smoke query {query!r} returned no rows"
    value = rows[0][0]
    if value is None:
        return f"smoke query {query!r} returned NULL"
    # Dates and other values have no meaningful falsiness: any non-NULL one passes.
    if isinstance(value, bool | int | float | Decimal | str | bytes) and not value:
        return f"smoke query {query!r} returned {value!r}"
    return None


async def _check(
    backup: Backup, source: BackupSource, path: Path, sha256: str, secrets: Secrets
) -> _Checked:
    if not path.is_file():
        return _Checked(None, (f"backup file missing: {path}",))
    if not await asyncio.to_thread(verify_checksum, path, sha256):
        return _Checked(None, (CHECKSUM_MISMATCH,))
    smoke = _Smoke(backup.verify.smoke if backup.verify else (), time.monotonic() + backup.timeout)
    try:
        if isinstance(source, PostgresSource):
            return await _check_postgres(source, path, smoke)
        if isinstance(source, SqliteSource):
            return await _check_sqlite(source, path, smoke)
        assert isinstance(source, FilesSource)  # the config allows exactly three kinds
        return await _check_files(source, path)
    except BackupError as exc:
        return _Checked(None, (f"restore failed: {secrets.redact(str(exc))}",))


async def _check_postgres(source: PostgresSource, path: Path, smoke: _Smoke) -> _Checked:
    async with scratch_database(source.url) as scratch:
        seconds = await _timed_restore(source, path, scratch)
        url = make_url(scratch).set(drivername="postgresql+psycopg")
        failures = await asyncio.to_thread(_run_smoke, url.render_as_string(False), smoke)
    return _Checked(seconds, failures)


async def _check_sqlite(source: SqliteSource, path: Path, smoke: _Smoke) -> _Checked:
    with tempfile.TemporaryDirectory(prefix="wk_restore_") as scratch:
        restored = Path(scratch) / "restored.sqlite"
        # The restore itself refuses a copy whose PRAGMA integrity_check finds problems.
        seconds = await _timed_restore(source, path, restored)
        failures = await asyncio.to_thread(_run_smoke, f"sqlite:///{restored}", smoke)
    return _Checked(seconds, failures)


async def _check_files(source: FilesSource, path: Path) -> _Checked:
    with tempfile.TemporaryDirectory(prefix="wk_restore_") as scratch:
        seconds = await _timed_restore(source, path, Path(scratch))
    return _Checked(seconds, ())


async def _timed_restore(
    source: PostgresSource | SqliteSource | FilesSource, path: Path, into: str | Path
) -> float:
    started = time.perf_counter()
    await source.restore(path, into)
    return time.perf_counter() - started


@dataclass(frozen=True)
class _Smoke:
    """The smoke queries of a verification, and the monotonic time by which they must be done
    (the backup's timeout, counted from the start of the verification)."""

    queries: Sequence[str]
    deadline: float


def _run_smoke(url: str, smoke: _Smoke) -> tuple[str, ...]:
    """Run every smoke query on the restored copy at ``url``; return why those that failed did."""
    if not smoke.queries:
        return ()
    engine = create_engine(url, poolclass=NullPool)
    failures: list[str] = []
    try:
        for query in smoke.queries:
            left = smoke.deadline - time.monotonic()
            if left <= 0:
                failures.append(f"smoke query {query!r} not run: the backup's timeout ran out")
                continue
            # One connection each: a failed query must not abort the ones after it.
            try:
                with engine.connect() as connection:
                    _stop_after(connection, smoke.deadline)
                    rows = connection.execute(text(query)).fetchmany(1)
            except SQLAlchemyError as exc:
                said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                failures.append(f"smoke query {query!r} failed: {said[0] if said else exc}")
                continue
            failure = smoke_failure(query, rows)
            if failure:
                failures.append(failure)
    finally:
        engine.dispose()
    return tuple(failures)


def _stop_after(connection: Connection, deadline: float) -> None:
    """Make the database cancel this connection's statements at the monotonic time ``deadline``:
    a smoke query runs in a thread, which nothing else could stop."""
    left_ms = max(1, int((deadline - time.monotonic()) * 1000))
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT set_config('statement_timeout', :ms, false)"), {"ms": str(left_ms)}
        )
        return
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)  # the only other engine a copy is restored into
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)


def _with_source_password(backup: Backup, secrets: Secrets) -> Secrets:
    """Return ``secrets`` plus the source URL's password, which errors from the copy could echo."""
    if backup.source.postgres is None:
        return secrets
    try:
        password = make_url(backup.source.postgres).password
    except ArgumentError:
        return secrets  # the restore reports the bad URL, redacted
    return Secrets([*secrets.values, str(password)]) if password else secrets


def result_of(row: Row[Any]) -> VerificationResult:
    """Given a row of the verifications table, return its VerificationResult."""
    return VerificationResult(
        id=row.id,
        catalogue_id=row.catalogue_id,
        at=row.at,
        outcome=VerifyOutcome(row.outcome),
        restore_seconds=row.restore_seconds,
        detail=row.detail,
    )
