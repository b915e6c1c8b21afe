"""Forecasts for growing measurements (disk use, database size, error counts): a linear or Holt
model chosen by held-out error, "full in N days" with an interval, and last period's accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from watchkeeper.analytics.forecast_models import (
    MIN_HOLT_POINTS,
    MIN_LINEAR_POINTS,
    HoltFit,
    IntervalMethod,
    LinearFit,
    Prediction,
    fit_holt,
    fit_linear,
    student_t_quantile,
)
from watchkeeper.analytics.series import DAY, Point, aware

__all__ = [
    "Forecast",
    "ForecastAccuracy",
    "HeldOutScore",
    "ModelKind",
    "Outlook",
    "Prediction",
    "Selection",
    "ThresholdCrossing",
    "fit_forecast",
    "forecast_accuracy",
    "threshold_crossing",
    "time_to_threshold",
]

HELD_OUT_FRACTION = 0.2
HOLT_MARGIN = 0.9
"""Holt wins only with a held-out MAE below this fraction of the line's: on straight-line data the
two score alike, and Holt's local trend then extrapolates worse."""
MIN_POINTS_FOR_SELECTION = 10
"""Below this a held-out split leaves too little to train or to score, so the line is used."""
LATEST_SEARCH_FACTOR = 10
"""The latest crossing is sought up to this many times the predicted lead time from ``now``."""
_SCAN_STEPS = 512
_PRECISION = timedelta(seconds=1)


class ModelKind(StrEnum):
    """The forecasting model."""

    LINEAR = "linear"
    HOLT = "holt"


class Selection(StrEnum):
    """How the model was chosen."""

    HELD_OUT = "held_out"
    """Both fitted on the first 80% of the points; scored by MAE on the rest (see ``HOLT_MARGIN``)."""
    TOO_FEW_POINTS = "too_few_points"
    """Fewer than ``MIN_POINTS_FOR_SELECTION`` points: the line, without a contest."""


class Outlook(StrEnum):
    """Where a measurement is heading relative to a ceiling."""

    WILL_CROSS = "will_cross"
    ALREADY_CROSSED = "already_crossed"
    """The forecast value at ``now`` is already at or above the threshold."""
    FLAT = "flat"
    """The forecast cannot tell, at the confidence asked, whether the value will rise or fall."""
    FALLING = "falling"


@dataclass(frozen=True)
class HeldOutScore:
    """Each model's mean absolute error on the held-out (latest) points."""

    linear_mae: float
    holt_mae: float
    train_points: int
    test_points: int


@dataclass(frozen=True)
class Forecast:
    """A fitted forecast: which model, its parameters, how it was chosen, and over which data."""

    model: ModelKind
    fit: LinearFit | HoltFit
    selection: Selection
    held_out: HeldOutScore | None
    """None when there were too few points for a contest."""
    points: int
    start: datetime
    end: datetime
    line: LinearFit
    """The least-squares line over all the points (also when Holt won): it tests whether the data
    show any trend at all (see ``threshold_crossing``)."""

    @property
    def interval_method(self) -> IntervalMethod:
        """Student-t for the line; a normal approximation for Holt."""
        return self.fit.interval_method

    @property
    def slope_per_day(self) -> float:
        """The trend the forecast extrapolates, per day."""
        return self.fit.slope_per_day

    def predict(self, at: datetime, confidence: float = 0.9) -> Prediction:
        """Given an aware time and a confidence (0 < c < 1), return the forecast value and its
        interval."""
        if not 0 < confidence < 1:
            raise ValueError("confidence must be between 0 and 1")
        return self.fit.predict(aware(at), confidence)


@dataclass(frozen=True)
class ThresholdCrossing:
    """When a forecast reaches a threshold: ``at`` from the forecast value, ``earliest`` from the
    interval's upper bound and ``latest`` from its lower bound (None: not within the search)."""

    outlook: Outlook
    threshold: float
    now: datetime
    confidence: float
    forecast: Forecast
    at: datetime | None = None
    earliest: datetime | None = None
    latest: datetime | None = None

    @property
    def days_until(self) -> float | None:
        """Days from ``now`` to the predicted crossing, when one is predicted."""
        return None if self.at is None else (self.at - self.now).total_seconds() / DAY


@dataclass(frozen=True)
class ForecastAccuracy:
    """How a forecast compared with what happened."""

    points: int
    mae: float
    mape: float | None
    """Mean absolute percentage error over the non-zero actual values; None if all were zero."""
    coverage: float
    """Fraction of actual values inside the forecast's interval at the confidence asked."""


