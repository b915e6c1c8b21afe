"""Uptime and latency per check over 24 hours, 7 and 30 days, from rollups plus the raw tail.

Day rollups cover whole days, hour rollups the hours since, raw results the minutes since the
last hour rolled up: three small range scans instead of a month of raw rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, select

from watchkeeper.results import Status
from watchkeeper.store.rollups import Resolution, watermarks
from watchkeeper.store.tables import results, rollups

SPARK_HOURS = 24
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@dataclass
class Tally:
    """Results and failures counted over one window."""

    count: int = 0
    failures: int = 0

    def add(self, count: int, failures: int) -> None:
        """Count more results."""
        self.count += count
        self.failures += failures

    @property
    def ratio(self) -> float | None:
        """Return the share of results that were ok, or None with no results."""
        return None if self.count == 0 else (self.count - self.failures) / self.count


@dataclass
class Uptime:
    """One check's tallies per window and its hourly mean latency over the last day."""

    windows: dict[str, Tally] = field(default_factory=lambda: {w: Tally() for w in WINDOWS})
    spark: list[float | None] = field(default_factory=lambda: [None] * (SPARK_HOURS + 1))

    def ratio(self, window: str) -> float | None:
        """Return the share of ok results over ``window`` ("24h", "7d" or "30d")."""
        return self.windows[window].ratio


def read_uptime(connection: Connection, now: datetime, checks: Sequence[str]) -> dict[str, Uptime]:
    """Return the uptime and sparkline of each of ``checks`` that has results, as of ``now``.

    Windows end now and start on a UTC boundary: 7d is today and the six days before, 24h the
    24 whole hours before this one.
    """
    marks = watermarks(connection)
    this_hour = Resolution.HOUR.floor(now)
    today = Resolution.DAY.floor(now)
    month_start = today - timedelta(days=29)
    week_start = today - timedelta(days=6)
    day_start = this_hour - timedelta(hours=SPARK_HOURS)
    day_mark = min(marks.get(Resolution.DAY) or month_start, today)
    day_mark = max(day_mark, month_start)
    hour_mark = marks.get(Resolution.HOUR) or min(day_mark, day_start)
    hour_mark = max(min(hour_mark, this_hour + timedelta(hours=1)), min(day_mark, day_start))
    found: dict[str, Uptime] = defaultdict(Uptime)

    # Whole days, then the hours since the last day rolled up: summed in the database.
    this_week = rollups.c.bucket_start >= week_start
    for resolution, since, until in (
        (Resolution.DAY, month_start, day_mark),
        (Resolution.HOUR, day_mark, hour_mark),
    ):
        summed = (
            select(
                rollups.c.check_name,
                func.sum(rollups.c.count),
                func.sum(rollups.c.failures),
                func.sum(case((this_week, rollups.c.count), else_=0)),
                func.sum(case((this_week, rollups.c.failures), else_=0)),
            )
            .where(
                rollups.c.resolution == resolution.value,
                rollups.c.bucket_start >= since,
                rollups.c.bucket_start < until,
            )
            .group_by(rollups.c.check_name)
        )
        for name, count, failures, week_count, week_failures in connection.execute(summed):
            windows = found[name].windows
            windows["30d"].add(int(count), int(failures))
            windows["7d"].add(int(week_count), int(week_failures))

    # The last 24 whole hours, one by one: they are the sparkline too.
    hours = select(
        rollups.c.check_name,
        rollups.c.bucket_start,
        rollups.c.count,
        rollups.c.failures,
        rollups.c.avg_ms,
    ).where(
        rollups.c.resolution == Resolution.HOUR.value,
        rollups.c.bucket_start >= day_start,
        rollups.c.bucket_start < hour_mark,
    )
    for name, start, count, failures, avg_ms in connection.execute(hours):
        uptime = found[name]
        uptime.windows["24h"].add(count, failures)
        uptime.spark[int((start - day_start).total_seconds() // 3600)] = avg_ms

    # Raw results after the last hour rolled up; only those of the last 24 hours count for 24h
    # (the tail is longer than that only before the first rollup, or when rollups lag a day).
    day_tail = max(hour_mark, day_start)
    for row in raw_tail(connection, day_tail, checks):
        uptime = found[row.check]
        for tally in uptime.windows.values():
            tally.add(row.count, row.failures)
        uptime.spark[-1] = row.avg_ms
    if hour_mark < day_tail:
        for row in raw_tail(connection, hour_mark, checks, before=day_tail):
            windows = found[row.check].windows
            windows["30d"].add(row.count, row.failures)
            windows["7d"].add(row.count, row.failures)
    return dict(found)


def read_day_bars(
    connection: Connection, now: datetime, days: int, checks: Sequence[str]
) -> dict[str, list[Tally]]:
    """Return the per-day tallies of each of ``checks`` for the last ``days`` UTC days, today last."""
    today = Resolution.DAY.floor(now)
    first = today - timedelta(days=days - 1)
    marks = watermarks(connection)
    day_mark = max(min(marks.get(Resolution.DAY) or first, today), first)
    hour_mark = max(marks.get(Resolution.HOUR) or day_mark, day_mark)
    found: dict[str, list[Tally]] = defaultdict(lambda: [Tally() for _ in range(days)])

    def add(name: str, moment: datetime, count: int, failures: int) -> None:
        index = (Resolution.DAY.floor(moment) - first).days
        if 0 <= index < days:
            found[name][index].add(count, failures)

    for resolution, since, until in (
        (Resolution.DAY, first, day_mark),
        (Resolution.HOUR, day_mark, hour_mark),
    ):
        query = select(
            rollups.c.check_name, rollups.c.bucket_start, rollups.c.count, rollups.c.failures
        ).where(
            rollups.c.resolution == resolution.value,
            rollups.c.bucket_start >= since,
            rollups.c.bucket_start < until,
        )
        for name, start, count, failures in connection.execute(query):
            add(name, start, count, failures)
    # The tail is at most an hour or so of results: counted on the day it started.
    for row in raw_tail(connection, hour_mark, checks):
        add(row.check, row.first, row.count, row.failures)
    return dict(found)


@dataclass(frozen=True)
class TailRow:
    """One check's raw results in a span: when the first started, how many, how many failed
    (not ok), and their mean and longest duration."""

    check: str
    first: datetime
    count: int
    failures: int
    avg_ms: float
    max_ms: float


def raw_tail(
    connection: Connection,
    since: datetime,
    checks: Sequence[str],
    before: datetime | None = None,
) -> Iterator[TailRow]:
    """Yield a TailRow for each of ``checks`` with results since ``since`` (and before
    ``before``): the raw results after the rollups, summed the way rollups are.

    Asked per chunk of check names, so both databases seek the (check, started_at) index once per
    check: grouping a time range instead makes SQLite walk that index end to end.
    """
    period = results.c.started_at >= since
    if before is not None:
        period &= results.c.started_at < before
    for first in range(0, len(checks), _CHUNK):
        query = (
            select(
                results.c.check_name,
                func.min(results.c.started_at),
                func.count(),
                func.sum(case((results.c.status != Status.OK.value, 1), else_=0)),
                func.avg(results.c.duration_ms),
                func.max(results.c.duration_ms),
            )
            .where(results.c.check_name.in_(checks[first : first + _CHUNK]), period)
            .group_by(results.c.check_name)
        )
        for name, started, count, failures, avg_ms, max_ms in connection.execute(query):
            yield TailRow(
                name, started, int(count), int(failures or 0), float(avg_ms), float(max_ms)
            )


_CHUNK = 500
