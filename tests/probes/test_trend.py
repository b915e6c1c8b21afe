"""Trend checks compare this week (or month) of another check's history in a real store with the
one before: the weekly review's "slower than last week" and "error trend up > 25%"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.config.test_loader import problems, write
from watchkeeper.config.loader import load_config
from watchkeeper.config.specs.trend import TrendSpec
from watchkeeper.engine.plan import plan_checks
from watchkeeper.engine.runner import Runner
from watchkeeper.probes.trend import judge_trend
from watchkeeper.readers import probe_context
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

WATCHED = """\
checks:
  - {name: api, http: {url: "http://127.0.0.1:9/health"}}
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "wk.db"))
    yield opened
    opened.close()


async def run_check(tmp_path: Path, store: Store, checks: str, name: str) -> Result:
    """Run the check ``name`` of WATCHED plus ``checks`` once, the way ``serve`` does."""
    loaded = load_config(write(tmp_path, WATCHED + checks))
    [plan] = [p for p in plan_checks(loaded.config) if p.name == name]
    ctx = probe_context(store, lambda: loaded.config)
    try:
        return await Runner(ctx, loaded.secrets).run(plan)
    finally:
        await ctx.close()


def hourly(
    store: Store,
    hours: int,
    duration_ms: Callable[[int], float],
    status: Callable[[int], Status] = lambda k: Status.OK,
    **measurements: Callable[[int], object],
) -> datetime:
    """Write one result of ``api`` an hour for ``hours`` hours up to now (k hours ago: values of
    k); return now."""
    now = datetime.now(UTC)
    store.insert_results(
        [
            Result(
                "api",
                now - timedelta(hours=k),
                status(k),
                duration_ms(k),
                "",
                {name: value(k) for name, value in measurements.items()},
            )
            for k in range(1, hours + 1)
        ]
    )
    return now


def slower_this_week(by: float) -> Callable[[int], float]:
    return lambda k: 100.0 * (1 + by) if k < 168 else 100.0


TREND = """\
  - name: api-trend
    trend: {check: api}
"""


async def test_a_week_forty_percent_slower_is_flagged(tmp_path: Path, store: Store) -> None:
    now = hourly(store, 14 * 24, slower_this_week(0.40))
    # Most of the fortnight read from hourly rollups, the last hour and more from raw results.
    store.rollup(now - timedelta(hours=2))

    result = await run_check(tmp_path, store, TREND, "api-trend")

    assert result.status is Status.WARNING, result.message
    measured = result.measurements
    assert measured["flagged"] is True
    assert measured["direction"] == "rising"
    assert measured["change_percent"] == pytest.approx(40.0)
    assert measured["current"] == pytest.approx(0.14)
    assert measured["previous"] == pytest.approx(0.10)
    assert measured["current_points"] == 167
    assert measured["previous_points"] == 168


async def test_a_week_ten_percent_slower_is_not_flagged(tmp_path: Path, store: Store) -> None:
    hourly(store, 14 * 24, slower_this_week(0.10))

    result = await run_check(tmp_path, store, TREND, "api-trend")

    assert result.status is Status.OK, result.message
    assert result.measurements["flagged"] is False
    assert result.measurements["direction"] == "steady"
    assert result.measurements["change_percent"] == pytest.approx(10.0)


async def test_a_raw_measurement_summed_per_week_flags_errors_that_doubled(
    tmp_path: Path, store: Store
) -> None:
    hourly(store, 14 * 24, lambda k: 5.0, error_count=lambda k: 2 if k < 168 else 1)
    checks = """\
  - name: errors-trend
    trend: {check: api, measurement: error_count, aggregate: sum, threshold: 25%}
"""

    result = await run_check(tmp_path, store, checks, "errors-trend")

    assert result.status is Status.WARNING, result.message
    assert result.measurements["current"] == 2 * 167
    assert result.measurements["previous"] == 168
    assert result.measurements["change_percent"] == pytest.approx(100 * (334 / 168 - 1))


