"""What one run of a check produced: a status, a duration, a message and named measurements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

Measurements = dict[str, Any]
"""Named values a probe observed, e.g. ``{"status": 200, "response_time": 0.042}``.

Durations are seconds (float), sizes bytes (int), percentages 0-100 (float).
"""


class Status(StrEnum):
    """The verdict on one result, ordered from best to worst."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Return 0 for ok up to 3 for error, so statuses can be compared."""
        return _RANK[self]

    @property
    def failing(self) -> bool:
        """Return True for every status but ok."""
        return self is not Status.OK


_RANK = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.ERROR: 3}


def worst(statuses: list[Status]) -> Status:
    """Given statuses, return the worst of them (ok for none)."""
    return max(statuses, key=lambda s: s.rank, default=Status.OK)


@dataclass(slots=True)
class Result:
    """One run of one check, as stored and shown."""

    check: str
    started_at: datetime
    status: Status
    duration_ms: float
    message: str = ""
    measurements: Measurements = field(default_factory=dict)
    maintenance: bool = False
    """True when the result was taken during a maintenance window."""
