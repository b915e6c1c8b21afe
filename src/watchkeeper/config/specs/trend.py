"""The config of ``trend`` checks (this period of another check's history against the last), and
what the kinds reading a check's history share: the watched check and shares such as ``25%``."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, field_validator

from watchkeeper.config.specs.base import Spec

_MEASUREMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _share(value: Any) -> float:
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            # Rounded, so 99.9% is 0.999 and not 0.9990000000000001.
            return round(float(value.strip()[:-1]) / 100, 12)
        except ValueError:
            raise ValueError(f"bad share {value!r}: write e.g. 25% or 0.25") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"bad share {value!r}: write e.g. 25% or 0.25")
    if not 0 <= value <= 1:
        # A bare 25 could mean 25% or 2500%: only the percent sign says which.
        raise ValueError(f"bad share {value!r}: a bare number is a share from 0 to 1; write 25%")
    return float(value)


Share = Annotated[float, BeforeValidator(_share)]
"""A share of a whole, written as ``25%``, ``99.9%`` or a number from 0 to 1 (0.25)."""


class HistorySpec(Spec):
    """Base of the kinds that judge another check's history in the store (trend, forecast, slo)."""

    reads_store: ClassVar[bool] = True

    check: str = Field(description="the check whose history is judged")

    @property
    def watched(self) -> tuple[str, ...]:
        """Return the checks whose history is read."""
        return (self.check,)


def measurement_name(value: str) -> str:
    """Given a measurement's name from the config, return it, or raise if it cannot be one."""
    if not _MEASUREMENT.fullmatch(value):
        raise ValueError(f"bad measurement name {value!r}: letters, digits and '_' only")
    return value


class RollupFigure(StrEnum):
    """The figures a check's rollups keep, which a trend reads over ranges raw results may not."""

    RESPONSE_TIME = "response_time"
    """The check's own duration (mean per hour, seconds)."""
    FAILURE_RATE = "failure_rate"
    """Percent of its results that were not ok, per hour."""
    FAILURES = "failures"
    """How many of its results were not ok, per hour."""


class TrendPeriod(StrEnum):
    """The periods compared: the last week against the one before, or the last 30 days."""

    WEEK = "week"
    MONTH = "month"

    @property
    def span(self) -> timedelta:
        """Return the period's length: 7 or 30 days."""
        return timedelta(days=7) if self is TrendPeriod.WEEK else timedelta(days=30)


class TrendAggregate(StrEnum):
    """How a period's points are summed up: ``trends.Aggregate``'s, and the 95th percentile."""

    MEAN = "mean"
    SUM = "sum"
    COUNT = "count"
    P95 = "p95"


class TrendDirection(StrEnum):
    """Which way of change is flagged: a rise (slower, more errors), a fall, or either."""

    UP = "up"
    DOWN = "down"
    BOTH = "both"


class TrendSpec(HistorySpec):
    """This period of a check's history against the one before → ``change_percent``,
    ``current``, ``previous``, ``current_points``, ``previous_points``, ``direction``,
    ``flagged`` (the change passed ``threshold`` the way ``direction`` counts), and over the
    last 30 days ``baseline_mean`` and ``cv_percent`` (variation: stdev / mean). A flagged
    trend is a warning by default: something to look at, not an outage."""

    default_warn: ClassVar[tuple[str, ...]] = ("flagged == true",)

    measurement: str = Field(
        default=RollupFigure.RESPONSE_TIME.value,
        description="response_time, failure_rate, failures (from rollups), or any measurement",
    )
    period: TrendPeriod = TrendPeriod.WEEK
    aggregate: TrendAggregate = TrendAggregate.MEAN
    threshold: Share = Field(default=0.25, description="the change flagged, e.g. 25%")
    direction: TrendDirection = TrendDirection.UP

    _measurement = field_validator("measurement")(measurement_name)

    @property
    def figure(self) -> RollupFigure | None:
        """Return the rollup figure the measurement names, or None for a raw measurement."""
        return next((f for f in RollupFigure if f.value == self.measurement), None)