async def test_a_falling_failure_rate_counts_only_when_the_direction_is_down(
    tmp_path: Path, store: Store
) -> None:
    # Every other result failed last week, one in four this week.
    hourly(
        store,
        14 * 24,
        lambda k: 5.0,
        status=lambda k: Status.CRITICAL if k % (4 if k < 168 else 2) == 0 else Status.OK,
    )
    checks = """\
  - name: down
    trend: {check: api, measurement: failure_rate, direction: down}
  - name: up
    trend: {check: api, measurement: failure_rate}
"""

    down = await run_check(tmp_path, store, checks, "down")
    up = await run_check(tmp_path, store, checks, "up")

    assert down.measurements["direction"] == up.measurements["direction"] == "falling"
    assert down.measurements["flagged"] is True
    assert up.measurements["flagged"] is False
    assert down.measurements["previous"] == pytest.approx(50.0)
    assert down.measurements["current"] == pytest.approx(100 * 41 / 167)


def test_p95_compares_each_weeks_95th_percentile() -> None:
    now = datetime(2024, 3, 15, tzinfo=UTC)
    # This week's slowest tenth took three times as long: the mean rose 20%, the p95 tripled.
    points = [
        (now - timedelta(hours=k), 3.0 if k % 10 == 0 and k < 168 else 1.0) for k in range(1, 337)
    ]

    p95 = judge_trend(TrendSpec(check="api", aggregate="p95", threshold="50%"), points, now)
    mean = judge_trend(TrendSpec(check="api", threshold="50%"), points, now)

    assert (p95["previous"], p95["current"]) == (1.0, 3.0)
    assert p95["flagged"] is True
    assert (p95["current_points"], p95["previous_points"]) == (167, 168)
    assert mean["flagged"] is False


def test_a_week_with_no_history_before_it_is_not_comparable_and_not_flagged() -> None:
    now = datetime(2024, 3, 15, tzinfo=UTC)
    points = [(now - timedelta(hours=k), 0.2) for k in range(1, 100)]

    measured = judge_trend(TrendSpec(check="api"), points, now)

    assert "change_percent" not in measured
    assert measured["incomparable"] == "previous_empty"
    assert measured["direction"] == "unknown"
    assert measured["flagged"] is False
    assert measured["baseline_mean"] == pytest.approx(0.2)


def test_variation_over_the_month_is_its_coefficient_in_percent() -> None:
    now = datetime(2024, 3, 15, tzinfo=UTC)
    points = [(now - timedelta(hours=k), 0.1 if k % 2 else 0.3) for k in range(720)]

    measured = judge_trend(TrendSpec(check="api", period="month"), points, now)

    # Half 0.1, half 0.3: mean 0.2, sample stdev just over 0.1.
    assert measured["baseline_mean"] == pytest.approx(0.2)
    assert measured["cv_percent"] == pytest.approx(50.0, abs=0.1)


def test_a_threshold_is_a_percent_or_a_share_never_a_bare_percent_number() -> None:
    assert TrendSpec(check="api", threshold="40%").threshold == pytest.approx(0.4)
    assert TrendSpec(check="api", threshold=0.4).threshold == pytest.approx(0.4)
    assert TrendSpec(check="api", threshold="150%").threshold == pytest.approx(1.5)
    with pytest.raises(ValidationError, match="write 25%"):
        TrendSpec(check="api", threshold=40)


def test_a_trend_of_an_unknown_check_is_reported_at_its_line(tmp_path: Path) -> None:
    text = WATCHED + "  - {name: t, trend: {check: apj}}\n"
    [found] = problems(tmp_path, text)
    assert "unknown check 'apj' (did you mean 'api'?)" in found
    assert found.startswith("3:"), found


def test_a_trend_cannot_watch_itself(tmp_path: Path) -> None:
    [found] = problems(tmp_path, WATCHED + "  - {name: t, trend: {check: t}}\n")
    assert "cannot watch itself" in found
