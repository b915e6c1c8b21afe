"""Rollups per minute, hour and day, and pruning by retention, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest

from tests.store.conftest import T0, minutes, result
from watchkeeper.results import Result, Status
from watchkeeper.store.rollups import SETTLE
from watchkeeper.store.store import Resolution, Retention, Rollup, Store

DAY = 86400.0


def expected(check: str, resolution: Resolution, start: datetime, rows: list[Result]) -> Rollup:
    """Return the rollup of ``rows`` computed here, with nearest-rank p95."""
    durations = sorted(r.duration_ms for r in rows)
    return Rollup(
        check=check,
        resolution=resolution,
        bucket_start=start,
        count=len(rows),
        failures=sum(r.status is not Status.OK for r in rows),
        min_ms=durations[0],
        avg_ms=sum(durations) / len(durations),
        max_ms=durations[-1],
        p95_ms=durations[math.ceil(0.95 * len(durations)) - 1],
    )


def assert_same(actual: list[Rollup], wanted: list[Rollup]) -> None:
    """Assert the rollups are equal, allowing for floating-point rounding in the average."""
    assert [(r.check, r.bucket_start, r.count, r.failures) for r in actual] == [
        (r.check, r.bucket_start, r.count, r.failures) for r in wanted
    ]
    for got, want in zip(actual, wanted, strict=True):
        assert (got.min_ms, got.max_ms, got.p95_ms) == (want.min_ms, want.max_ms, want.p95_ms)
        assert got.avg_ms == pytest.approx(want.avg_ms)


@pytest.fixture
def two_hours(store: Store) -> list[Result]:
    """Write two hours of irregular results for two checks and return them."""
    rng = random.Random(7)
    written = [
        result(
            check,
            T0 + timedelta(seconds=rng.uniform(0, 7200)),
            round(rng.uniform(1, 900), 3),
            rng.choice([Status.OK, Status.OK, Status.OK, Status.WARNING, Status.ERROR]),
        )
        for check in ("web", "db")
        for _ in range(400)
    ]
    store.insert_results(written)
    return written


def test_minute_rollups_match_values_computed_from_the_raw_results(
    store: Store, two_hours: list[Result]
) -> None:
    store.rollup(T0 + timedelta(hours=3))
    for check in ("web", "db"):
        wanted = []
        for i in range(120):
            start = T0 + minutes(i)
            rows = [
                r
                for r in two_hours
                if r.check == check and start <= r.started_at < start + minutes(1)
            ]
            if rows:
                wanted.append(expected(check, Resolution.MINUTE, start, rows))
        actual = store.rollups(check, Resolution.MINUTE, T0, T0 + timedelta(hours=2))
        assert_same(actual, wanted)


def test_hour_and_day_rollups_are_exact_over_the_raw_results(
    store: Store, two_hours: list[Result]
) -> None:
    store.rollup(T0 + timedelta(days=1))
    web = [r for r in two_hours if r.check == "web"]
    hours = store.rollups("web", Resolution.HOUR, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert_same(
        hours,
        [
            expected("web", Resolution.HOUR, T0 + timedelta(hours=h), rows)
            for h in range(2)
            if (rows := [r for r in web if r.started_at.hour == T0.hour + h])
        ],
    )
    midnight = T0.replace(hour=0)
    days = store.rollups("web", Resolution.DAY, midnight, midnight + timedelta(days=1))
    assert_same(days, [expected("web", Resolution.DAY, midnight, web)])


def test_only_closed_buckets_are_rolled_up(store: Store) -> None:
    store.insert_results(
        [result("web", T0 + timedelta(seconds=10)), result("web", T0 + minutes(1))]
    )
    store.rollup(T0 + minutes(1) + timedelta(seconds=30), settle=timedelta(0))
    [closed] = store.rollups("web", Resolution.MINUTE, T0, T0 + timedelta(hours=1))
    assert closed.bucket_start == T0
    assert store.rollups("web", Resolution.HOUR, T0, T0 + timedelta(hours=1)) == []


def test_a_result_written_late_is_still_rolled_up_within_the_settle_time(store: Store) -> None:
    store.insert_results([result("web", T0 + timedelta(seconds=5), 1.0)])
    assert store.rollup(T0 + minutes(1) + timedelta(seconds=10)) == 0  # minute ended, not settled
    # A long check that started in the same minute is written only now.
    store.insert_results([result("web", T0 + timedelta(seconds=50), 9.0)])
    assert store.rollup(T0 + minutes(1) + SETTLE) == 1
    [minute] = store.rollups("web", Resolution.MINUTE, T0, T0 + minutes(1))
    assert (minute.count, minute.max_ms) == (2, 9.0)


def test_rollup_is_idempotent_and_picks_up_only_new_buckets(store: Store) -> None:
    store.insert_results([result("web", T0 + minutes(i), float(i)) for i in range(3)])
    now = SETTLE + minutes(3)
    assert store.rollup(T0 + now) == 3
    assert store.rollup(T0 + now) == 0
    assert len(store.rollups("web", Resolution.MINUTE, T0, T0 + minutes(10))) == 3

    store.insert_results([result("web", T0 + minutes(3), 3.0)])
    assert store.rollup(T0 + now + minutes(1)) == 1
    assert store.rollup(T0 + SETTLE + timedelta(hours=1)) == 1
    assert store.rollup(T0 + SETTLE + timedelta(hours=1)) == 0
    [hour] = store.rollups("web", Resolution.HOUR, T0, T0 + timedelta(hours=1))
    assert (hour.count, hour.min_ms, hour.max_ms) == (4, 0.0, 3.0)


def test_prune_removes_old_raw_results_but_keeps_their_rollups(store: Store) -> None:
    old = [result("web", T0 + minutes(i), 5.0, Status.ERROR) for i in range(3)]
    recent = [result("web", T0 + timedelta(days=20) + minutes(i), 7.0) for i in range(2)]
    store.insert_results(old + recent)
    now = T0 + timedelta(days=21)

    deleted = store.prune(now, Retention(raw=14 * DAY))

    assert deleted["results"] == 3
    assert [r.started_at for r in store.history("web")] == [r.started_at for r in reversed(recent)]
    minute_rollups = store.rollups("web", Resolution.MINUTE, T0, T0 + minutes(3))
    assert [(r.count, r.failures, r.max_ms) for r in minute_rollups] == [(1, 1, 5.0)] * 3
    [day] = store.rollups("web", Resolution.DAY, T0.replace(hour=0), T0 + timedelta(days=1))
    assert (day.count, day.failures) == (3, 3)


def test_prune_drops_rollups_past_their_retention_and_keeps_days_forever(store: Store) -> None:
    store.insert_results([result("web", T0)])
    store.rollup(T0 + timedelta(days=1))
    now = T0 + timedelta(days=500)

    deleted = store.prune(now, Retention(raw=DAY, minute=30 * DAY, hour=400 * DAY, day=None))

    assert deleted == {"results": 1, "rollups": 2}
    since, until = T0 - timedelta(days=1), T0 + timedelta(days=1)
    assert store.rollups("web", Resolution.MINUTE, since, until) == []
    assert store.rollups("web", Resolution.HOUR, since, until) == []
    assert len(store.rollups("web", Resolution.DAY, since, until)) == 1
