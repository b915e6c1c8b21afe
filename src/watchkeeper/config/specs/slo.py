"""The config of ``slo`` checks: an availability or latency objective over another check's results."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from watchkeeper.config.specs.trend import HistorySpec, Share
from watchkeeper.config.types import Duration


class SloSpec(HistorySpec):
    """An objective over a check's results in a rolling ``window`` → ``sli`` and
    ``budget_remaining`` (percent), ``burn_rate_1h``, ``burn_rate_6h``, ``fast_burn`` (a page
    rule fired), ``slow_burn`` (a ticket rule fired), ``met``, ``events``, ``bad``. Good results
    are ok (as uptime counts them); with ``latency``, results faster than it."""

    default_expect: ClassVar[tuple[str, ...]] = ("fast_burn == false",)
    default_warn: ClassVar[tuple[str, ...]] = ("slow_burn == true",)

    objective: Share = Field(description="the share of good results, e.g. 99.9%")
    window: Duration = Field(default=30 * 86400.0, description="the rolling window judged")
    latency: Duration | None = Field(
        default=None, description="a latency objective: good results are faster than this"
    )

    @field_validator("objective")
    @classmethod
    def _inside(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError("an objective is between 0% and 100%, e.g. 99.9%")
        return v

    @field_validator("window", "latency")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("must be longer than 0s")
        return v
