"""The config of alerting: alert rules, channels and routes, maintenance windows, inhibition."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from watchkeeper.config.types import Duration, Model, ScheduleText

MATCH_KEYS = ("check", "service", "tag", "severity", "kind")
"""What a matcher may look at: a check's name, service, tags, the alert's severity, the probe kind."""

_FAILURES = re.compile(r"^\s*(\d+)\s*(failures?)?\s*$")


def _failures(value: Any) -> Any:
    if isinstance(value, str):
        m = _FAILURES.match(value)
        if not m:
            raise ValueError(
                f"bad count {value!r}: write a number of failures, e.g. 3 or '3 failures'"
            )
        return int(m.group(1))
    return value


Failures = Annotated[int, BeforeValidator(_failures), Field(ge=1)]
"""How many consecutive failing results, written ``3`` or ``3 failures``."""


def _matcher(value: Any) -> Any:
    if isinstance(value, dict):
        unknown = [k for k in value if k not in MATCH_KEYS]
        if unknown:
            raise ValueError(f"unknown match key {unknown[0]!r}: use {', '.join(MATCH_KEYS)}")
        return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
    return value


Matcher = Annotated[dict[str, tuple[str, ...]], BeforeValidator(_matcher)]
"""``{service: backend, severity: [warning, critical]}``: every key must match one of its values (globs allowed)."""


class AlertRule(Model):
    """When a failing check becomes an alert, and how it is followed up."""

    after: Failures = 2
    for_: Duration | None = Field(default=None, alias="for")
    reminder: Duration | None = 4 * 3600.0
    notify_resolved: bool = True
    route: tuple[str, ...] = ()
    severity: str | None = Field(default=None, pattern="^(info|warning|critical)$")
    enabled: bool = True

    @field_validator("route", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("reminder")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("must be greater than zero (write null for none)")
        return v


class Flapping(Model):
    """A check that changes state this often within the window is flapping: shown, not paged."""

    window: Duration = 3600.0
    transitions: int = Field(default=6, ge=2)


class InhibitRule(Model):
    """While an alert matching ``source`` fires, alerts matching ``target`` with equal labels are muted."""

    source: Matcher
    target: Matcher
    equal: tuple[str, ...] = ("service",)


class AlertingConfig(Model):
    """Alerting defaults, flapping detection and inhibition."""

    defaults: AlertRule = AlertRule()
    flapping: Flapping = Flapping()
    inhibit: tuple[InhibitRule, ...] = (
        InhibitRule(source={"severity": ("critical",)}, target={"severity": ("warning",)}),
    )


class Route(Model):
    """Alerts matching ``match`` go to ``channels``, grouped or gathered into a digest."""

    match: Matcher = Field(default_factory=dict)
    channels: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    group_wait: Duration = 0.0
    group_interval: Duration = 300.0
    digest: ScheduleText | None = None
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("group_by")
    @classmethod
    def _known_labels(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for label in v:
            if label not in MATCH_KEYS:
                raise ValueError(f"cannot group by {label!r}: use {', '.join(MATCH_KEYS)}")
        return v


class NotificationsConfig(Model):
    """Channels (Apprise URLs by name) and the routes that choose them."""

    channels: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    give_up_after: Duration = 3 * 86400.0

    @field_validator("channels", mode="before")
    @classmethod
    def _urls(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: [u] if isinstance(u, str) else u for k, u in v.items()}
        return v


class MaintenanceWindow(Model):
    """A recurring window in which matching alerts notify no one and results are marked."""

    name: str = "maintenance"
    schedule: ScheduleText
    duration: Duration
    match: Matcher = Field(default_factory=dict)
