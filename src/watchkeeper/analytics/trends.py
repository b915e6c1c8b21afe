"""Trends of a measurement series: this period against the last, monthly baselines, consistency.

The guides' weekly and monthly reviews ask for these by hand: "error trend increasing > 25%
week-over-week", "<5% variance in response times", "establish new performance baselines".
Every window here is half-open on the left, ``(start, end]``, so a point stamped ``now`` counts,
and ``now`` must be timezone-aware (ValueError otherwise), as the points' times are.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from watchkeeper.analytics.series import Point, aware

WEEK = timedelta(days=7)
MONTH = timedelta(days=30)
"""A rolling month: calendar months differ in length, so periods compared would not be equal."""

DEFAULT_THRESHOLD = 0.25
"""The guides' escalation rule: a change of more than 25% is a trend worth raising."""


class Aggregate(StrEnum):
    """How a period's points are summed up into one figure."""

    MEAN = "mean"
    """For levels such as response time or disk use."""
    COUNT = "count"
    """For events, one point each."""
    SUM = "sum"
    """For counts per run or per rollup bucket, such as ``error_count``."""


class Direction(StrEnum):
    """Which way a series moved between two periods, against a threshold."""

    RISING = "rising"
    FALLING = "falling"
    STEADY = "steady"
    UNKNOWN = "unknown"
    """A period had no points to take a mean of, so there is nothing to compare."""


class NoChange(StrEnum):
    """Why the relative change is undefined."""

    CURRENT_EMPTY = "current_empty"
    """No points to take this period's mean of."""
    PREVIOUS_EMPTY = "previous_empty"
    """No points to take the previous period's mean of."""
    PREVIOUS_ZERO = "previous_zero"
    """Any change from zero is infinitely large; the direction still says which way it went."""


@dataclass(frozen=True)
class PeriodChange:
    """A series over the period ending at ``now`` (current) and the one before it (previous).

    ``current``/``previous`` are the aggregates (None: a mean of no points); ``change`` is
    ``(current - previous) / |previous|`` (0.4 = +40%), None when ``no_change`` says why.
    """

    period: timedelta
    aggregate: Aggregate
    threshold: float
    current: float | None
    previous: float | None
    current_points: int
    previous_points: int
    change: float | None
    no_change: NoChange | None
    direction: Direction


@dataclass(frozen=True)
class Baseline:
    """The typical level of a series over a window: mean, median and 95th percentile."""

    since: datetime
    until: datetime
    points: int
    mean: float
    p50: float
    p95: float


def period_change(
    points: Iterable[Point],
    now: datetime,
    period: timedelta,
    aggregate: Aggregate = Aggregate.MEAN,
    threshold: float = DEFAULT_THRESHOLD,
) -> PeriodChange:
    """Given points, compare (now - period, now] with the period before it and return the change.

    RISING when the change exceeds ``+threshold``, FALLING below ``-threshold``, else STEADY.
    A mean of no points is unknown, but a count or sum of none is zero (no errors last week is
    zero errors, so this week's are RISING); ``*_points`` tell "zero" from "no data" apart.
    """
    aware(now)
    if period <= timedelta(0):
        raise ValueError(f"period must be positive, got {period}")
    if threshold < 0:
        raise ValueError(f"threshold must not be negative, got {threshold}")
    current_values: list[float] = []
    previous_values: list[float] = []
    for at, value in points:
        if now - period < at <= now:
            current_values.append(value)
        elif now - 2 * period < at <= now - period:
            previous_values.append(value)
    current = _aggregate(current_values, aggregate)
    previous = _aggregate(previous_values, aggregate)
    change, no_change, direction = _compare(current, previous, threshold)
    return PeriodChange(
        period=period,
        aggregate=aggregate,
        threshold=threshold,
        current=current,
        previous=previous,
        current_points=len(current_values),
        previous_points=len(previous_values),
        change=change,
        no_change=no_change,
        direction=direction,
    )


def week_over_week(
    points: Iterable[Point],
    now: datetime,
    aggregate: Aggregate = Aggregate.MEAN,
    threshold: float = DEFAULT_THRESHOLD,
) -> PeriodChange:
    """Given points, return the change of the last 7 days against the 7 days before."""
    return period_change(points, now, WEEK, aggregate, threshold)


def month_over_month(
    points: Iterable[Point],
    now: datetime,
    aggregate: Aggregate = Aggregate.MEAN,
    threshold: float = DEFAULT_THRESHOLD,
) -> PeriodChange:
    """Given points, return the change of the last 30 days against the 30 days before."""
    return period_change(points, now, MONTH, aggregate, threshold)


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Given values, return sample stdev / |mean| (0.05 = 5% variance); None for < 2 values or mean 0.

    The sample standard deviation, because one value says nothing about spread.
    """
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    if mean == 0:
        return None
    return statistics.stdev(values) / abs(mean)


def baseline(points: Iterable[Point], now: datetime, window: timedelta = MONTH) -> Baseline | None:
    """Given points, return the mean, p50 and p95 over (now - window, now]; None when it is empty."""
    aware(now)
    values = sorted(value for at, value in points if now - window < at <= now)
    if not values:
        return None
    return Baseline(
        since=now - window,
        until=now,
        points=len(values),
        mean=statistics.fmean(values),
        p50=percentile(values, 50),
        p95=percentile(values, 95),
    )


def percentile(ordered: Sequence[float], p: float) -> float:
    """Given values sorted ascending, return the p-th percentile (0-100), linearly interpolated.

    The same definition as ``statistics.quantiles(method="inclusive")`` and numpy's default.
    """
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0-100, got {p}")
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def _aggregate(values: list[float], aggregate: Aggregate) -> float | None:
    if aggregate is Aggregate.COUNT:
        return float(len(values))
    if aggregate is Aggregate.SUM:
        return math.fsum(values)
    return statistics.fmean(values) if values else None


def _compare(
    current: float | None, previous: float | None, threshold: float
) -> tuple[float | None, NoChange | None, Direction]:
    if current is None:
        return None, NoChange.CURRENT_EMPTY, Direction.UNKNOWN
    if previous is None:
        return None, NoChange.PREVIOUS_EMPTY, Direction.UNKNOWN
    if previous == 0:
        # From zero any rise is unbounded, yet "errors appeared" must still read as rising.
        direction = (
            Direction.RISING
            if current > 0
            else Direction.FALLING
            if current < 0
            else Direction.STEADY
        )
        return None, NoChange.PREVIOUS_ZERO, direction
    change = (current - previous) / abs(previous)
    if change > threshold:
        return change, None, Direction.RISING
    if change < -threshold:
        return change, None, Direction.FALLING
    return change, None, Direction.STEADY
