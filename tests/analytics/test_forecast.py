"""Forecasts on synthetic series with known answers: fill dates, flat, falling and wandering series,
the model chosen by held-out error, interval coverage, and last period's accuracy."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.analytics.forecast import (
    HOLT_MARGIN,
    Forecast,
    ModelKind,
    Outlook,
    Selection,
    fit_forecast,
    forecast_accuracy,
    threshold_crossing,
    time_to_threshold,
)
from watchkeeper.analytics.forecast_models import (
    HoltFit,
    IntervalMethod,
    LinearFit,
    effective_points,
    fit_holt,
    fit_linear,
    resample,
    student_t_quantile,
)
from watchkeeper.analytics.series import Point

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def day(d: float) -> datetime:
    return T0 + timedelta(days=d)


def disk_growth(seed: int, days: int = 20, noise: float = 0.3) -> list[Point]:
    """Hourly disk use from 40%, growing 1.5 points a day: it fills (100%) on day 40."""
    rng = random.Random(seed)
    return [(day(h / 24), 40 + 1.5 * h / 24 + rng.gauss(0, noise)) for h in range(days * 24 + 1)]


def holt_process(seed: int, n: int = 80, alpha: float = 0.5, beta: float = 0.3) -> list[Point]:
    """Daily values of a local linear trend process (ETS(A,A,N)) whose trend wanders."""
    rng = random.Random(seed)
    level, trend, points = 50.0, 0.5, []
    for d in range(n):
        error = rng.gauss(0, 1)
        points.append((day(d), level + trend + error))
        level, trend = level + trend + alpha * error, trend + alpha * beta * error
    return points


def random_walk(seed: int, hours: int = 500, step: float = 0.1) -> list[Point]:
    """Hourly values from 50 that wander with no drift: any trend in them is chance."""
    rng = random.Random(seed)
    value, points = 50.0, []
    for h in range(hours):
        points.append((day(h / 24), value))
        value += rng.gauss(0, step)
    return points


def chosen_by_error(points: list[Point], forecast: Forecast) -> bool:
    """Score both models on an 80/20 split of ``points`` here, independently of ``fit_forecast``:
    the forecast must report these scores and pick Holt only when it beats the line's by the
    margin."""
    split = len(points) - round(len(points) * 0.2)
    train, test = points[:split], points[split:]
    linear, holt = fit_linear(train), fit_holt(train)
    linear_mae = sum(abs(v - linear.value_at(t)) for t, v in test) / len(test)
    holt_mae = sum(abs(v - holt.value_at(t)) for t, v in test) / len(test)
    assert forecast.held_out is not None
    assert forecast.held_out.linear_mae == pytest.approx(linear_mae)
    assert forecast.held_out.holt_mae == pytest.approx(holt_mae)
    best = ModelKind.HOLT if holt_mae < HOLT_MARGIN * linear_mae else ModelKind.LINEAR
    return forecast.model is best


# Fill dates


@pytest.mark.parametrize("seed", range(5))
def test_linear_disk_growth_is_forecast_to_fill_within_a_day_of_the_true_date(seed: int) -> None:
    points = disk_growth(seed)
    crossing = time_to_threshold(points, 100, now=day(20))

    assert crossing.outlook is Outlook.WILL_CROSS
    assert crossing.at is not None and abs(crossing.at - day(40)) < timedelta(days=1)
    assert crossing.days_until == pytest.approx(20, abs=1)
    assert crossing.earliest is not None and crossing.earliest <= day(40)
    # Holt's widening interval may leave no latest date within the search; the line's does not.
    assert crossing.latest is None or day(40) <= crossing.latest


@pytest.mark.parametrize("seed", range(3))
def test_a_fill_date_is_counted_from_now_even_when_now_is_after_the_last_point(seed: int) -> None:
    crossing = time_to_threshold(disk_growth(seed), 100, now=day(22))

    assert crossing.at is not None and abs(crossing.at - day(40)) < timedelta(days=1)
    assert crossing.days_until == pytest.approx(18, abs=1)


def test_points_after_now_are_ignored() -> None:
    known = disk_growth(0)
    later = [(day(20 + h / 24), 10.0) for h in range(1, 24 * 5)]

    crossing = time_to_threshold(known + later, 100, now=day(20))

    assert crossing == time_to_threshold(known, 100, now=day(20))
    assert crossing.forecast.end == day(20)


def test_irregularly_spaced_growth_is_forecast_within_a_day() -> None:
    rng = random.Random(7)
    times = sorted(rng.uniform(0, 20) for _ in range(300))
    points = [(day(d), 40 + 1.5 * d + rng.gauss(0, 0.3)) for d in times]

    crossing = time_to_threshold(points, 100, now=day(20))

    assert crossing.at is not None and abs(crossing.at - day(40)) < timedelta(days=1)


def test_a_flat_series_has_no_fill_date() -> None:
    rng = random.Random(3)
    points = [(day(h / 24), 50 + rng.gauss(0, 2)) for h in range(14 * 24)]

    crossing = time_to_threshold(points, 100, now=day(14))

    assert crossing.outlook is Outlook.FLAT
    assert crossing.at is None and crossing.earliest is None and crossing.latest is None
    assert crossing.days_until is None


def test_a_falling_series_has_no_fill_date() -> None:
    rng = random.Random(4)
    points = [(day(d), 80 - 0.5 * d + rng.gauss(0, 0.5)) for d in range(30)]

    crossing = time_to_threshold(points, 100, now=day(30))

    assert crossing.outlook is Outlook.FALLING
    assert crossing.at is None


def test_a_series_already_over_the_threshold_says_so() -> None:
    points = [(day(d), 90 + d) for d in range(15)]

    crossing = time_to_threshold(points, 100, now=day(14))

    assert crossing.outlook is Outlook.ALREADY_CROSSED
    assert crossing.at is None


def test_noisy_flat_series_are_called_flat_at_about_the_stated_confidence() -> None:
    outlooks = []
    for seed in range(100):
        rng = random.Random(seed)
        noisy = [(day(d), 50 + rng.gauss(0, 5)) for d in range(30)]
        outlooks.append(time_to_threshold(noisy, 100, now=day(30), confidence=0.9).outlook)

    assert outlooks.count(Outlook.FLAT) >= 85


def test_driftless_random_walks_are_mostly_called_flat() -> None:
    # Disks wander: an hour's value is last hour's plus noise, so residuals from a line run in long
    # same-signed stretches, and counting them as independent called most of these a trend.
    outlooks = [
        time_to_threshold(walk, 100, now=walk[-1][0], confidence=0.9).outlook
        for walk in (random_walk(seed) for seed in range(100))
    ]

    assert outlooks.count(Outlook.FLAT) >= 80


def test_autocorrelated_residuals_are_worth_fewer_points_and_independent_ones_all() -> None:
    rng = random.Random(5)
    independent = [rng.gauss(0, 1) for _ in range(400)]
    smooth = [math.sin(i / 20) for i in range(400)]

    assert effective_points(independent) > 300
    assert effective_points(smooth) == 3
    assert effective_points([1.0, -1.0] * 50) == 100
    assert effective_points([0.0] * 10) == 10


def test_a_lower_confidence_narrows_the_crossing_window() -> None:
    forecast = fit_forecast(disk_growth(1))
    wide = threshold_crossing(forecast, 100, day(20), confidence=0.99)
    narrow = threshold_crossing(forecast, 100, day(20), confidence=0.5)

    assert wide.earliest is not None and wide.latest is not None
    assert narrow.earliest is not None and narrow.latest is not None
    assert wide.earliest < narrow.earliest < narrow.latest < wide.latest
    assert wide.at == narrow.at


@settings(max_examples=25, deadline=None)
@given(
    start=st.floats(0, 80),
    slope=st.floats(0.05, 5),
    headroom=st.floats(1, 400),
    days=st.integers(10, 60),
)
def test_an_exact_line_crosses_exactly_where_algebra_says(
    start: float, slope: float, headroom: float, days: int
) -> None:
    threshold = start + slope * days + headroom
    points = [(day(d), start + slope * d) for d in range(days + 1)]

    crossing = time_to_threshold(points, threshold, now=day(days))

    true_day = (threshold - start) / slope
    assert crossing.outlook is Outlook.WILL_CROSS
    assert crossing.at is not None
    assert abs(crossing.at - day(true_day)) < timedelta(minutes=1)


# Choosing the model


@pytest.mark.parametrize("seed", range(5))
def test_exponential_growth_picks_holt_by_held_out_error(seed: int) -> None:
    rng = random.Random(seed)
    points = [(day(d), 10 * math.exp(0.05 * d) + rng.gauss(0, 0.5)) for d in range(60)]

    forecast = fit_forecast(points)

    assert forecast.model is ModelKind.HOLT
    assert forecast.held_out is not None
    assert forecast.held_out.holt_mae < forecast.held_out.linear_mae


def test_a_level_shift_mostly_picks_holt_and_always_the_lower_held_out_error() -> None:
    series = []
    for seed in range(10):
        rng = random.Random(seed)
        series.append([(day(d), (40 if d < 30 else 60) + rng.gauss(0, 1)) for d in range(60)])
    forecasts = [fit_forecast(points) for points in series]

    assert all(chosen_by_error(p, f) for p, f in zip(series, forecasts, strict=True))
    assert sum(f.model is ModelKind.HOLT for f in forecasts) >= 8


def test_a_holt_process_mostly_picks_holt_and_a_straight_line_mostly_picks_linear() -> None:
    holt_series = [holt_process(seed) for seed in range(20)]
    line_series = [
        [(day(d), 40 + 1.5 * d + rng.gauss(0, 1)) for d in range(60)]
        for rng in (random.Random(seed) for seed in range(20))
    ]
    holt = [fit_forecast(points) for points in holt_series]
    lines = [fit_forecast(points) for points in line_series]

    assert all(
        chosen_by_error(p, f) for p, f in zip(holt_series + line_series, holt + lines, strict=True)
    )
    assert sum(f.model is ModelKind.HOLT for f in holt) >= 14
    assert sum(f.model is ModelKind.LINEAR for f in lines) >= 14


def test_the_winner_is_refitted_on_every_point_after_an_80_20_contest() -> None:
    points = holt_process(2, n=50)

    forecast = fit_forecast(points)

    assert forecast.selection is Selection.HELD_OUT
    assert forecast.held_out is not None
    assert (forecast.held_out.train_points, forecast.held_out.test_points) == (40, 10)
    refit = fit_holt(points) if forecast.model is ModelKind.HOLT else fit_linear(points)
    assert forecast.fit == refit
    assert (forecast.points, forecast.start, forecast.end) == (50, day(0), day(49))


def test_too_few_points_for_a_contest_use_the_line_and_say_so() -> None:
    forecast = fit_forecast([(day(d), 2.0 * d) for d in range(5)])

    assert forecast.model is ModelKind.LINEAR
    assert forecast.selection is Selection.TOO_FEW_POINTS
    assert forecast.held_out is None
    assert forecast.interval_method is IntervalMethod.STUDENT_T


def test_fewer_than_three_points_or_a_single_time_cannot_be_forecast() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        fit_forecast([(day(0), 1.0), (day(1), 2.0)])
    with pytest.raises(ValueError, match="distinct times"):
        fit_forecast([(day(0), 1.0), (day(0), 2.0), (day(0), 3.0)])


# Intervals


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 10, 2.228),
        (0.95, 1, 6.314),
        (0.95, 30, 1.697),
        (0.995, 2, 9.925),
        (0.025, 5, -2.571),
    ],
)
def test_student_t_quantiles_match_the_printed_tables(p: float, df: int, expected: float) -> None:
    assert student_t_quantile(p, df) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("fit", [fit_linear, fit_holt])
def test_intervals_widen_with_distance_beyond_the_data(
    fit: Callable[[list[Point]], LinearFit | HoltFit],
) -> None:
    model = fit(holt_process(1, n=40))
    widths = [model.half_width(day(d), 0.9) for d in (41, 50, 80)]

    assert widths[0] < widths[1] < widths[2]


def test_linear_intervals_contain_the_truth_at_about_the_stated_rate() -> None:
    hits = 0
    for seed in range(400):
        rng = random.Random(seed)
        model = fit_linear([(day(d), 5 + 0.7 * d + rng.gauss(0, 2)) for d in range(20)])
        prediction = model.predict(day(30), confidence=0.9)
        hits += prediction.low <= 5 + 0.7 * 30 + rng.gauss(0, 2) <= prediction.high

    assert 0.85 <= hits / 400 <= 0.95


def test_holt_intervals_contain_the_truth_at_roughly_the_stated_rate() -> None:
    hits = total = 0
    for seed in range(300):
        points = holt_process(seed, n=70)
        model = fit_holt(points[:60])
        for at, value in points[60:]:
            prediction = model.predict(at, confidence=0.9)
            hits += prediction.low <= value <= prediction.high
            total += 1

    assert model.interval_method is IntervalMethod.NORMAL
    assert 0.8 <= hits / total <= 0.96


def test_naive_times_are_refused() -> None:
    points = disk_growth(0, days=2)
    naive = [(t.replace(tzinfo=None), v) for t, v in points]
    forecast = fit_forecast(points)

    with pytest.raises(ValueError, match="timezone-aware"):
        fit_forecast(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        time_to_threshold(naive, 100, now=day(2))
    with pytest.raises(ValueError, match="timezone-aware"):
        time_to_threshold(points, 100, now=day(2).replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        threshold_crossing(forecast, 100, now=day(2).replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        forecast_accuracy(forecast, [(day(3).replace(tzinfo=None), 45.0)])


def test_a_confidence_outside_zero_and_one_is_refused() -> None:
    forecast = fit_forecast([(day(d), float(d)) for d in range(5)])
    with pytest.raises(ValueError, match="confidence"):
        forecast.predict(day(10), confidence=1.0)


# Resampling


def test_irregular_points_are_interpolated_onto_an_even_grid_of_the_same_size() -> None:
    values, step = resample([(day(0), 0.0), (day(1), 10.0), (day(3), 30.0), (day(3), 40.0)])

    assert step == timedelta(days=1.5)
    assert values == pytest.approx([0.0, 10 + 0.25 * (35 - 10), 35.0])


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50))
def test_evenly_spaced_points_resample_to_themselves(values: list[float]) -> None:
    grid, step = resample([(day(i), v) for i, v in enumerate(values)])

    assert step == timedelta(days=1)
    assert grid == pytest.approx(values)


# Accuracy of last period's forecast


def test_an_exact_forecast_has_no_error_and_covers_every_point() -> None:
    forecast = fit_forecast([(day(d), 100 + 2.0 * d) for d in range(7)])
    actual = [(day(d), 100 + 2.0 * d) for d in range(7, 14)]

    accuracy = forecast_accuracy(forecast, actual)

    assert accuracy.points == 7
    assert accuracy.mae == pytest.approx(0, abs=1e-9)
    assert accuracy.mape == pytest.approx(0, abs=1e-9)
    assert accuracy.coverage == 1.0


def test_a_forecast_ten_under_reports_mae_ten_and_the_matching_mape() -> None:
    forecast = fit_forecast([(day(d), 40 + 2.0 * d + (0.1 if d % 2 else -0.1)) for d in range(8)])
    actual = [(day(10), 70.0), (day(15), 80.0)]

    accuracy = forecast_accuracy(forecast, actual)

    assert accuracy.mae == pytest.approx(10, abs=0.1)
    assert accuracy.mape == pytest.approx(100 * (10 / 70 + 10 / 80) / 2, abs=0.2)
    assert accuracy.coverage == 0.0


def test_mape_skips_zero_actuals_and_is_none_when_all_are_zero() -> None:
    forecast = fit_forecast([(day(d), 0.0) for d in range(5)])

    assert forecast_accuracy(forecast, [(day(6), 0.0)]).mape is None
    assert forecast_accuracy(forecast, [(day(6), 0.0), (day(7), 4.0)]).mape == pytest.approx(100)
