"""The two forecasting models behind ``analytics.forecast``: a least-squares line with a Student-t
prediction interval, and Holt's double exponential smoothing with a normal-approximation interval.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from statistics import NormalDist, fmean
from typing import ClassVar

from watchkeeper.analytics.series import DAY, Point

HOLT_ALPHAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
HOLT_BETAS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
MIN_LINEAR_POINTS = 3
MIN_HOLT_POINTS = 4
HOLT_START_POINTS = 10


class IntervalMethod(StrEnum):
    """How a model's prediction interval is computed."""

    STUDENT_T = "student_t"
    """Exact for a straight line with independent normal noise (the standard t-interval)."""
    NORMAL = "normal"
    """Normal approximation around Holt's h-step forecast variance; parameters treated as known."""


@dataclass(frozen=True)
class Prediction:
    """A forecast value at one time and its prediction interval at ``confidence``."""

    at: datetime
    value: float
    low: float
    high: float
    confidence: float


@dataclass(frozen=True)
class LinearFit:
    """Ordinary least squares ``value = intercept + slope_per_day * days since origin``."""

    origin: datetime
    intercept: float
    slope_per_day: float
    residual_se: float
    """sqrt(sum of squared residuals / (n - 2))."""
    n: int
    mean_days: float
    sxx: float
    """Sum of squared deviations of the times (in days) from their mean."""
    effective_n: float
    """``n`` discounted for lag-1 autocorrelation of the residuals (see ``effective_points``)."""

    interval_method: ClassVar[IntervalMethod] = IntervalMethod.STUDENT_T

    @property
    def slope_se(self) -> float:
        """The standard error of the slope, per day, widened for autocorrelated residuals."""
        return self.residual_se / math.sqrt(self.sxx) * math.sqrt(self.n / self.effective_n)

    @property
    def slope_df(self) -> int:
        """Degrees of freedom of the slope's t-test: the effective number of points less two."""
        return max(math.floor(self.effective_n) - 2, 1)

    def value_at(self, at: datetime) -> float:
        """Given a time, return the fitted line's value there."""
        return self.intercept + self.slope_per_day * _days(at, self.origin)

    def half_width(self, at: datetime, confidence: float) -> float:
        """Given a time and a confidence, return half the width of the prediction interval there."""
        x = _days(at, self.origin)
        spread = math.sqrt(1 + 1 / self.n + (x - self.mean_days) ** 2 / self.sxx)
        return student_t_quantile(0.5 + confidence / 2, self.n - 2) * self.residual_se * spread

    def predict(self, at: datetime, confidence: float = 0.9) -> Prediction:
        """Given a time and a confidence, return the predicted value and its interval."""
        return _prediction(self.value_at(at), self.half_width(at, confidence), at, confidence)


@dataclass(frozen=True)
class HoltFit:
    """Holt's linear trend smoothing on a regular grid; the forecast ``h`` steps after ``last`` is
    ``level + h * trend_per_step``."""

    alpha: float
    beta: float
    """The trend smoothing weight in Holt's form (the error-correction form's beta is alpha*beta)."""
    level: float
    trend_per_step: float
    step: timedelta
    last: datetime
    sigma: float
    """Root mean squared one-step-ahead error on the grid."""

    interval_method: ClassVar[IntervalMethod] = IntervalMethod.NORMAL

    @property
    def slope_per_day(self) -> float:
        """The current trend expressed per day."""
        return self.trend_per_step * DAY / self.step.total_seconds()

    def value_at(self, at: datetime) -> float:
        """Given a time, return the forecast there (a fractional number of steps is allowed)."""
        return self.level + self.trend_per_step * self._steps(at)

    def half_width(self, at: datetime, confidence: float) -> float:
        """Given a time and a confidence, return half the width of the prediction interval there.

        The variance is ETS(A,A,N)'s sigma^2 [1 + (h-1)(a^2 + a b h + b^2 h (2h-1) / 6)] with
        b = alpha*beta; at or before one step ahead it is sigma^2.
        """
        h = max(self._steps(at), 1.0)
        a, b = self.alpha, self.alpha * self.beta
        factor = 1 + (h - 1) * (a * a + a * b * h + b * b * h * (2 * h - 1) / 6)
        return NormalDist().inv_cdf(0.5 + confidence / 2) * self.sigma * math.sqrt(factor)

    def predict(self, at: datetime, confidence: float = 0.9) -> Prediction:
        """Given a time and a confidence, return the predicted value and its interval."""
        return _prediction(self.value_at(at), self.half_width(at, confidence), at, confidence)

    def _steps(self, at: datetime) -> float:
        return (at - self.last) / self.step


