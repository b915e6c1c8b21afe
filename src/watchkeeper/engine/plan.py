"""From config to what the scheduler runs: one ``CheckPlan`` per enabled check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from watchkeeper.config.schedules import IntervalSchedule, Schedule, parse_schedule, spread
from watchkeeper.config.schema import Check, Config
from watchkeeper.config.specs import Spec
from watchkeeper.engine.evaluator import Rules
from watchkeeper.probes import Probe, probe_for


@dataclass(frozen=True)
class CheckPlan:
    """Everything needed to run one check, resolved once from the config."""

    name: str
    kind: str
    service: str | None
    tags: tuple[str, ...]
    spec: Spec
    probe: Probe[Any]
    rules: Rules
    schedule: Schedule
    timeout: float
    source: Check


def plan_checks(config: Config) -> list[CheckPlan]:
    """Given a validated config, return a plan for every enabled check."""
    tz = ZoneInfo(config.defaults.timezone)
    plans = []
    for check in config.checks:
        if not check.enabled:
            continue
        if check.schedule is not None:
            schedule = parse_schedule(check.schedule, tz)
        else:
            seconds = check.interval or config.defaults.interval
            schedule = IntervalSchedule(seconds=seconds, text=f"every {seconds:g}s")
        spec = check.spec
        plans.append(
            CheckPlan(
                name=check.name,
                kind=check.kind,
                service=check.service,
                tags=check.tags,
                spec=spec,
                probe=probe_for(spec),
                rules=Rules.parse(
                    check.expect,
                    check.warn,
                    check.critical,
                    spec.default_expect,
                    spec.default_warn,
                ),
                schedule=spread(schedule, check.name),
                timeout=check.timeout or config.defaults.timeout,
                source=check,
            )
        )
    return plans
