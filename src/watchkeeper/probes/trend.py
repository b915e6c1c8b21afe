"""The trend probe: this week (or month) of another check's history against the one before."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from watchkeeper.analytics.series import Point
from watchkeeper.analytics.trends import (
    MONTH,
    Aggregate,
    Direction,
    PeriodChange,
    baseline,
    coefficient_of_variation,
    percentile,
    period_change,
)
from watchkeeper.config.specs.trend import TrendAggregate, TrendDirection, TrendSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements

_COUNTED = {
    TrendDirection.UP: {Direction.RISING},
    TrendDirection.DOWN: {Direction.FALLING},
    TrendDirection.BOTH: {Direction.RISING, Direction.FALLING},
}


async def probe_trend(spec: TrendSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Read the watched check's history from the store → ``change_percent``, ``current``,
    ``previous``, ``current_points``, ``previous_points``, ``direction``, ``flagged``,
    ``baseline_mean``, ``cv_percent``."""
    now = datetime.now(UTC)
    # Two periods to compare, and a month for the baseline and its variation.
    since = now - max(2 * spec.period.span, MONTH)
    figure = spec.figure
    async with asyncio.timeout(timeout):
        if figure is not None and ctx.rollup_points is not None:
            points = await asyncio.to_thread(ctx.rollup_points, spec.check, figure, since, now)
        elif figure is None and ctx.measurement_points is not None:
            points = await asyncio.to_thread(
                ctx.measurement_points, spec.check, spec.measurement, since, now
            )
        else:
            raise ProbeError("trend checks read the store; this run has none open")
    return await asyncio.to_thread(judge_trend, spec, points, now)


def judge_trend(spec: TrendSpec, points: Sequence[Point], now: datetime) -> Measurements:
    """Given a trend spec, the watched series' points and the time, return its measurements.

    ``change_percent``, ``current`` and ``previous`` are absent when a period has nothing to
    compare (``incomparable`` says why); ``flagged`` is the change past ``threshold`` in a
    ``direction`` that counts.
    """
    change = _change(spec, points, now)
    measured: Measurements = {
        "current_points": change.current_points,
        "previous_points": change.previous_points,
        "direction": change.direction.value,
        "flagged": change.direction in _COUNTED[spec.direction],
    }
    if change.change is not None:
        measured["change_percent"] = 100 * change.change
    if change.no_change is not None:
        measured["incomparable"] = change.no_change.value
    if change.current is not None:
        measured["current"] = change.current
    if change.previous is not None:
        measured["previous"] = change.previous
    month = baseline(points, now)
    if month is not None:
        measured["baseline_mean"] = month.mean
    cv = coefficient_of_variation([v for at, v in points if now - MONTH < at <= now])
    if cv is not None:
        measured["cv_percent"] = 100 * cv
    return measured


def _change(spec: TrendSpec, points: Sequence[Point], now: datetime) -> PeriodChange:
    span = spec.period.span
    if spec.aggregate is not TrendAggregate.P95:
        return period_change(points, now, span, Aggregate(spec.aggregate.value), spec.threshold)
    # trends.Aggregate has no percentile: each period's p95 stands as its one point, so the
    # comparison and its threshold are still period_change's; the counts are put back after.
    current = sorted(v for at, v in points if now - span < at <= now)
    previous = sorted(v for at, v in points if now - 2 * span < at <= now - span)
    summary = [(now, percentile(current, 95))] if current else []
    summary += [(now - span, percentile(previous, 95))] if previous else []
    change = period_change(summary, now, span, Aggregate.MEAN, spec.threshold)
    return replace(change, current_points=len(current), previous_points=len(previous))