def fit_forecast(points: Sequence[Point]) -> Forecast:
    """Given at least three (aware time, value) points, return the forecast chosen by held-out
    error.

    With ``MIN_POINTS_FOR_SELECTION`` points or more, the line and Holt are fitted on the first
    80% (by time), scored by MAE on the last 20%, and the winner is refitted on every point.
    """
    ordered = sorted((aware(t), v) for t, v in points)
    if len(ordered) < MIN_LINEAR_POINTS:
        raise ValueError(f"a forecast needs at least {MIN_LINEAR_POINTS} points")
    if len(ordered) < MIN_POINTS_FOR_SELECTION:
        return _forecast(ModelKind.LINEAR, ordered, Selection.TOO_FEW_POINTS, None)
    split = max(len(ordered) - max(round(len(ordered) * HELD_OUT_FRACTION), 1), MIN_HOLT_POINTS)
    train, test = ordered[:split], ordered[split:]
    score = HeldOutScore(
        linear_mae=_mae(fit_linear(train), test),
        holt_mae=_mae(fit_holt(train), test),
        train_points=len(train),
        test_points=len(test),
    )
    model = ModelKind.HOLT if score.holt_mae < HOLT_MARGIN * score.linear_mae else ModelKind.LINEAR
    return _forecast(model, ordered, Selection.HELD_OUT, score)


def time_to_threshold(
    points: Sequence[Point], threshold: float, now: datetime, confidence: float = 0.9
) -> ThresholdCrossing:
    """Given points, a ceiling, the current time and a confidence, return when the forecast chosen
    by ``fit_forecast`` on the points up to ``now`` reaches the ceiling ("full in N days"), or why
    it will not."""
    aware(now)
    known = [(t, v) for t, v in points if aware(t) <= now]
    return threshold_crossing(fit_forecast(known), threshold, now, confidence)


def threshold_crossing(
    forecast: Forecast, threshold: float, now: datetime, confidence: float = 0.9
) -> ThresholdCrossing:
    """Given a forecast, a ceiling, the current time and a confidence, return when it is reached.

    Rising (falling) needs both the least-squares slope and the forecast's own trend above (below)
    the slope's two-sided t-interval half-width at ``confidence``: the t-test that the data show a
    trend at all (with the standard error and degrees of freedom of the residuals' effective
    number of points, so a random walk's drift is not mistaken for one), and for Holt a current
    trend that agrees with it. Anything else is flat. A crossing is only predicted for a rising
    trend.
    """
    current = forecast.predict(aware(now), confidence).value
    result = ThresholdCrossing(Outlook.FLAT, threshold, now, confidence, forecast)
    if current >= threshold:
        return replace(result, outlook=Outlook.ALREADY_CROSSED)
    line = forecast.line
    band = student_t_quantile(0.5 + confidence / 2, line.slope_df) * line.slope_se
    trends = (line.slope_per_day, forecast.slope_per_day)
    if max(trends) < -band:
        return replace(result, outlook=Outlook.FALLING)
    if min(trends) <= band:
        return result
    at = now + timedelta(days=(threshold - current) / forecast.slope_per_day)
    lead = at - now

    def upper(t: datetime) -> float:
        return forecast.predict(t, confidence).high

    def lower(t: datetime) -> float:
        return forecast.predict(t, confidence).low

    return ThresholdCrossing(
        Outlook.WILL_CROSS,
        threshold,
        now,
        confidence,
        forecast,
        at=at,
        earliest=_first_reach(upper, threshold, now, at),
        latest=_first_reach(lower, threshold, at, now + lead * LATEST_SEARCH_FACTOR),
    )


def forecast_accuracy(
    previous_forecast: Forecast, actual_points: Sequence[Point], confidence: float = 0.9
) -> ForecastAccuracy:
    """Given last period's forecast and the points that then happened, return its MAE, MAPE and
    how often the actual value fell inside its interval at ``confidence``."""
    if not actual_points:
        raise ValueError("accuracy needs at least one actual point")
    predictions = [(previous_forecast.predict(t, confidence), v) for t, v in actual_points]
    errors = [abs(v - p.value) for p, v in predictions]
    relative = [abs(v - p.value) / abs(v) for p, v in predictions if v != 0]
    return ForecastAccuracy(
        points=len(predictions),
        mae=math.fsum(errors) / len(errors),
        mape=100 * math.fsum(relative) / len(relative) if relative else None,
        coverage=sum(p.low <= v <= p.high for p, v in predictions) / len(predictions),
    )


def _forecast(
    model: ModelKind, ordered: list[Point], selection: Selection, score: HeldOutScore | None
) -> Forecast:
    line = fit_linear(ordered)
    fit = line if model is ModelKind.LINEAR else fit_holt(ordered)
    return Forecast(model, fit, selection, score, len(ordered), ordered[0][0], ordered[-1][0], line)


def _mae(fit: LinearFit | HoltFit, test: Sequence[Point]) -> float:
    return math.fsum(abs(v - fit.value_at(t)) for t, v in test) / len(test)


def _first_reach(
    bound: Callable[[datetime], float], threshold: float, start: datetime, end: datetime
) -> datetime | None:
    """The first time in [start, end] where ``bound`` reaches ``threshold``, to the second.

    A scan finds the first grid interval where it does (bounds need not be monotonic: the lower
    bound of a widening interval rises, then falls); bisection narrows it.
    """
    if bound(start) >= threshold:
        return start
    step = (end - start) / _SCAN_STEPS
    previous = start
    for i in range(1, _SCAN_STEPS + 1):
        current = start + step * i
        if bound(current) >= threshold:
            low, high = previous, current
            while high - low > _PRECISION:
                middle = low + (high - low) / 2
                if bound(middle) >= threshold:
                    high = middle
                else:
                    low = middle
            return high
        previous = current
    return None
