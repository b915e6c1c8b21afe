"""The config of scheduled reports: which period, when, and which channels are sent each one."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from watchkeeper.config.types import Model, ScheduleText, one_or_more, valid_name


class ReportPeriod(StrEnum):
    """How much a report covers: a rolling window ending when it is written, compared with the
    window before it."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def span(self) -> timedelta:
        """Return the length of the window the report covers."""
        return _SPANS[self]

    @property
    def default_schedule(self) -> str:
        """Return when a report of this period is written unless the config says otherwise."""
        return _SCHEDULES[self]


_SPANS = {
    ReportPeriod.DAILY: timedelta(days=1),
    ReportPeriod.WEEKLY: timedelta(days=7),
    ReportPeriod.MONTHLY: timedelta(days=30),
    ReportPeriod.QUARTERLY: timedelta(days=91),
}

_SCHEDULES = {
    ReportPeriod.DAILY: "daily at 08:00",
    ReportPeriod.WEEKLY: "weekly on monday at 08:00",
    ReportPeriod.MONTHLY: "monthly on the first monday at 08:00",
    ReportPeriod.QUARTERLY: "quarterly on the first monday at 08:00",
}


class ReportSchedule(Model):
    """A report written on a schedule, kept in the store and sent to channels."""

    name: str
    period: ReportPeriod
    schedule: ScheduleText | None = Field(
        default=None,
        description="when it is written; default: daily at 08:00, weekly on monday at 08:00, "
        "monthly/quarterly on the first monday at 08:00",
    )
    notify: tuple[str, ...] = Field(
        default=(), description="channels sent its summary and link; none: kept in the store only"
    )
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        return valid_name(v, "report")

    @field_validator("notify", mode="before")
    @classmethod
    def _channels(cls, v: Any) -> Any:
        return one_or_more(v)

    @property
    def when(self) -> str:
        """Return the schedule in force: its own, or its period's default."""
        return self.schedule or self.period.default_schedule
