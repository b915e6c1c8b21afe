"""The nouns of incidents: their states, timeline entries, and the policy snapshotted at opening."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from watchkeeper.config.incidents import IncidentsConfig

MACHINE = "watchkeeper"
"""The actor of what Watchkeeper does by itself: opening from alerts, escalating, ticking."""


class IncidentState(StrEnum):
    """Where an incident stands; it only moves forward, ``open`` to ``closed``."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        """Return 0 for open up to 4 for closed."""
        return list(IncidentState).index(self)

    @property
    def active(self) -> bool:
        """Return True while the incident is not yet resolved."""
        return self.rank < IncidentState.RESOLVED.rank


class Transition(StrEnum):
    """A step people take an incident through, as the CLI's commands and the page's buttons say it."""

    ACK = "ack"
    MITIGATE = "mitigate"
    RESOLVE = "resolve"
    CLOSE = "close"

    @property
    def target(self) -> IncidentState:
        """Return the state the step leads to."""
        return _TARGETS[self]


_TARGETS = {
    Transition.ACK: IncidentState.ACKNOWLEDGED,
    Transition.MITIGATE: IncidentState.MITIGATED,
    Transition.RESOLVE: IncidentState.RESOLVED,
    Transition.CLOSE: IncidentState.CLOSED,
}


class TimelineKind(StrEnum):
    """What a timeline entry records."""

    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"
    NOTE = "note"
    ALERT = "alert"
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    SLA_BREACHED = "sla_breached"
    CHECKLIST = "checklist"
    POSTMORTEM = "postmortem"


@dataclass(frozen=True)
class Level:
    """One escalation level as snapshotted: who is told, how long after opening."""

    level: int
    after: float
    notify: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """A severity's SLA and escalation levels, frozen into the incident when it opens."""

    severity: str
    respond_within: float
    update_status_page_within: float | None
    postmortem_required: bool
    levels: tuple[Level, ...]

    @classmethod
    def of(cls, config: IncidentsConfig, severity: str) -> Policy:
        """Given the incidents config and a severity it defines, return that severity's policy now."""
        policy = config.severities[severity]
        return cls(
            severity=severity,
            respond_within=policy.respond_within,
            update_status_page_within=policy.update_status_page_within,
            postmortem_required=policy.postmortem == "required",
            levels=tuple(Level(lv.level, lv.after, lv.notify) for lv in config.levels(severity)),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the policy as JSON-ready data for the ``incidents.policy`` column."""
        return {
            "severity": self.severity,
            "respond_within": self.respond_within,
            "update_status_page_within": self.update_status_page_within,
            "postmortem_required": self.postmortem_required,
            "levels": [
                {"level": lv.level, "after": lv.after, "notify": list(lv.notify)}
                for lv in self.levels
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        """Given what ``to_json`` returned, return the policy."""
        return cls(
            severity=data["severity"],
            respond_within=float(data["respond_within"]),
            update_status_page_within=data.get("update_status_page_within"),
            postmortem_required=bool(data["postmortem_required"]),
            levels=tuple(
                Level(int(lv["level"]), float(lv["after"]), tuple(lv["notify"]))
                for lv in data["levels"]
            ),
        )


@dataclass(frozen=True)
class Incident:
    """One incident as stored."""

    id: int
    title: str
    severity: str
    state: IncidentState
    summary: str
    opened_at: datetime
    opened_by: str
    policy: Policy
    level: int
    respond_by: datetime
    source_key: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    mitigated_at: datetime | None = None
    mitigated_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    response_breached_at: datetime | None = None
    status_update_breached_at: datetime | None = None
    postmortem_path: str | None = None

    @property
    def responded_at(self) -> datetime | None:
        """Return the first response: acknowledgement, else mitigation, else resolution (or None)."""
        return self.acknowledged_at or self.mitigated_at or self.resolved_at


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an incident's timeline; a line drawn from a phase checklist has no id."""

    id: int | None
    at: datetime
    kind: TimelineKind
    actor: str | None
    text: str
    data: dict[str, Any] = field(default_factory=dict)


class IncidentError(Exception):
    """An incident change that cannot be made; the message says why and what to do instead."""
