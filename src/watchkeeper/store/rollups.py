"""Per-minute, -hour and -day summaries of raw results, computed in the database from raw rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, insert, select, type_coerce

from watchkeeper.results import Status
from watchkeeper.store.tables import UTCDateTime, results, rollup_watermarks, rollups


class Resolution(StrEnum):
    """The width of a rollup bucket; buckets are aligned to UTC."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"

    def floor(self, moment: datetime) -> datetime:
        """Given an aware datetime, return the start of the UTC bucket holding it."""
        moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
        if self is Resolution.MINUTE:
            return moment
        moment = moment.replace(minute=0)
        return moment if self is Resolution.HOUR else moment.replace(hour=0)


@dataclass(frozen=True)
class Rollup:
    """The summary of one check's results in one bucket; failures are results that were not ok."""

    check: str
    resolution: Resolution
    bucket_start: datetime
    count: int
    failures: int
    min_ms: float
    avg_ms: float
    max_ms: float
    p95_ms: float


# Any constant: it names the lock that serialises rollups across workers sharing one database.
_ROLLUP_LOCK = 0x524F4C4C5550

_SQLITE_BUCKET = {
    # Same text layout SQLAlchemy stores SQLite datetimes in, so buckets compare like timestamps.
    Resolution.MINUTE: "%Y-%m-%d %H:%M:00.000000",
    Resolution.HOUR: "%Y-%m-%d %H:00:00.000000",
    Resolution.DAY: "%Y-%m-%d 00:00:00.000000",
}


SETTLE = timedelta(minutes=5)
"""How long after a bucket ends its results may still arrive (a check's run, a write batch)."""


def watermarks(connection: Connection) -> dict[Resolution, datetime]:
    """Return, per resolution rolled up so far, the end of its last rolled-up bucket."""
    query = select(rollup_watermarks.c.resolution, rollup_watermarks.c.rolled_up_to)
    return {Resolution(resolution): mark for resolution, mark in connection.execute(query)}


def roll_up(connection: Connection, now: datetime, settle: timedelta = SETTLE) -> int:
    """Roll up the buckets that ended ``settle`` before ``now`` and are not done; return rows written.

    A bucket is summarised once, so it waits until results that started in it have been written.
    """
    if connection.dialect.name == "postgresql":
        # Two workers rolling up at once would both write the same buckets.
        connection.execute(select(func.pg_advisory_xact_lock(_ROLLUP_LOCK)))
    return sum(_roll_up(connection, resolution, now - settle) for resolution in Resolution)


def _roll_up(connection: Connection, resolution: Resolution, now: datetime) -> int:
    closed_until = resolution.floor(now)
    done = connection.scalar(
        select(rollup_watermarks.c.rolled_up_to).where(
            rollup_watermarks.c.resolution == resolution.value
        )
    )
    if done is not None and done >= closed_until:
        return 0
    rows = [
        {**row._asdict(), "resolution": resolution.value}
        for row in connection.execute(_summaries(connection, resolution, done, closed_until))
    ]
    if rows:
        connection.execute(insert(rollups), rows)
    _set_watermark(connection, resolution, closed_until, new=done is None)
    return len(rows)


def _summaries(
    connection: Connection, resolution: Resolution, since: datetime | None, until: datetime
) -> Any:
    """Return a query for count, failures, min, avg, max and nearest-rank p95 per check, bucket."""
    bucket = type_coerce(_bucket(connection, resolution), UTCDateTime())
    window = (results.c.check_name, bucket)
    period = results.c.started_at < until
    if since is not None:
        period &= results.c.started_at >= since
    ranked = (
        select(
            results.c.check_name,
            bucket.label("bucket_start"),
            results.c.status,
            results.c.duration_ms,
            func.row_number()
            .over(partition_by=window, order_by=results.c.duration_ms)
            .label("rank"),
            func.count().over(partition_by=window).label("n"),
        )
        .where(period)
        .subquery()
    )
    duration = ranked.c.duration_ms
    # Nearest rank: the ceil(0.95 * n)-th smallest, in integer arithmetic both databases share.
    p95_rank = (ranked.c.n * 95 + 99) // 100
    return select(
        ranked.c.check_name,
        ranked.c.bucket_start,
        func.count().label("count"),
        func.sum(case((ranked.c.status != Status.OK.value, 1), else_=0)).label("failures"),
        func.min(duration).label("min_ms"),
        func.avg(duration).label("avg_ms"),
        func.max(duration).label("max_ms"),
        func.max(case((ranked.c.rank == p95_rank, duration))).label("p95_ms"),
    ).group_by(ranked.c.check_name, ranked.c.bucket_start)


def _bucket(connection: Connection, resolution: Resolution) -> ColumnElement[Any]:
    if connection.dialect.name == "postgresql":
        return func.date_trunc(resolution.value, results.c.started_at, "UTC")
    return func.strftime(_SQLITE_BUCKET[resolution], results.c.started_at)


def _set_watermark(
    connection: Connection, resolution: Resolution, to: datetime, *, new: bool
) -> None:
    if new:
        connection.execute(
            insert(rollup_watermarks).values(resolution=resolution.value, rolled_up_to=to)
        )
    else:
        connection.execute(
            rollup_watermarks.update()
            .where(rollup_watermarks.c.resolution == resolution.value)
            .values(rolled_up_to=to)
        )


@dataclass(frozen=True)
class Bucket:
    """A check's results in one bucket of a series (or one raw result): how many ran, how many
    were not ok, and their mean and longest duration."""

    start: datetime
    count: int
    failures: int
    avg_ms: float
    max_ms: float


def bucket_series(
    connection: Connection, check: str, resolution: Resolution, since: datetime, until: datetime
) -> list[Bucket]:
    """Given a check, a resolution and a range, return its buckets with since <= start < until,
    oldest first: its rollups as far as they are rolled up, then its raw results after them,
    bucketed the same way."""
    mark = min(max(watermarks(connection).get(resolution) or since, since), until)
    query = (
        select(
            rollups.c.bucket_start,
            rollups.c.count,
            rollups.c.failures,
            rollups.c.avg_ms,
            rollups.c.max_ms,
        )
        .where(
            rollups.c.check_name == check,
            rollups.c.resolution == resolution.value,
            rollups.c.bucket_start >= since,
            rollups.c.bucket_start < mark,
        )
        .order_by(rollups.c.bucket_start)
    )
    found = [Bucket(*row) for row in connection.execute(query)]
    by_start: dict[datetime, list[Bucket]] = {}
    for result in raw_buckets(connection, check, mark, until):
        by_start.setdefault(resolution.floor(result.start), []).append(result)
    found += [
        Bucket(
            start,
            len(members),
            sum(m.failures for m in members),
            sum(m.avg_ms for m in members) / len(members),
            max(m.max_ms for m in members),
        )
        for start, members in sorted(by_start.items())
    ]
    return found


def raw_buckets(
    connection: Connection, check: str, since: datetime, until: datetime
) -> list[Bucket]:
    """Given a check and a range, return a bucket of one for each of its raw results with
    since <= started_at < until, oldest first."""
    query = (
        select(results.c.started_at, results.c.status, results.c.duration_ms)
        .where(
            results.c.check_name == check,
            results.c.started_at >= since,
            results.c.started_at < until,
        )
        .order_by(results.c.started_at)
    )
    return [
        Bucket(started, 1, int(status != Status.OK.value), duration, duration)
        for started, status, duration in connection.execute(query)
    ]
