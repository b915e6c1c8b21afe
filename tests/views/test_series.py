"""Chart series: raw results for short ranges, rollups for long ones, with the unrolled tail added."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store
from watchkeeper.views.series import RANGES, read_series

NOW = datetime(2026, 3, 20, 14, 30, tzinfo=UTC)


def test_an_hour_is_drawn_from_raw_results(store: Store) -> None:
    store.insert_results(
        [
            Result("api", NOW - timedelta(minutes=90), Status.OK, 5.0),
            Result("api", NOW - timedelta(minutes=30), Status.OK, 10.0),
            Result("api", NOW - timedelta(minutes=10), Status.CRITICAL, 20.0),
            Result("other", NOW - timedelta(minutes=10), Status.OK, 1.0),
        ]
    )
    with store.engine.connect() as connection:
        series = read_series(connection, "api", NOW - RANGES["1h"], NOW)
    assert series.resolution == "raw"
    assert [(p.avg_ms, p.failures) for p in series.points] == [(10.0, 0), (20.0, 1)]


def test_thirty_days_come_from_hour_rollups_then_the_raw_tail_in_hour_buckets(
    store: Store,
) -> None:
    start = NOW - timedelta(days=2)
    store.insert_results(
        [
            Result("api", start + timedelta(minutes=10 * i), Status.OK, float(i % 6))
            for i in range(200)
        ]
    )
    store.rollup(NOW - timedelta(hours=3), settle=timedelta(0))
    # Results after the rollup: they must still be drawn, bucketed by hour.
    store.insert_results(
        [
            Result("api", NOW - timedelta(minutes=25), Status.ERROR, 100.0),
            Result("api", NOW - timedelta(minutes=20), Status.OK, 300.0),
        ]
    )
    with store.engine.connect() as connection:
        series = read_series(connection, "api", NOW - RANGES["30d"], NOW)
    assert series.resolution == "hour"
    starts = [p.start for p in series.points]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(s.minute == 0 for s in starts)
    assert sum(p.count for p in series.points) == 202
    last = series.points[-1]
    assert (last.start, last.count, last.failures, last.avg_ms, last.max_ms) == (
        NOW.replace(minute=0),
        2,
        1,
        200.0,
        300.0,
    )


def test_a_day_is_drawn_per_minute(store: Store) -> None:
    store.insert_results([Result("api", NOW - timedelta(hours=5), Status.OK, 1.0)])
    with store.engine.connect() as connection:
        series = read_series(connection, "api", NOW - RANGES["24h"], NOW)
    assert series.resolution == "minute"
    assert [p.start for p in series.points] == [(NOW - timedelta(hours=5)).replace(second=0)]
