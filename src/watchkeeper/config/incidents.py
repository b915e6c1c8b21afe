"""The config of incidents: severities with their SLAs, escalation levels, when alerts open one,
and the phase checklists every incident starts with (defaults from the guides' incident sections).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.alerting import Matcher
from watchkeeper.config.types import Duration, Model

_SEVERITY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


class EscalationLevel(Model):
    """Who is told when an incident is still unacknowledged ``after`` its opening."""

    level: int = Field(ge=1)
    after: Duration = 0.0
    notify: tuple[str, ...] = Field(min_length=1, description="channel names")

    @field_validator("notify", mode="before")
    @classmethod
    def _channels(cls, v: Any) -> Any:
        return _one_or_many(v)


def _check_levels(levels: tuple[EscalationLevel, ...]) -> tuple[EscalationLevel, ...]:
    numbers = [lv.level for lv in levels]
    if numbers != sorted(set(numbers)):
        raise ValueError(f"escalation levels must be listed in increasing order, got {numbers}")
    afters = [lv.after for lv in levels]
    if afters != sorted(afters):
        raise ValueError("a later escalation level cannot come sooner than an earlier one")
    return levels


class SeverityPolicy(Model):
    """What one severity (P0, P1, …) promises: a response time, a status-page update, a post-mortem."""

    respond_within: Duration
    update_status_page_within: Duration | None = None
    postmortem: Literal["required", "optional"] = "optional"
    escalation: tuple[EscalationLevel, ...] | None = Field(
        default=None, description="levels for this severity only; default: incidents.escalation"
    )
    description: str = ""

    @field_validator("escalation")
    @classmethod
    def _ordered(cls, v: tuple[EscalationLevel, ...] | None) -> tuple[EscalationLevel, ...] | None:
        return None if v is None else _check_levels(v)


DEFAULT_SEVERITIES: dict[str, SeverityPolicy] = {
    "P0": SeverityPolicy(
        respond_within=15 * 60.0,
        update_status_page_within=30 * 60.0,
        postmortem="required",
        description="complete outage, data breach or security compromise",
    ),
    "P1": SeverityPolicy(
        respond_within=3600.0,
        postmortem="required",
        description="major feature outage, all LLM providers failing, admin access issues",
    ),
    "P2": SeverityPolicy(
        respond_within=4 * 3600.0,
        description="one provider failing, performance degradation, minor UI issues",
    ),
    "P3": SeverityPolicy(
        respond_within=48 * 3600.0, description="documentation, minor enhancements, cosmetics"
    ),
}
"""The four levels of the guides (000_…txt): response within 15 minutes, 1 hour, 4 hours, 48 hours."""

DEFAULT_PHASES: dict[str, tuple[str, ...]] = {
    "immediate": (
        "Assess impact and severity level",
        "Document start time and symptoms",
        "Check the system status dashboard",
        "Verify whether critical user paths are affected",
        "Start incident response team communication",
    ),
    "investigation": (
        "Gather system logs and error messages",
        "Check recent deployments and changes",
        "Verify external service status (LLM providers, CDN, …)",
        "Test rollback scenarios if deployment-related",
        "Document findings and hypothesis",
    ),
    "resolution": (
        "Implement immediate mitigation if available",
        "Execute fix or rollback procedures",
        "Verify resolution in production",
        "Monitor system stability after the fix",
        "Update incident documentation",
    ),
    "post-incident": (
        "Conduct the post-mortem meeting",
        "Document root cause analysis",
        "Identify preventive measures",
        "Update runbooks and procedures",
        "Plan follow-up improvements",
    ),
}
"""The critical-issue checklist of 000_…txt, one list per phase."""


class OpenRule(Model):
    """A firing alert matching ``match`` opens an incident of ``severity`` (or joins the open one)."""

    match: Matcher
    severity: str


class IncidentsConfig(Model):
    """Severities, escalation, automatic opening and phase checklists."""

    severities: dict[str, SeverityPolicy] = Field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    escalation: tuple[EscalationLevel, ...] = ()
    open_when: tuple[OpenRule, ...] = ()
    phases: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(DEFAULT_PHASES))
    postmortem_dir: str = Field(
        default="postmortems", description="where post-mortems are written, beside the config"
    )

    @field_validator("severities")
    @classmethod
    def _names(cls, v: dict[str, SeverityPolicy]) -> dict[str, SeverityPolicy]:
        if not v:
            raise ValueError("define at least one severity, e.g. P1: {respond_within: 1h}")
        for name in v:
            if not _SEVERITY_NAME.match(name):
                raise ValueError(f"bad severity name {name!r}: use letters, digits, '-' and '_'")
        return v

    @field_validator("escalation")
    @classmethod
    def _ordered(cls, v: tuple[EscalationLevel, ...]) -> tuple[EscalationLevel, ...]:
        return _check_levels(v)

    @model_validator(mode="after")
    def _known_severities(self) -> IncidentsConfig:
        for rule in self.open_when:
            if rule.severity not in self.severities:
                raise ValueError(
                    f"open_when names severity {rule.severity!r}; "
                    f"defined: {', '.join(self.severities)}"
                )
        return self

    def levels(self, severity: str) -> tuple[EscalationLevel, ...]:
        """Return the escalation levels an incident of ``severity`` follows."""
        own = self.severities[severity].escalation
        return self.escalation if own is None else own

    def channels(self) -> set[str]:
        """Return every channel name the escalation levels notify."""
        every = [*self.escalation]
        for policy in self.severities.values():
            every += policy.escalation or ()
        return {channel for level in every for channel in level.notify}
