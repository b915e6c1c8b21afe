"""A check's latency and failures over a chosen range, at a resolution that keeps charts small."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from watchkeeper.results import Status
from watchkeeper.store.rollups import Resolution, watermarks
from watchkeeper.store.tables import results, rollups

RANGES = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}


@dataclass(frozen=True)
class Point:
    """One bucket (or one raw result): how many ran, how many failed, and their latency."""

    start: datetime
    count: int
    failures: int
    avg_ms: float
    max_ms: float


@dataclass(frozen=True)
class Series:
    """Points oldest first; ``resolution`` is "raw" or a rollup width."""

    check: str
    since: datetime
    until: datetime
    resolution: str
    points: list[Point]


def resolution_for(span: timedelta) -> Resolution | None:
    """Given a range, return the rollup to draw it from, or None for raw results."""
    if span <= RANGES["6h"]:
        return None
    if span <= RANGES["24h"]:
        return Resolution.MINUTE
    return Resolution.HOUR


def read_series(connection: Connection, check: str, since: datetime, until: datetime) -> Series:
    """Return ``check``'s points with since <= start < until: rollups, then raw results after them."""
    resolution = resolution_for(until - since)
    if resolution is None:
        return Series(check, since, until, "raw", _raw_points(connection, check, since, until))
    mark = watermarks(connection).get(resolution)
    mark = min(max(mark or since, since), until)
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
    points = [Point(*row) for row in connection.execute(query)]
    points += _bucketed(_raw_points(connection, check, mark, until), resolution)
    return Series(check, since, until, resolution.value, points)


def _raw_points(
    connection: Connection, check: str, since: datetime, until: datetime
) -> list[Point]:
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
        Point(started, 1, int(status != Status.OK.value), duration, duration)
        for started, status, duration in connection.execute(query)
    ]


def _bucketed(points: list[Point], resolution: Resolution) -> list[Point]:
    buckets: dict[datetime, list[Point]] = defaultdict(list)
    for point in points:
        buckets[resolution.floor(point.start)].append(point)
    return [
        Point(
            start,
            len(members),
            sum(p.failures for p in members),
            sum(p.avg_ms for p in members) / len(members),
            max(p.max_ms for p in members),
        )
        for start, members in sorted(buckets.items())
    ]
