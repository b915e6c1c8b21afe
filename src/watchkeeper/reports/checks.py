"""Each check's results, failures and latency over a report's period and the one before, from
rollups plus the raw results after the last bucket rolled up.

One range scan of rollups for every check (hourly for a day or a week, daily beyond), then one
grouped query per chunk of checks for the raw tail: a quarter of 200 checks is ~36,000 rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from watchkeeper.analytics.trends import PeriodChange, period_change
from watchkeeper.reports.model import CheckFigures, Latency
from watchkeeper.results import Status
from watchkeeper.store.rollups import Resolution, watermarks
from watchkeeper.store.tables import rollups
from watchkeeper.views.series import Point, Series
from watchkeeper.views.uptime import raw_tail

_WIDTH = {
    Resolution.MINUTE: timedelta(minutes=1),
    Resolution.HOUR: timedelta(hours=1),
    Resolution.DAY: timedelta(days=1),
}
_FINER = {
    Resolution.DAY: (Resolution.DAY, Resolution.HOUR, Resolution.MINUTE),
    Resolution.HOUR: (Resolution.HOUR, Resolution.MINUTE),
}
"""The rollups a period is read from, coarsest first."""


@dataclass(frozen=True)
class _Bucket:
    """A rollup bucket, or the raw results after the last one, ending at ``end``."""

    start: datetime
    end: datetime
    count: int
    failures: int
    avg_ms: float
    max_ms: float
    p95_ms: float | None
    """None for raw results: a percentile cannot be summed up in SQL on both databases."""


def resolution_for(length: timedelta) -> Resolution:
    """Given a period's length, return the rollup its figures are read from."""
    return Resolution.HOUR if length <= timedelta(days=7) else Resolution.DAY


def check_figures(
    connection: Connection,
    checks: Sequence[tuple[str, str]],
    statuses: dict[str, Status],
    since: datetime,
    until: datetime,
) -> list[CheckFigures]:
    """Given (name, kind) of checks, return each one's figures over [since, until), compared with
    the period as long before it; ``statuses`` are their latest verdicts."""
    length = until - since
    resolution = resolution_for(length)
    names = [name for name, _ in checks]
    found = _buckets(connection, names, resolution, since - length, since, until)
    figures = []
    for name, kind in checks:
        buckets = found.get(name, [])
        # By where a bucket ends, as period_change counts (since, until].
        current = [b for b in buckets if b.end > since]
        previous = [b for b in buckets if b.end <= since]
        avg = period_change([(b.end, b.avg_ms) for b in buckets], until, length)
        p95 = period_change(
            [(b.end, b.p95_ms) for b in buckets if b.p95_ms is not None], until, length
        )
        figures.append(
            CheckFigures(
                check=name,
                kind=kind,
                status=statuses.get(name),
                count=sum(b.count for b in current),
                failures=sum(b.failures for b in current),
                previous_count=sum(b.count for b in previous),
                previous_failures=sum(b.failures for b in previous),
                latency=_latency(avg, p95),
                chart=Series(
                    name,
                    since,
                    until,
                    resolution.value,
                    [Point(b.start, b.count, b.failures, b.avg_ms, b.max_ms) for b in current],
                ),
            )
        )
    return figures


def _latency(avg: PeriodChange, p95: PeriodChange) -> Latency:
    return Latency(
        avg_ms=avg.current,
        previous_avg_ms=avg.previous,
        avg_change=avg.change,
        p95_ms=p95.current,
        previous_p95_ms=p95.previous,
        p95_change=p95.change,
    )


def _buckets(
    connection: Connection,
    names: Sequence[str],
    resolution: Resolution,
    start: datetime,
    since: datetime,
    until: datetime,
) -> dict[str, list[_Bucket]]:
    """Return the buckets of ``names`` over [start, until), oldest first, split at ``since``:
    ``resolution``'s rollups as far as they reach, then finer ones, then the raw results."""
    wanted = set(names)
    marks = watermarks(connection)
    found: dict[str, list[_Bucket]] = defaultdict(list)
    cursor = start
    # Finer rollups reach later than coarser ones (they settle sooner): an hour-old store has
    # minute rollups, with their p95s, but no hourly ones yet.
    for finer in _FINER[resolution]:
        mark = min(max(marks.get(finer) or cursor, cursor), until)
        if cursor < mark:
            for name, bucket in _rollup_buckets(connection, finer, cursor, mark, until):
                if name in wanted:
                    found[name].append(bucket)
        cursor = mark
    # The raw tail, split where the periods meet so neither borrows the other's results.
    for low, high in ((cursor, since), (max(cursor, since), until)):
        if low < high:
            for row in raw_tail(connection, low, names, before=high):
                found[row.check].append(
                    _Bucket(row.first, high, row.count, row.failures, row.avg_ms, row.max_ms, None)
                )
    return dict(found)


def _rollup_buckets(
    connection: Connection, resolution: Resolution, low: datetime, high: datetime, until: datetime
) -> Iterator[tuple[str, _Bucket]]:
    """Yield (check, bucket) of every check's ``resolution`` rollups in [low, high), oldest first,
    in one range scan of the (resolution, bucket_start, …) index."""
    width = _WIDTH[resolution]
    query = (
        select(
            rollups.c.check_name,
            rollups.c.bucket_start,
            rollups.c.count,
            rollups.c.failures,
            rollups.c.avg_ms,
            rollups.c.max_ms,
            rollups.c.p95_ms,
        )
        .where(
            rollups.c.resolution == resolution.value,
            rollups.c.bucket_start >= low,
            rollups.c.bucket_start < high,
        )
        .order_by(rollups.c.bucket_start)
    )
    for name, bucket_start, count, failures, avg_ms, max_ms, p95_ms in connection.execute(query):
        end = min(bucket_start + width, until)
        yield name, _Bucket(bucket_start, end, count, failures, avg_ms, max_ms, p95_ms)
