"""Uptime per window and the latency sparkline: day rollups, then hour rollups, then raw results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store
from watchkeeper.views.uptime import Uptime, read_day_bars, read_uptime

NOW = datetime(2026, 3, 20, 14, 30, tzinfo=UTC)


def every(
    check: str, start: datetime, end: datetime, step: timedelta, status: Status
) -> list[Result]:
    """Return one result of ``check`` per ``step`` from start (inclusive) to end (exclusive)."""
    found = []
    moment = start
    while moment < end:
        found.append(Result(check, moment, status, 10.0))
        moment += step
    return found


def read(store: Store, now: datetime = NOW) -> dict[str, Uptime]:
    with store.engine.connect() as connection:
        return read_uptime(connection, now, ["api", "db", "web"])


def test_uptime_counts_rolled_up_days_and_hours_and_the_raw_tail_once_each(store: Store) -> None:
    hour = timedelta(hours=1)
    # 40 days of one result an hour: ok, except 10 failures three days ago.
    results = every("api", NOW - timedelta(days=40), NOW, hour, Status.OK)
    failing = NOW - timedelta(days=3)
    results = [
        Result(
            r.check,
            r.started_at,
            Status.CRITICAL if failing <= r.started_at < failing + 10 * hour else Status.OK,
            10.0,
        )
        for r in results
    ]
    store.insert_results(results)
    store.rollup(NOW, settle=timedelta(minutes=5))

    uptime = read(store)["api"]
    month = uptime.windows["30d"]
    week = uptime.windows["7d"]
    day = uptime.windows["24h"]
    # 30d: the 29 whole days before today plus today's results at 00:30 … 13:30 UTC.
    assert month.count == 29 * 24 + 14
    assert week.count == 6 * 24 + 14
    assert day.count == 24
    assert month.failures == week.failures == 10
    assert day.failures == 0
    assert uptime.ratio("7d") == pytest.approx((week.count - 10) / week.count)


def test_results_not_yet_rolled_up_count_and_end_the_sparkline(store: Store) -> None:
    store.insert_results(
        [
            Result("db", NOW - timedelta(minutes=20), Status.OK, 30.0),
            Result("db", NOW - timedelta(minutes=10), Status.ERROR, 50.0),
        ]
    )
    uptime = read(store)["db"]
    assert uptime.windows["24h"].count == 2
    assert uptime.ratio("30d") == 0.5
    assert uptime.spark[-1] == pytest.approx(40.0)
    assert uptime.spark[:-1] == [None] * 24


def test_sparkline_has_one_mean_latency_per_rolled_up_hour(store: Store) -> None:
    start = NOW.replace(minute=0) - timedelta(hours=3)
    store.insert_results(
        [
            Result("web", start + timedelta(minutes=5), Status.OK, 100.0),
            Result("web", start + timedelta(minutes=35), Status.OK, 300.0),
            Result("web", start + timedelta(hours=1, minutes=5), Status.OK, 50.0),
        ]
    )
    store.rollup(NOW, settle=timedelta(minutes=5))
    spark = read(store)["web"].spark
    # 24 hourly slots (11:00 is the 22nd of them) and a last one for results not yet rolled up.
    assert len(spark) == 25
    assert spark[-4:] == [pytest.approx(200.0), pytest.approx(50.0), None, None]
    assert spark[:-4] == [None] * 21


def test_a_check_without_results_has_no_uptime(store: Store) -> None:
    assert read(store) == {}


def test_day_bars_count_each_day_once_from_day_and_hour_rollups_and_the_tail(store: Store) -> None:
    hour = timedelta(hours=1)
    results = every("api", NOW - timedelta(days=3), NOW, hour, Status.OK)
    two_days_ago = (NOW - timedelta(days=2)).replace(hour=0, minute=0)
    results += [Result("api", two_days_ago + timedelta(minutes=1), Status.ERROR, 1.0)]
    store.insert_results(results)
    store.rollup(NOW - timedelta(hours=2), settle=timedelta(0))
    store.insert_results([Result("api", NOW - timedelta(minutes=5), Status.CRITICAL, 1.0)])
    with store.engine.connect() as connection:
        bars = read_day_bars(connection, NOW, 4, ["api", "unknown"])["api"]
    # Three days ago from 14:30 on (10 results), two whole days (one with an error), then today.
    assert [(b.count, b.failures) for b in bars] == [(10, 0), (25, 1), (24, 0), (15, 1)]


def test_before_any_rollup_only_the_last_day_of_raw_results_counts_for_24h(store: Store) -> None:
    store.insert_results(
        [
            Result("api", NOW - timedelta(days=3), Status.ERROR, 10.0),
            Result("api", NOW - timedelta(minutes=10), Status.OK, 20.0),
        ]
    )
    uptime = read(store)["api"]
    assert (uptime.windows["24h"].count, uptime.windows["24h"].failures) == (1, 0)
    assert (uptime.windows["30d"].count, uptime.windows["30d"].failures) == (2, 1)
    assert uptime.spark[-1] == pytest.approx(20.0)
