"""A check's history read back as analytics points from a real store: raw measurements, hourly
latency and failures from rollups with the unsettled tail from raw results, and the status
events an objective counts, fast enough for a month of results every 30 seconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchkeeper.config.specs.trend import RollupFigure
from watchkeeper.results import Result, Status
from watchkeeper.store.history import HistoryReader, measurement_points
from watchkeeper.store.store import Retention, Store

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
"""A fixed moment on an hour boundary."""


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "wk.db"))
    yield opened
    opened.close()


def result(
    at: datetime,
    status: Status = Status.OK,
    duration_ms: float = 100.0,
    check: str = "web",
    **measurements: object,
) -> Result:
    return Result(check, at, status, duration_ms, "", dict(measurements))


def test_measurement_points_are_the_numbers_and_booleans_in_the_range_oldest_first(
    sqlite_store: Store,
) -> None:
    sqlite_store.insert_results(
        [
            result(T0, disk_used_percent=40.5),
            result(T0 + timedelta(hours=1), disk_used_percent=41),
            result(T0 + timedelta(hours=2), disk_used_percent="full"),  # not a number
            result(T0 + timedelta(hours=3)),  # measured nothing
            result(T0 + timedelta(hours=4), disk_used_percent=True),
            result(T0 + timedelta(hours=4), check="db", disk_used_percent=99.0),
            result(T0 + timedelta(hours=5), disk_used_percent=43.0),  # after until
        ]
    )
    history = HistoryReader(sqlite_store.engine)

    points = history.measurement_points(
        "web", "disk_used_percent", T0 - timedelta(hours=1), T0 + timedelta(hours=4)
    )

    assert points == [
        (T0, 40.5),
        (T0 + timedelta(hours=1), 41.0),
        (T0 + timedelta(hours=4), 1.0),
    ]
    # The range is (since, until]: a point at since belongs to the range before.
    assert history.measurement_points("web", "disk_used_percent", T0, T0)[:1] == []


def test_measurement_points_keep_only_the_newest_when_bounded(sqlite_store: Store) -> None:
    sqlite_store.insert_results([result(T0 + timedelta(minutes=i), value=i) for i in range(10)])
    with sqlite_store.engine.begin() as connection:
        points = measurement_points(
            connection, "web", "value", T0 - timedelta(1), T0 + timedelta(1), limit=3
        )

    assert [v for _, v in points] == [7.0, 8.0, 9.0]


def test_rollup_points_read_rolled_up_hours_then_the_raw_tail(sqlite_store: Store) -> None:
    # Three hours, four results each; the third hour is not rolled up yet.
    durations = {0: [100, 100, 100, 100], 1: [200, 200, 400, 400], 2: [50, 50, 50, 50]}
    failing = {1: 1, 2: 2}
    sqlite_store.insert_results(
        [
            result(
                T0 + timedelta(hours=h, minutes=10 * i),
                Status.CRITICAL if i < failing.get(h, 0) else Status.OK,
                float(ms),
            )
            for h, row in durations.items()
            for i, ms in enumerate(row)
        ]
    )
    sqlite_store.rollup(T0 + timedelta(hours=2, minutes=5), settle=timedelta(0))
    history = HistoryReader(sqlite_store.engine)
    until = T0 + timedelta(hours=3)

    latency = history.rollup_points("web", RollupFigure.RESPONSE_TIME, T0, until)
    rate = history.rollup_points("web", RollupFigure.FAILURE_RATE, T0, until)
    failures = history.rollup_points("web", RollupFigure.FAILURES, T0, until)

    hours = [T0 + timedelta(hours=h) for h in range(3)]
    assert latency == [(hours[0], 0.1), (hours[1], 0.3), (hours[2], 0.05)]
    assert rate == [(hours[0], 0.0), (hours[1], 25.0), (hours[2], 50.0)]
    assert failures == [(hours[0], 0.0), (hours[1], 1.0), (hours[2], 2.0)]


def test_status_events_read_raw_results_and_minute_rollups_before_them(
    sqlite_store: Store,
) -> None:
    # One result a minute for two hours; every tenth fails. Pruning keeps the last hour raw.
    sqlite_store.insert_results(
        [
            result(T0 + timedelta(minutes=m), Status.ERROR if m % 10 == 0 else Status.OK)
            for m in range(120)
        ]
    )
    now = T0 + timedelta(hours=2)
    sqlite_store.prune(now, Retention(raw=3600))
    history = HistoryReader(sqlite_store.engine)

    events = history.status_events("web", T0 - timedelta(minutes=1), now)

    assert len(events) == 120
    # Rolled-up minutes are reported at their start, raw ones at their time: the same here.
    bad = [at for at, status in events if status.failing]
    assert bad == [T0 + timedelta(minutes=m) for m in range(0, 120, 10)]
    # A rollup only knows "not ok", read as critical; raw results keep their own status.
    assert events[0] == (T0, Status.CRITICAL)
    assert events[-10] == (T0 + timedelta(minutes=110), Status.ERROR)


def test_a_month_of_status_events_every_30_seconds_is_read_whole(
    sqlite_store: Store,
) -> None:
    now = T0 + timedelta(days=30)
    every = timedelta(seconds=30)
    count = 30 * 24 * 120
    sqlite_store.insert_results(
        [
            result(T0 + every * (i + 1), Status.CRITICAL if i % 1000 == 0 else Status.OK)
            for i in range(count)
        ]
    )
    # Raw results for the last 14 days, minute rollups before that: the default retention.
    sqlite_store.prune(now, Retention())
    history = HistoryReader(sqlite_store.engine)

    # A rolled-up minute counts at its start: the first one, T0, is after T0 - 1 minute.
    events = history.status_events("web", T0 - timedelta(minutes=1), now)

    assert len(events) == count
    assert sum(status is not Status.OK for _, status in events) == len(range(0, count, 1000))


def test_the_readers_agree_on_sqlite_and_postgresql(any_store: Store) -> None:
    any_store.insert_results(
        [
            result(
                T0 + timedelta(minutes=m),
                Status.OK if m % 4 else Status.CRITICAL,
                10.0 * m,
                healthy=bool(m % 4),
            )
            for m in range(1, 121)
        ]
    )
    any_store.rollup(T0 + timedelta(hours=2), settle=timedelta(0))
    any_store.prune(T0 + timedelta(hours=2), Retention(raw=1800))
    history = HistoryReader(any_store.engine)
    until = T0 + timedelta(hours=2)

    points = history.measurement_points("web", "healthy", T0 + timedelta(minutes=100), until)
    events = history.status_events("web", T0, until)
    hourly = history.rollup_points("web", RollupFigure.FAILURES, T0, until)
    latency = history.latency_points("web", T0 + timedelta(minutes=118), until)

    assert points == [
        (T0 + timedelta(minutes=m), 0.0 if m % 4 == 0 else 1.0) for m in range(101, 121)
    ]
    assert len(events) == 120
    assert sum(status is Status.CRITICAL for _, status in events) == 30
    assert hourly == [(T0, 14.0), (T0 + timedelta(hours=1), 15.0)]
    assert latency == [(T0 + timedelta(minutes=119), 1.19), (until, 1.2)]