def fit_linear(points: Sequence[Point]) -> LinearFit:
    """Given at least three points at two or more distinct times, return the least-squares line."""
    ordered = sorted(points)
    if len(ordered) < MIN_LINEAR_POINTS:
        raise ValueError(f"a linear fit needs at least {MIN_LINEAR_POINTS} points")
    origin = ordered[0][0]
    xs = [_days(t, origin) for t, _ in ordered]
    ys = [v for _, v in ordered]
    mean_x, mean_y = fmean(xs), fmean(ys)
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("a linear fit needs points at two or more distinct times")
    slope = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    residuals = [y - intercept - slope * x for x, y in zip(xs, ys, strict=True)]
    sse = math.fsum(r * r for r in residuals)
    return LinearFit(
        origin=origin,
        intercept=intercept,
        slope_per_day=slope,
        residual_se=math.sqrt(sse / (len(ys) - 2)),
        n=len(ys),
        mean_days=mean_x,
        sxx=sxx,
        effective_n=effective_points(residuals),
    )


def effective_points(residuals: Sequence[float]) -> float:
    """Given the time-ordered residuals of a line, return n(1 - r)/(1 + r) clamped to [3, n], r
    their lag-1 autocorrelation: how many independent points they are worth.

    A wandering series (disk use, a random walk) leaves long runs of same-signed residuals, and
    treating them as independent makes a chance drift look like a trend. The AR(1) correction is
    chosen over Newey-West because it needs no bandwidth, and near a unit root (r close to 1, the
    case that matters) a Newey-West window of a few lags still sees only a fraction of the
    long-run variance, while n(1 - r)/(1 + r) collapses towards the floor as it should.
    """
    n = len(residuals)
    total = math.fsum(r * r for r in residuals)
    if total == 0:
        return float(n)
    r = math.fsum(a * b for a, b in itertools.pairwise(residuals)) / total
    # Residuals from a fitted line understate r by about (2 + 4r)/n (Shaman & Stine, 1988); on
    # driftless random walks the uncorrected r still called a trend a third of the time. A negative
    # r would credit more than n points: it counts as none.
    r = min(max(r + (2 + 4 * r) / n, 0.0), 1.0)
    return min(max(n * (1 - r) / (1 + r), float(MIN_LINEAR_POINTS)), float(n))


def fit_holt(points: Sequence[Point]) -> HoltFit:
    """Given at least four points, return Holt's smoothing with the (alpha, beta) of the grid
    ``HOLT_ALPHAS x HOLT_BETAS`` that minimises the one-step-ahead squared error.

    Irregular points are first resampled by ``resample``.
    """
    grid, step = resample(points)
    if len(grid) < MIN_HOLT_POINTS:
        raise ValueError(f"Holt's smoothing needs at least {MIN_HOLT_POINTS} points")
    best: tuple[float, int, float, float, float, float] | None = None
    for alpha in HOLT_ALPHAS:
        for beta in HOLT_BETAS:
            sse, count, level, trend = _holt_run(grid, alpha, beta)
            if best is None or sse < best[0]:
                best = (sse, count, alpha, beta, level, trend)
    assert best is not None  # both grids are non-empty
    sse, count, alpha, beta, level, trend = best
    return HoltFit(
        alpha=alpha,
        beta=beta,
        level=level,
        trend_per_step=trend,
        step=step,
        last=sorted(points)[-1][0],
        sigma=math.sqrt(sse / count),
    )


