"""A check's history as analytics points: its measurements, its latency and failures, and the
events an objective counts. Raw results where they are kept, rollups for longer ranges."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select

from watchkeeper.analytics.series import Point
from watchkeeper.config.specs.trend import RollupFigure
from watchkeeper.results import Status
from watchkeeper.store.rollups import Bucket, Resolution, bucket_series
from watchkeeper.store.tables import results, rollups

MAX_POINTS = 100_000
"""The most raw measurement points one read returns (the newest): 30 days at one result every
30 seconds is 86,400, and a probe's read must stay cheap."""

StatusEvent = tuple[datetime, Status]
"""One result an objective counts: when, and its status."""

_ROLLUP_FAILURE = Status.CRITICAL
"""A rollup keeps only how many results were not ok, so each such result reads as critical."""


def measurement_points(
    connection: Connection,
    check: str,
    name: str,
    since: datetime,
    until: datetime,
    limit: int = MAX_POINTS,
) -> list[Point]:
    """Given a check and a measurement's name, return its numeric values (booleans as 1/0) in
    (since, until], oldest first: at most the newest ``limit``; results without it are skipped."""
    value = results.c.measurements[name]
    query = (
        select(results.c.started_at, value)
        .where(
            results.c.check_name == check,
            results.c.started_at > since,
            results.c.started_at <= until,
        )
        .order_by(results.c.started_at.desc())
        .limit(limit)
    )
    points = [
        (at, float(v))
        for at, v in connection.execute(query)
        if isinstance(v, int | float) and math.isfinite(v)
    ]
    points.reverse()
    return points


def rollup_points(
    connection: Connection, check: str, figure: RollupFigure, since: datetime, until: datetime
) -> list[Point]:
    """Given a check and a figure, return one point per hour with since <= hour < until, oldest
    first: hourly rollups, then raw results (bucketed the same way) where none are rolled up yet.

    Response time is the hour's mean in seconds, failure rate the percent of results not ok.
    """
    buckets = bucket_series(connection, check, Resolution.HOUR, since, until)
    return [(b.start, _figure(b, figure)) for b in buckets]


def status_events(
    connection: Connection, check: str, since: datetime, until: datetime
) -> list[StatusEvent]:
    """Given a check, return the (time, status) of its results in (since, until], oldest first:
    raw results where they are kept, minute rollups before the first of them (a bucket's
    failures as critical, its other results as ok, at the bucket's start)."""
    first = connection.scalar(
        select(func.min(results.c.started_at)).where(
            results.c.check_name == check,
            results.c.started_at > since,
            results.c.started_at <= until,
        )
    )
    # The minute holding the oldest kept result may have lost earlier results to pruning; its
    # kept ones stand for it, so rollups cover only the minutes before it.
    cutoff = until if first is None else Resolution.MINUTE.floor(first)
    query = (
        select(rollups.c.bucket_start, rollups.c.count, rollups.c.failures)
        .where(
            rollups.c.check_name == check,
            rollups.c.resolution == Resolution.MINUTE.value,
            rollups.c.bucket_start > since,
            rollups.c.bucket_start < cutoff,
        )
        .order_by(rollups.c.bucket_start)
    )
    events: list[StatusEvent] = []
    for start, count, failures in connection.execute(query):
        events += [(start, _ROLLUP_FAILURE)] * failures + [(start, Status.OK)] * (count - failures)
    if first is not None:
        raw = (
            select(results.c.started_at, results.c.status)
            .where(
                results.c.check_name == check,
                results.c.started_at >= first,
                results.c.started_at <= until,
            )
            .order_by(results.c.started_at)
        )
        events += [(at, Status(status)) for at, status in connection.execute(raw)]
    return events


def latency_points(
    connection: Connection, check: str, since: datetime, until: datetime
) -> list[Point]:
    """Given a check, return each kept raw result's duration in seconds in (since, until], oldest
    first (rollups keep no single result's latency, so this reaches back only as far as raw
    retention)."""
    query = (
        select(results.c.started_at, results.c.duration_ms)
        .where(
            results.c.check_name == check,
            results.c.started_at > since,
            results.c.started_at <= until,
        )
        .order_by(results.c.started_at)
    )
    return [(at, ms / 1000) for at, ms in connection.execute(query)]


@dataclass(frozen=True)
class HistoryReader:
    """The readers above over the store's engine, one transaction per read; ``until`` defaults
    to the clock. What ``ProbeContext`` hands the trend, forecast and slo probes."""

    engine: Engine

    def measurement_points(
        self, check: str, name: str, since: datetime, until: datetime | None = None
    ) -> list[Point]:
        """Given a check and a measurement's name, return its points in (since, until]."""
        with self.engine.begin() as connection:
            return measurement_points(connection, check, name, since, _until(until))

    def rollup_points(
        self, check: str, figure: RollupFigure, since: datetime, until: datetime | None = None
    ) -> list[Point]:
        """Given a check and a figure, return its hourly points with since <= hour < until."""
        with self.engine.begin() as connection:
            return rollup_points(connection, check, figure, since, _until(until))

    def status_events(
        self, check: str, since: datetime, until: datetime | None = None
    ) -> list[StatusEvent]:
        """Given a check, return the (time, status) of its results in (since, until]."""
        with self.engine.begin() as connection:
            return status_events(connection, check, since, _until(until))

    def latency_points(
        self, check: str, since: datetime, until: datetime | None = None
    ) -> list[Point]:
        """Given a check, return its kept results' durations in seconds in (since, until]."""
        with self.engine.begin() as connection:
            return latency_points(connection, check, since, _until(until))


def _figure(bucket: Bucket, figure: RollupFigure) -> float:
    if figure is RollupFigure.RESPONSE_TIME:
        return bucket.avg_ms / 1000
    if figure is RollupFigure.FAILURES:
        return float(bucket.failures)
    return 100 * bucket.failures / bucket.count


def _until(until: datetime | None) -> datetime:
    return datetime.now(UTC) if until is None else until
