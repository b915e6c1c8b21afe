"""Trends: this week against last (a +40% week is flagged, +10% is not), baselines, consistency."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.analytics.series import Point
from watchkeeper.analytics.trends import (
    Aggregate,
    Direction,
    NoChange,
    baseline,
    coefficient_of_variation,
    month_over_month,
    percentile,
    period_change,
    week_over_week,
)

NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def hourly(value: float, since: timedelta, until: timedelta = timedelta(0)) -> list[Point]:
    """Return one point an hour with ``value``, from ``NOW - since`` (exclusive) to ``NOW - until``."""
    hours = int((since - until) / HOUR)
    return [(NOW - until - n * HOUR, value) for n in range(hours)]


def two_weeks(last_week: float, this_week: float) -> list[Point]:
    return hourly(last_week, since=14 * DAY, until=7 * DAY) + hourly(this_week, since=7 * DAY)


def test_a_40_percent_rise_in_response_time_is_flagged() -> None:
    trend = week_over_week(two_weeks(last_week=200.0, this_week=280.0), NOW)

    assert trend.previous == 200.0
    assert trend.current == 280.0
    assert trend.change == pytest.approx(0.40)
    assert trend.direction is Direction.RISING


def test_a_10_percent_rise_is_steady() -> None:
    trend = week_over_week(two_weeks(last_week=200.0, this_week=220.0), NOW)

    assert trend.change == pytest.approx(0.10)
    assert trend.direction is Direction.STEADY


def test_a_40_percent_drop_is_falling() -> None:
    trend = week_over_week(two_weeks(last_week=200.0, this_week=120.0), NOW)

    assert trend.change == pytest.approx(-0.40)
    assert trend.direction is Direction.FALLING


def test_exactly_the_threshold_is_not_more_than_it() -> None:
    # The guides escalate on "> 25%": a rise of exactly 25% is still steady.
    assert week_over_week(two_weeks(100.0, 125.0), NOW).direction is Direction.STEADY
    assert week_over_week(two_weeks(100.0, 125.0), NOW, threshold=0.2).direction is Direction.RISING


def test_error_counts_compare_by_sum_not_by_mean() -> None:
    # Last week: 10 errors a day in one daily count; this week: 14 a day, reported twice a day.
    points = [(NOW - 7 * DAY - n * DAY, 10.0) for n in range(7)]
    points += [(NOW - n * DAY / 2, 7.0) for n in range(14)]

    by_sum = week_over_week(points, NOW, Aggregate.SUM)
    by_mean = week_over_week(points, NOW)

    assert (by_sum.previous, by_sum.current) == (70.0, 98.0)
    assert by_sum.change == pytest.approx(0.40)
    assert by_sum.direction is Direction.RISING
    assert by_mean.direction is Direction.FALLING


def test_count_compares_how_many_events_happened() -> None:
    events = [(NOW - 8 * DAY, 1.0)] * 5 + [(NOW - DAY, 1.0)] * 6

    trend = week_over_week(events, NOW, Aggregate.COUNT)

    assert (trend.previous, trend.current) == (5.0, 6.0)
    assert trend.change == pytest.approx(0.2)
    assert (trend.previous_points, trend.current_points) == (5, 6)
    assert trend.direction is Direction.STEADY


def test_periods_are_half_open_a_point_at_now_counts_and_one_a_week_ago_is_last_weeks() -> None:
    trend = week_over_week([(NOW, 10.0), (NOW - 7 * DAY, 5.0), (NOW - 14 * DAY, 99.0)], NOW)

    assert (trend.current, trend.previous) == (10.0, 5.0)
    assert (trend.current_points, trend.previous_points) == (1, 1)


def test_points_older_than_two_periods_and_after_now_are_ignored() -> None:
    points = [*two_weeks(100.0, 100.0), (NOW - 15 * DAY, 1e9), (NOW + HOUR, 1e9)]

    assert week_over_week(points, NOW).change == 0.0


def test_no_previous_data_gives_no_change_and_says_why() -> None:
    trend = week_over_week(hourly(100.0, since=3 * DAY), NOW)

    assert trend.previous is None
    assert trend.change is None
    assert trend.no_change is NoChange.PREVIOUS_EMPTY
    assert trend.direction is Direction.UNKNOWN


def test_no_current_data_gives_no_change_and_says_why() -> None:
    trend = week_over_week(hourly(100.0, since=14 * DAY, until=7 * DAY), NOW)

    assert trend.current is None
    assert trend.no_change is NoChange.CURRENT_EMPTY
    assert trend.direction is Direction.UNKNOWN


def test_no_data_at_all_is_unknown() -> None:
    trend = week_over_week([], NOW)

    assert (trend.current, trend.previous, trend.change) == (None, None, None)
    assert trend.direction is Direction.UNKNOWN


def test_errors_after_a_week_without_any_are_rising_though_the_change_is_undefined() -> None:
    # A count of no events is zero errors, not missing data.
    trend = week_over_week([(NOW - DAY, 1.0)] * 3, NOW, Aggregate.COUNT)

    assert (trend.previous, trend.current) == (0.0, 3.0)
    assert trend.previous_points == 0
    assert trend.change is None
    assert trend.no_change is NoChange.PREVIOUS_ZERO
    assert trend.direction is Direction.RISING


def test_zero_both_weeks_is_steady() -> None:
    trend = week_over_week(two_weeks(0.0, 0.0), NOW, Aggregate.SUM)

    assert trend.no_change is NoChange.PREVIOUS_ZERO
    assert trend.direction is Direction.STEADY


def test_a_partial_previous_week_still_compares_means() -> None:
    # Monitoring began 10 days ago: last week has 3 days of data, this week all 7.
    points = hourly(200.0, since=10 * DAY, until=7 * DAY) + hourly(300.0, since=7 * DAY)

    trend = week_over_week(points, NOW)

    assert (trend.previous_points, trend.current_points) == (72, 168)
    assert trend.change == pytest.approx(0.5)
    assert trend.direction is Direction.RISING


def test_a_partial_week_in_the_middle_of_a_calendar_week_uses_rolling_periods() -> None:
    # Wednesday noon: "this week" is the 7 days up to now, not since Monday.
    wednesday = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
    points = [(wednesday - n * HOUR, 100.0 if n < 7 * 24 else 50.0) for n in range(14 * 24)]

    assert week_over_week(points, wednesday).change == pytest.approx(1.0)


def test_month_over_month_compares_30_day_periods() -> None:
    points = hourly(50.0, since=60 * DAY, until=30 * DAY) + hourly(40.0, since=30 * DAY)

    trend = month_over_month(points, NOW)

    assert trend.period == 30 * DAY
    assert (trend.previous_points, trend.current_points) == (720, 720)
    assert trend.change == pytest.approx(-0.2)
    assert trend.direction is Direction.STEADY


def test_any_period_can_be_compared() -> None:
    points = [(NOW - timedelta(minutes=90), 1.0), (NOW - timedelta(minutes=10), 3.0)]

    trend = period_change(points, NOW, HOUR)

    assert (trend.previous, trend.current) == (1.0, 3.0)
    assert trend.change == pytest.approx(2.0)


def test_a_naive_now_is_refused_even_without_points() -> None:
    # A naive time would compare as local time against the points' UTC ones.
    naive = datetime(2026, 3, 16, 9, 0)
    for compare in (week_over_week, month_over_month):
        with pytest.raises(ValueError, match="timezone-aware"):
            compare([], naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        period_change([], naive, HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        baseline([], naive)


def test_a_period_must_be_positive_and_the_threshold_not_negative() -> None:
    with pytest.raises(ValueError, match="period"):
        period_change([], NOW, timedelta(0))
    with pytest.raises(ValueError, match="threshold"):
        period_change([], NOW, HOUR, threshold=-0.1)


@settings(max_examples=200)
@given(
    previous=st.lists(st.floats(1.0, 1e6), min_size=1, max_size=20),
    current=st.lists(st.floats(0.0, 1e6), min_size=1, max_size=20),
    k=st.floats(1e-3, 1e3),
    aggregate=st.sampled_from(Aggregate),
)
def test_scaling_every_value_by_k_leaves_the_relative_change_and_direction_unchanged(
    previous: list[float], current: list[float], k: float, aggregate: Aggregate
) -> None:
    points = [(NOW - 7 * DAY - n * HOUR, v) for n, v in enumerate(previous)]
    points += [(NOW - n * HOUR, v) for n, v in enumerate(current)]
    scaled = [(at, v * k) for at, v in points]

    trend = week_over_week(points, NOW, aggregate)
    trend_scaled = week_over_week(scaled, NOW, aggregate)

    assert trend.change is not None and trend_scaled.change is not None
    assert trend_scaled.change == pytest.approx(trend.change, rel=1e-9, abs=1e-9)
    if abs(abs(trend.change) - trend.threshold) > 1e-6:
        assert trend_scaled.direction is trend.direction


def test_coefficient_of_variation_is_sample_stdev_over_mean() -> None:
    # stdev of 90, 100, 110 is 10 (sample), the mean 100.
    assert coefficient_of_variation([90.0, 100.0, 110.0]) == pytest.approx(0.10)


def test_steady_response_times_are_under_5_percent_variance_and_jittery_ones_are_not() -> None:
    steady = [200.0 + (n % 5) for n in range(100)]
    jittery = [200.0 if n % 2 else 260.0 for n in range(100)]

    steady_cv, jittery_cv = coefficient_of_variation(steady), coefficient_of_variation(jittery)

    assert steady_cv is not None and steady_cv < 0.05
    assert jittery_cv is not None and jittery_cv > 0.05


def test_coefficient_of_variation_is_undefined_for_fewer_than_two_values_or_a_zero_mean() -> None:
    assert coefficient_of_variation([]) is None
    assert coefficient_of_variation([120.0]) is None
    assert coefficient_of_variation([-1.0, 1.0]) is None


def test_baseline_is_mean_median_and_p95_of_the_last_30_days() -> None:
    # 1..100 over the last 30 days; an older spike that must not count.
    points = [(NOW - n * 7 * HOUR, float(n + 1)) for n in range(100)]
    points.append((NOW - 31 * DAY, 10_000.0))

    base = baseline(points, NOW)

    assert base is not None
    assert (base.since, base.until, base.points) == (NOW - 30 * DAY, NOW, 100)
    assert base.mean == pytest.approx(50.5)
    assert base.p50 == pytest.approx(50.5)
    assert base.p95 == pytest.approx(95.05)


def test_baseline_of_nothing_is_none() -> None:
    assert baseline([(NOW - 40 * DAY, 1.0)], NOW) is None


def test_baseline_of_one_point_is_that_point() -> None:
    base = baseline([(NOW, 7.0)], NOW)

    assert base is not None
    assert (base.mean, base.p50, base.p95) == (7.0, 7.0, 7.0)


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50))
def test_percentile_agrees_with_the_standard_librarys_inclusive_quantiles(
    values: list[float],
) -> None:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=20, method="inclusive")

    assert percentile(ordered, 95) == pytest.approx(cuts[18], rel=1e-9, abs=1e-6)
    assert percentile(ordered, 50) == pytest.approx(statistics.median(ordered), rel=1e-9, abs=1e-6)
    assert (percentile(ordered, 0), percentile(ordered, 100)) == (ordered[0], ordered[-1])
