"""The config of ``forecast`` checks: when will another check's measurement reach its limit?"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from watchkeeper.config.specs.trend import HistorySpec, Share, measurement_name
from watchkeeper.config.types import Duration


def _positive(v: float) -> float:
    if v <= 0:
        raise ValueError("must be longer than 0s")
    return v


class ForecastSpec(HistorySpec):
    """A measurement of a check (``disk_used_percent`` …) forecast over ``lookback`` →
    ``time_to_limit`` (null when not heading there), ``earliest``/``latest`` (the interval's
    ends), ``outlook``, ``model``, ``slope_per_day``, ``points``, ``alert_within``, and the
    forecast made ``alert_within`` ago scored against what followed: ``accuracy_mae``,
    ``accuracy_coverage``. ``no_forecast`` says why there is none yet (too few points)."""

    default_expect: ClassVar[tuple[str, ...]] = (
        "time_to_limit == null or time_to_limit >= alert_within",
    )

    measurement: str = Field(description="the measurement forecast, e.g. disk_used_percent")
    limit: float = Field(description="the value that means full, e.g. 95")
    lookback: Duration = Field(default=30 * 86400.0, description="the history fitted")
    confidence: Share = Field(default=0.9, description="of the interval around the forecast")
    alert_within: Duration = Field(
        default=14 * 86400.0, description="a limit reached sooner than this is critical"
    )

    _measurement = field_validator("measurement")(measurement_name)
    _durations = field_validator("lookback", "alert_within")(_positive)

    @field_validator("confidence")
    @classmethod
    def _inside(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError("a confidence is between 0% and 100%, e.g. 90%")
        return v
