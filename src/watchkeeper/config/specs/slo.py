"""The config of ``slo`` checks: an availability or latency objective over another check's results."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.specs.base import Spec
from watchkeeper.config.specs.trend import Share
from watchkeeper.config.types import Duration


class SloSpec(Spec):
    """An objective over the results of a check, several checks or a service's checks (pooled)
    in a rolling ``window`` → ``sli`` and ``budget_remaining`` (percent), ``burn_rate_1h``,
    ``burn_rate_6h``, ``fast_burn`` (a page rule fired), ``slow_burn`` (a ticket rule fired),
    ``met``, ``events``, ``bad``. Good results are ok (as uptime counts them); with ``latency``,
    results faster than it."""

    default_expect: ClassVar[tuple[str, ...]] = ("fast_burn == false",)
    default_warn: ClassVar[tuple[str, ...]] = ("slow_burn == true",)
    reads_store: ClassVar[bool] = True

    check: str | None = Field(default=None, description="the check whose results are judged")
    checks: tuple[str, ...] = Field(
        default=(), description="several checks whose results are judged together"
    )
    service: str | None = Field(
        default=None, description="judge every check of this service together"
    )

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

    @model_validator(mode="after")
    def _one_target(self) -> SloSpec:
        # The loader fills `checks` of an SLO of a service after validation (a copy, not checked
        # again), so a file gives exactly one of the three.
        if (self.check is not None) + bool(self.checks) + (self.service is not None) != 1:
            raise ValueError("an slo judges one of: check, checks or service")
        return self

    @property
    def watched(self) -> tuple[str, ...]:
        """Return the checks whose results are judged."""
        return (self.check,) if self.check is not None else self.checks

    @field_validator("window", "latency")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("must be longer than 0s")
        return v
