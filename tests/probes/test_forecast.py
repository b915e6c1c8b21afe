"""Forecast checks read a measurement's history from a real store and say when it reaches its
limit: the monthly review's "disk full in N days", critical within ``alert_within``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.probes.test_trend import run_check
from watchkeeper.config.specs.forecast import ForecastSpec
from watchkeeper.probes.forecast import judge_forecast
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

DAY = 86400.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "wk.db"))
    yield opened
    opened.close()


def filling_disk(store: Store, days: int, every: timedelta = timedelta(hours=1)) -> datetime:
    """Write ``days`` of ``disk_used_percent`` that grew linearly by 1%/day to 40% + days now,
    with a little noise; return now."""
    now = datetime.now(UTC)
    noise = random.Random(3)
    count = int(timedelta(days=days) / every)
    store.insert_results(
        [
            Result(
                "api",
                now - every * k,
                Status.OK,
                5.0,
                "",
                {
                    "disk_used_percent": 40
                    + days
                    - (every * k) / timedelta(days=1)
                    + noise.gauss(0, 0.2)
                },
            )
            for k in range(1, count + 1)
        ]
    )
    return now


def forecast(limit: float, **more: str) -> str:
    extra = "".join(f", {k}: {v}" for k, v in more.items())
    return f"""\
  - name: disk-forecast
    forecast: {{check: api, measurement: disk_used_percent, limit: {limit}{extra}}}
"""


async def test_a_disk_filling_by_one_percent_a_day_is_full_within_a_day_of_the_truth(
    tmp_path: Path, store: Store
) -> None:
    filling_disk(store, 30)  # at 70% now: full in 30 days

    result = await run_check(tmp_path, store, forecast(100), "disk-forecast")

    assert result.status is Status.OK, result.message
    measured = result.measurements
    assert measured["time_to_limit"] == pytest.approx(30 * DAY, abs=DAY)
    assert measured["earliest"] <= measured["time_to_limit"] <= measured["latest"]
    assert measured["outlook"] == "will_cross"
    assert measured["slope_per_day"] == pytest.approx(1.0, abs=0.02)
    assert measured["points"] == 30 * 24 - 1  # the oldest is on the lookback's open edge
    assert measured["model"] in ("linear", "holt")


async def test_a_limit_reached_sooner_than_alert_within_is_critical(
    tmp_path: Path, store: Store
) -> None:
    filling_disk(store, 30)  # 80% in 10 days

    result = await run_check(tmp_path, store, forecast(80), "disk-forecast")

    assert result.status is Status.CRITICAL
    assert result.measurements["time_to_limit"] == pytest.approx(10 * DAY, abs=DAY)
    assert "time_to_limit" in result.message


async def test_a_limit_already_reached_is_critical(tmp_path: Path, store: Store) -> None:
    filling_disk(store, 30)

    result = await run_check(tmp_path, store, forecast(60), "disk-forecast")

    assert result.status is Status.CRITICAL
    assert result.measurements["outlook"] == "already_crossed"
    assert result.measurements["time_to_limit"] == 0.0


async def test_a_disk_that_is_not_filling_is_ok_with_no_time_to_limit(
    tmp_path: Path, store: Store
) -> None:
    now = datetime.now(UTC)
    noise = random.Random(5)
    store.insert_results(
        [
            Result(
                "api",
                now - timedelta(hours=k),
                Status.OK,
                5.0,
                "",
                {"disk_used_percent": 50 + noise.gauss(0, 0.5)},
            )
            for k in range(1, 24 * 20)
        ]
    )

    result = await run_check(tmp_path, store, forecast(90), "disk-forecast")

    assert result.status is Status.OK, result.message
    assert result.measurements["time_to_limit"] is None
    assert result.measurements["outlook"] in ("flat", "falling")


async def test_too_few_points_to_fit_is_said_and_stays_ok(tmp_path: Path, store: Store) -> None:
    filling_disk(store, 2, every=timedelta(days=1))

    result = await run_check(tmp_path, store, forecast(100), "disk-forecast")

    assert result.status is Status.OK, result.message
    assert result.measurements["points"] == 2
    assert result.measurements["time_to_limit"] is None
    assert "at least 3 points" in result.measurements["no_forecast"]


async def test_last_periods_forecast_is_scored_against_what_followed(
    tmp_path: Path, store: Store
) -> None:
    filling_disk(store, 44)  # a 30-day lookback ending 14 days ago, and the 14 days since

    result = await run_check(tmp_path, store, forecast(100), "disk-forecast")

    assert result.measurements["accuracy_mae"] < 0.5
    assert result.measurements["accuracy_coverage"] > 80.0


async def test_a_month_of_values_every_30_seconds_is_forecast_from_a_thinned_fit(
    tmp_path: Path, store: Store
) -> None:
    filling_disk(store, 30, every=timedelta(seconds=30))

    result = await run_check(tmp_path, store, forecast(100), "disk-forecast")

    assert result.measurements["time_to_limit"] == pytest.approx(30 * DAY, abs=DAY)


def test_accuracy_is_absent_without_a_forecast_made_back_then() -> None:
    now = datetime(2024, 3, 15, tzinfo=UTC)
    points = [(now - timedelta(days=k), 50.0 + k) for k in range(10)]

    measured = judge_forecast(
        ForecastSpec(check="api", measurement="disk_used_percent", limit=95), points, now
    )

    assert "accuracy_mae" not in measured
    assert measured["points"] == 10