def resample(points: Sequence[Point]) -> tuple[list[float], timedelta]:
    """Given points at two or more distinct times, return their values on a regular grid and its step.

    The grid has as many times as there are distinct input times, evenly spread from the first to
    the last (so its step is the mean spacing); each value is interpolated linearly between the
    two observations around it. Values sharing a time are averaged first.
    """
    merged: dict[datetime, list[float]] = {}
    for t, v in sorted(points):
        merged.setdefault(t, []).append(v)
    times = list(merged)
    values = [fmean(vs) for vs in merged.values()]
    if len(times) < 2:
        raise ValueError("resampling needs points at two or more distinct times")
    step = (times[-1] - times[0]) / (len(times) - 1)
    grid: list[float] = []
    j = 0
    for i in range(len(times)):
        at = times[0] + step * i
        while j < len(times) - 2 and times[j + 1] < at:
            j += 1
        fraction = min(max((at - times[j]) / (times[j + 1] - times[j]), 0.0), 1.0)
        grid.append(values[j] * (1 - fraction) + values[j + 1] * fraction)
    return grid, step


@lru_cache(maxsize=256)
def student_t_quantile(p: float, df: int) -> float:
    """Given a probability 0 < p < 1 and degrees of freedom >= 1, return Student's t quantile.

    Cached: a crossing search asks for the same quantile at every one of its ~1,000 predictions.
    """
    if not 0 < p < 1 or df < 1:
        raise ValueError("need 0 < p < 1 and df >= 1")
    if p < 0.5:
        return -student_t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while _student_t_cdf(high, df) < p:
        low, high = high, high * 2
    for _ in range(200):
        mid = (low + high) / 2
        if _student_t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def _student_t_cdf(t: float, df: int) -> float:
    """P(T <= t) for t >= 0, through the regularised incomplete beta function."""
    return 1 - 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta I_x(a, b), by its continued fraction (modified Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The fraction converges fast only below the mean; use the symmetry I_x(a,b) = 1 - I_1-x(b,a).
    if x > (a + 1) / (a + b + 2):
        return 1 - _incomplete_beta(b, a, 1 - x)
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return math.exp(log_front) * fraction / a


def _holt_run(
    values: Sequence[float], alpha: float, beta: float
) -> tuple[float, int, float, float]:
    """Smooth ``values``; return the one-step squared error sum and its count, the final level
    and trend.

    Level and trend start from the least-squares line through the first ``HOLT_START_POINTS``
    values: a first difference alone is as noisy as two observations, and a small beta would
    carry that noise to the end.
    """
    start = values[:HOLT_START_POINTS]
    xs = range(len(start))
    mean_x, mean_y = fmean(xs), fmean(start)
    trend = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, start, strict=True))
    trend /= math.fsum((x - mean_x) ** 2 for x in xs)
    level = mean_y - trend * (mean_x + 1)  # one step before the first value
    # Errors on the values that chose the start are flattered by it; count them only when the
    # series is too short to do without them.
    counted_from = HOLT_START_POINTS if len(values) >= HOLT_START_POINTS + 2 else 0
    sse = 0.0
    for i, y in enumerate(values):
        if i >= counted_from:
            sse += (y - level - trend) ** 2
        previous = level
        level = alpha * y + (1 - alpha) * (level + trend)
        trend = beta * (level - previous) + (1 - beta) * trend
    return sse, len(values) - counted_from, level, trend


def _prediction(value: float, half: float, at: datetime, confidence: float) -> Prediction:
    return Prediction(
        at=at, value=value, low=value - half, high=value + half, confidence=confidence
    )


def _days(at: datetime, origin: datetime) -> float:
    return (at - origin).total_seconds() / DAY
