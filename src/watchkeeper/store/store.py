"""The store: write results, read the latest and the history, roll up and prune."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, RowMapping, delete, select
from sqlalchemy.exc import SQLAlchemyError

from watchkeeper.results import Result, Status
from watchkeeper.store import connect
from watchkeeper.store.connect import to_json
from watchkeeper.store.rollups import SETTLE, Resolution, Rollup, roll_up
from watchkeeper.store.tables import check_state, rollups
from watchkeeper.store.tables import results as raw

__all__ = ["Resolution", "Retention", "Rollup", "Store", "StoreError"]

DAY = 86400.0


class StoreError(Exception):
    """The store could not be opened, read or written; the message says why, without secrets."""


@dataclass(frozen=True)
class Retention:
    """How many seconds to keep raw results and each rollup resolution; ``None`` keeps forever."""

    raw: float = 14 * DAY
    minute: float | None = 30 * DAY
    hour: float | None = 400 * DAY
    day: float | None = None


class Store:
    """Results in a SQL database; every method is safe to call from any thread."""

    def __init__(self, engine: Engine, display_url: str) -> None:
        self.engine = engine
        self.display_url = display_url
        self._busy_timeout_ms = 0
        if self.embedded:
            with engine.connect() as connection:
                self._busy_timeout_ms = int(
                    connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0
                )

    @classmethod
    def open(cls, url: str) -> Store:
        """Given ``sqlite:///path``, a file path or ``postgresql://…``, return a migrated store."""
        display_url = connect.display(url)
        engine: Engine | None = None
        try:
            engine = connect.create(connect.normalise_url(url))
            connect.migrate(engine)
        except (SQLAlchemyError, OSError, ValueError) as exc:
            if engine is not None:
                engine.dispose()
            raise StoreError(f"cannot open the store at {display_url}: {_reason(exc)}") from exc
        return cls(engine, display_url)

    @property
    def embedded(self) -> bool:
        """Return True for SQLite: a local file, written fastest from the caller's own thread."""
        return self.engine.dialect.name == "sqlite"

    def insert_results(self, results: Sequence[Result], *, wait: float | None = None) -> None:
        """Write results in one transaction and make each check's newest one its latest state.

        ``wait`` bounds how long a SQLite write waits for another writer's lock (default: the
        engine's busy timeout). This is the hot path, so rows go to the driver's executemany as
        prepared tuples rather than through SQLAlchemy's per-row processing.
        """
        if not results:
            return
        newest: dict[str, Result] = {}
        for result in results:
            seen = newest.get(result.check)
            if seen is None or result.started_at >= seen.started_at:
                newest[result.check] = result
        embedded = self.embedded
        rows = [_row(r, embedded) for r in results]
        states = [_row(r, embedded)[:-1] for r in newest.values()]
        insert_sql, upsert_sql = _WRITE_SQL["?" if embedded else "%s"]
        with self._transaction("write results") as connection:
            if wait is not None and embedded:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            try:
                connection.exec_driver_sql(insert_sql, rows)
                connection.exec_driver_sql(upsert_sql, states)
            finally:
                if wait is not None and embedded:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")

    def latest(self, check: str | None = None) -> dict[str, Result]:
        """Return the newest result of every check that has one (or of ``check`` only)."""
        query = select(check_state)
        if check is not None:
            query = query.where(check_state.c.check_name == check)
        with self._transaction("read the latest results") as connection:
            return {row.check_name: result_from_row(row) for row in connection.execute(query)}

    def history(
        self,
        check: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[Result]:
        """Return ``limit`` results of ``check`` (since <= started_at < until), newest first."""
        query = select(raw).where(raw.c.check_name == check)
        if since is not None:
            query = query.where(raw.c.started_at >= since)
        if until is not None:
            query = query.where(raw.c.started_at < until)
        query = query.order_by(raw.c.started_at.desc(), raw.c.id.desc()).limit(limit)
        with self._transaction("read history") as connection:
            return [result_from_row(row) for row in connection.execute(query)]

    def recent(self, check: str, seconds: float, limit: int = 10_000) -> list[Result]:
        """Return the results of ``check`` from the last ``seconds`` (at most the newest ``limit``),
        oldest first: what a probe judging other checks reads."""
        since = datetime.now(UTC) - timedelta(seconds=seconds)
        return list(reversed(self.history(check, since=since, limit=limit)))

    def rollup(self, now: datetime, settle: timedelta = SETTLE) -> int:
        """Roll up each minute, hour and day bucket that ended ``settle`` before ``now``, once.

        Return rows added. Rollups are computed from raw results, so run this before pruning them.
        """
        with self._transaction("roll up results") as connection:
            return roll_up(connection, now, settle)

    def rollups(
        self, check: str, resolution: Resolution, since: datetime, until: datetime
    ) -> list[Rollup]:
        """Return the rollups of ``check`` with since <= bucket_start < until, oldest first."""
        query = (
            select(rollups)
            .where(
                rollups.c.check_name == check,
                rollups.c.resolution == resolution.value,
                rollups.c.bucket_start >= since,
                rollups.c.bucket_start < until,
            )
            .order_by(rollups.c.bucket_start)
        )
        with self._transaction("read rollups") as connection:
            return [_rollup(row) for row in connection.execute(query).mappings()]

    def prune(self, now: datetime, retention: Retention) -> dict[str, int]:
        """Delete what ``retention`` no longer keeps; return rows deleted per table.

        Rolls up first, so no raw result is deleted before it is summarised.
        """
        self.rollup(now - timedelta(seconds=retention.raw), settle=timedelta(0))
        with self._transaction("prune") as connection:
            old_results = connection.execute(
                delete(raw).where(raw.c.started_at < now - timedelta(seconds=retention.raw))
            ).rowcount
            summaries = 0
            for resolution in Resolution:
                keep = getattr(retention, resolution.value)
                if keep is not None:
                    summaries += connection.execute(
                        delete(rollups).where(
                            rollups.c.resolution == resolution.value,
                            rollups.c.bucket_start < now - timedelta(seconds=keep),
                        )
                    ).rowcount
        return {"results": old_results, "rollups": summaries}

    def close(self) -> None:
        """Close every connection to the database."""
        self.engine.dispose()

    @contextlib.contextmanager
    def _transaction(self, doing: str) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot {doing} in {self.display_url}: {_reason(exc)}") from exc


_INSERT_RESULTS = (
    "INSERT INTO results"
    " (check_name, started_at, status, duration_ms, message, measurements, maintenance)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# A batch held back by an outage must not overwrite a newer state written meanwhile.
_UPSERT_STATE = (
    "INSERT INTO check_state (check_name, started_at, status, duration_ms, message, measurements)"
    " VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (check_name) DO UPDATE SET started_at = excluded.started_at,"
    " status = excluded.status, duration_ms = excluded.duration_ms,"
    " message = excluded.message, measurements = excluded.measurements"
    " WHERE check_state.started_at <= excluded.started_at"
)
_WRITE_SQL = {
    "?": (_INSERT_RESULTS, _UPSERT_STATE),
    "%s": (_INSERT_RESULTS.replace("?", "%s"), _UPSERT_STATE.replace("?", "%s")),
}


def _row(result: Result, embedded: bool) -> tuple[Any, ...]:
    started = result.started_at.astimezone(UTC)
    return (
        result.check,
        # The text layout SQLAlchemy's DateTime uses on SQLite, so reads and rollups agree.
        started.replace(tzinfo=None).isoformat(" ", "microseconds") if embedded else started,
        Status(result.status).value,
        result.duration_ms,
        # PostgreSQL text cannot hold NUL, and command output sometimes does.
        result.message.replace("\x00", "\ufffd"),
        to_json(result.measurements),
        result.maintenance,
    )


def result_from_row(row: Row[Any]) -> Result:
    """Given a row of ``results`` or ``check_state``, return it as a Result."""
    return Result(
        check=row.check_name,
        started_at=row.started_at,
        status=Status(row.status),
        duration_ms=row.duration_ms,
        message=row.message,
        measurements=row.measurements,
        maintenance=bool(getattr(row, "maintenance", False)),
    )


def _rollup(row: RowMapping) -> Rollup:
    return Rollup(
        check=row["check_name"],
        resolution=Resolution(row["resolution"]),
        bucket_start=row["bucket_start"],
        count=row["count"],
        failures=row["failures"],
        min_ms=row["min_ms"],
        avg_ms=row["avg_ms"],
        max_ms=row["max_ms"],
        p95_ms=row["p95_ms"],
    )


def _reason(exc: BaseException) -> str:
    """Given an exception, return its one-line explanation, preferring the driver's own words."""
    cause = getattr(exc, "orig", None) or exc
    return " ".join(str(cause).split()) or type(cause).__name__
