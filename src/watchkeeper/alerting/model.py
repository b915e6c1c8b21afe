"""The nouns of alerting: severities, a check's alert state, and the events its changes produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from watchkeeper.config.alerting import AlertRule
from watchkeeper.results import Status


class Severity(StrEnum):
    """How loud an alert is: info goes to digests, warning and critical page."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return 0 for info up to 2 for critical."""
        return _RANK[self]

    @classmethod
    def of(cls, status: Status) -> Severity | None:
        """Given a result status, return the severity it alerts with (None for ok); error is critical."""
        return _BY_STATUS[status]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_BY_STATUS = {
    Status.OK: None,
    Status.WARNING: Severity.WARNING,
    Status.CRITICAL: Severity.CRITICAL,
    Status.ERROR: Severity.CRITICAL,
}


class Phase(StrEnum):
    """Where a check stands: passing, failing but not yet alerting, or alerting."""

    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"


class AlertStatus(StrEnum):
    """Whether a stored alert is still firing."""

    FIRING = "firing"
    RESOLVED = "resolved"


class EventKind(StrEnum):
    """What happened to an alert, each a reason to notify someone."""

    FIRING = "firing"
    ESCALATED = "escalated"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    FLAPPING = "flapping"
    STABLE = "stable"


class Suppression(StrEnum):
    """Why a notification was recorded but not sent."""

    SILENCED = "silenced"
    MAINTENANCE = "maintenance"
    INHIBITED = "inhibited"
    UPSTREAM = "upstream"
    FLAPPING = "flapping"
    UNROUTED = "unrouted"
    NOT_WANTED = "not_wanted"


@dataclass
class CheckState:
    """One check's alerting state, kept in the store between results and across restarts."""

    check: str
    phase: Phase = Phase.OK
    severity: Severity | None = None
    failures: int = 0
    failing_since: datetime | None = None
    fired_at: datetime | None = None
    last_notified_at: datetime | None = None
    dedup_key: str | None = None
    last_status: Status | None = None
    last_message: str = ""
    last_measurements: dict[str, Any] = field(default_factory=dict)
    changes: list[datetime] = field(default_factory=list)
    flapping: bool = False


@dataclass(frozen=True)
class AlertEvent:
    """Something that happened to a check's alert at a moment, with what was measured then."""

    kind: EventKind
    check: str
    dedup_key: str
    severity: Severity
    at: datetime
    since: datetime
    message: str
    measurements: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Labels:
    """What matchers, routes, silences and inhibition look at for one alert."""

    check: str
    service: str | None
    tags: tuple[str, ...]
    severity: Severity
    kind: str

    def values(self, key: str) -> tuple[str, ...]:
        """Return the label's values for a match key (``tag`` has several; a missing service has none)."""
        if key == "tag":
            return self.tags
        value = {
            "check": self.check,
            "service": self.service,
            "severity": self.severity.value,
            "kind": self.kind,
        }[key]
        return (value,) if value else ()


@dataclass(frozen=True)
class CheckInfo:
    """What the engine needs to know about a configured check."""

    name: str
    service: str | None
    tags: tuple[str, ...]
    kind: str
    rule: AlertRule
    depends_on: tuple[str, ...]

    def labels(self, severity: Severity) -> Labels:
        """Return the labels matchers see for this check's alert at ``severity``."""
        return Labels(self.name, self.service, self.tags, severity, self.kind)
