"""The forecast probe: when will another check's measurement reach its limit ("full in N days")?"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from watchkeeper.analytics.forecast import (
    Outlook,
    fit_forecast,
    forecast_accuracy,
    threshold_crossing,
)
from watchkeeper.analytics.series import Point
from watchkeeper.config.specs.forecast import ForecastSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements

MAX_FIT_POINTS = 1000
"""A fit takes at most this many points, each the mean of an equal slice of time: a disk's use
every 30 s over a month is 86,400 points and takes seconds to fit, while the means of 43-minute
slices tell the same trend."""


async def probe_forecast(spec: ForecastSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Read the watched measurement's history from the store → ``time_to_limit``, ``earliest``,
    ``latest``, ``outlook``, ``model``, ``slope_per_day``, ``points``, ``accuracy_mae``,
    ``accuracy_coverage``."""
    if ctx.measurement_points is None:
        raise ProbeError("forecast checks read the store; this run has none open")
    now = datetime.now(UTC)
    # The forecast made alert_within ago needs its own lookback before it.
    since = now - timedelta(seconds=spec.lookback + spec.alert_within)
    async with asyncio.timeout(timeout):
        points = await asyncio.to_thread(
            ctx.measurement_points, spec.check, spec.measurement, since, now
        )
    # Fitting and choosing a model is CPU work: off the loop, as the read is.
    return await asyncio.to_thread(judge_forecast, spec, points, now)


def judge_forecast(spec: ForecastSpec, points: Sequence[Point], now: datetime) -> Measurements:
    """Given a forecast spec, the measurement's points and the time, return its measurements.

    ``time_to_limit`` is 0 once the forecast is at the limit and null when it is not heading
    there; with too few points to fit, ``no_forecast`` says so and nothing else is judged.
    """
    lookback = timedelta(seconds=spec.lookback)
    recent = [(at, v) for at, v in points if now - lookback < at <= now]
    thinned = _thinned(recent, lookback)
    measured: Measurements = {
        "points": len(recent),
        "alert_within": spec.alert_within,
        "time_to_limit": None,
        "earliest": None,
        "latest": None,
    }
    try:
        forecast = fit_forecast(thinned)
    except ValueError as exc:
        measured["no_forecast"] = f"no forecast of {spec.measurement} yet: {exc}"
        return measured
    crossing = threshold_crossing(forecast, spec.limit, now, spec.confidence)
    measured["outlook"] = crossing.outlook.value
    measured["model"] = forecast.model.value
    measured["slope_per_day"] = forecast.slope_per_day
    if crossing.outlook is Outlook.ALREADY_CROSSED:
        measured["time_to_limit"] = 0.0
    for name, at in (
        ("time_to_limit", crossing.at),
        ("earliest", crossing.earliest),
        ("latest", crossing.latest),
    ):
        if at is not None:
            measured[name] = (at - now).total_seconds()
    measured.update(_accuracy(spec, points, now))
    return measured


def _accuracy(spec: ForecastSpec, points: Sequence[Point], now: datetime) -> Measurements:
    """The forecast made ``alert_within`` ago, scored on what happened since; empty without one."""
    then = now - timedelta(seconds=spec.alert_within)
    lookback = timedelta(seconds=spec.lookback)
    before = _thinned([(at, v) for at, v in points if then - lookback < at <= then], lookback)
    after = _thinned([(at, v) for at, v in points if then < at <= now], lookback)
    if not after:
        return {}
    try:
        past = fit_forecast(before)
    except ValueError:
        return {}
    accuracy = forecast_accuracy(past, after, spec.confidence)
    return {"accuracy_mae": accuracy.mae, "accuracy_coverage": 100 * accuracy.coverage}


def _thinned(points: Sequence[Point], span: timedelta) -> list[Point]:
    """Given points in time order over at most ``span``, return at most ``MAX_FIT_POINTS``: the
    mean time and value of each slice of ``span / MAX_FIT_POINTS`` that holds any."""
    if len(points) <= MAX_FIT_POINTS:
        return list(points)
    width = span / MAX_FIT_POINTS
    origin = points[0][0]
    slices: dict[int, list[Point]] = {}
    for at, value in points:
        slices.setdefault((at - origin) // width, []).append((at, value))
    return [
        (
            origin + sum((at - origin for at, _ in members), timedelta()) / len(members),
            math.fsum(v for _, v in members) / len(members),
        )
        for members in slices.values()
    ]
