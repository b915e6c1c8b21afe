"""The per-check alert state machine: a state and the next result in, a new state and events out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from watchkeeper.alerting.model import AlertEvent, CheckState, EventKind, Phase, Severity
from watchkeeper.config.alerting import AlertRule, Flapping
from watchkeeper.config.units import format_duration
from watchkeeper.results import Measurements, Result, Status


def dedup_key(check: str, since: datetime) -> str:
    """Given a check and when it started failing, return the alert's stable dedup key."""
    utc = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    # Whole seconds read best; sub-second schedules keep microseconds so their keys stay distinct.
    spec = "microseconds" if utc.microsecond else "seconds"
    return f"{check}@{utc.replace(tzinfo=None).isoformat(timespec=spec)}Z"


def advance(
    state: CheckState,
    result: Result,
    rule: AlertRule,
    flapping: Flapping,
    severity: Severity | None = None,
) -> tuple[CheckState, list[AlertEvent]]:
    """Given a check's state and its next result, return the new state and the events to notify.

    ``severity`` overrides the rule's severity, which overrides the one the result's status implies.
    """
    at = result.started_at
    failing = result.status.failing
    window = timedelta(seconds=flapping.window)
    changes = [t for t in state.changes if at - t < window]
    if state.last_status is not None and state.last_status.failing != failing:
        changes.append(at)
    new = replace(
        state,
        changes=changes,
        last_status=result.status,
        last_message=result.message,
        last_measurements=dict(result.measurements),
    )

    override = severity or _rule_severity(rule)
    escalated = resolved = False
    if failing:
        level = override or _status_severity(result.status)
        since = state.failing_since or at
        escalated = state.severity is not None and level.rank > state.severity.rank
        if state.phase is Phase.OK:
            new.phase, new.failures, new.failing_since, new.severity = Phase.PENDING, 1, at, level
        else:
            new.failures += 1
            if escalated:
                new.severity = level
        if new.phase is Phase.PENDING and _due(new.failures, at - since, rule):
            new.phase, new.fired_at, new.dedup_key = Phase.FIRING, at, dedup_key(state.check, since)
    elif state.phase is not Phase.OK:
        resolved = state.phase is Phase.FIRING
        new = replace(
            new,
            phase=Phase.OK,
            severity=None,
            failures=0,
            failing_since=None,
            fired_at=None,
            last_notified_at=None,
            dedup_key=None,
        )

    events: list[AlertEvent] = []
    count = len(changes)
    flip: tuple[EventKind, datetime] | None = None
    if not state.flapping and count >= flapping.transitions:
        new.flapping, flip = True, (EventKind.FLAPPING, changes[0])
    elif state.flapping and 2 * count <= flapping.transitions:
        new.flapping, flip = False, (EventKind.STABLE, at)
    if flip:
        kind, since = flip
        key = new.dedup_key or state.dedup_key or dedup_key(state.check, at)
        level = new.severity or state.severity or override or Severity.WARNING
        message = f"{kind.value}: {count} changes within {format_duration(flapping.window)}"
        events.append(
            AlertEvent(kind, state.check, key, level, at, since, message, dict(result.measurements))
        )
    if new.flapping:
        return new, events

    if resolved and state.last_notified_at is not None:
        message = f"recovered: {result.message}" if result.message else "recovered"
        events.append(_alert_event(EventKind.RESOLVED, state, at, message, result.measurements))
    # Only an alert already announced escalates; an unannounced one fires at its new severity.
    if escalated and new.last_notified_at is not None:
        new.last_notified_at = at
        events.append(
            _alert_event(EventKind.ESCALATED, new, at, result.message, result.measurements)
        )
    # A firing alert not yet notified is a new one, or one whose FIRING waited for flapping to end.
    if new.phase is Phase.FIRING and new.last_notified_at is None:
        new.last_notified_at = at
        events.append(_alert_event(EventKind.FIRING, new, at, result.message, result.measurements))
    return new, events


def remind(
    state: CheckState, now: datetime, rule: AlertRule
) -> tuple[CheckState, AlertEvent | None]:
    """Given a state and the time, return the state and a REMINDER if a firing alert is due one."""
    if state.phase is not Phase.FIRING or state.flapping or rule.reminder is None:
        return state, None
    last = state.last_notified_at or state.fired_at
    assert last is not None, f"{state.check} fires without a fired_at"
    if now - last < timedelta(seconds=rule.reminder):
        return state, None
    new = replace(state, last_notified_at=now)
    event = _alert_event(EventKind.REMINDER, new, now, state.last_message, state.last_measurements)
    return new, event


def to_json(state: CheckState) -> dict[str, Any]:
    """Given a state, return it as JSON-ready data (datetimes as ISO strings, enums as values)."""
    return {
        "check": state.check,
        "phase": state.phase.value,
        "severity": state.severity.value if state.severity else None,
        "failures": state.failures,
        "failing_since": _iso(state.failing_since),
        "fired_at": _iso(state.fired_at),
        "last_notified_at": _iso(state.last_notified_at),
        "dedup_key": state.dedup_key,
        "last_status": state.last_status.value if state.last_status else None,
        "last_message": state.last_message,
        "last_measurements": dict(state.last_measurements),
        "changes": [t.isoformat() for t in state.changes],
        "flapping": state.flapping,
    }


def from_json(data: dict[str, Any]) -> CheckState:
    """Given data from ``to_json``, return the state it describes."""
    return CheckState(
        check=data["check"],
        phase=Phase(data["phase"]),
        severity=Severity(data["severity"]) if data["severity"] else None,
        failures=data["failures"],
        failing_since=_time(data["failing_since"]),
        fired_at=_time(data["fired_at"]),
        last_notified_at=_time(data["last_notified_at"]),
        dedup_key=data["dedup_key"],
        last_status=Status(data["last_status"]) if data["last_status"] else None,
        last_message=data["last_message"],
        last_measurements=dict(data["last_measurements"]),
        changes=[datetime.fromisoformat(t) for t in data["changes"]],
        flapping=data["flapping"],
    )


def _due(failures: int, failing_for: timedelta, rule: AlertRule) -> bool:
    enough = rule.for_ is None or failing_for >= timedelta(seconds=rule.for_)
    return failures >= rule.after and enough


def _rule_severity(rule: AlertRule) -> Severity | None:
    return Severity(rule.severity) if rule.severity else None


def _status_severity(status: Status) -> Severity:
    level = Severity.of(status)
    assert level is not None, "only failing results have a severity"
    return level


def _alert_event(
    kind: EventKind, alert: CheckState, at: datetime, message: str, measurements: Measurements
) -> AlertEvent:
    """Given a state holding an alert, return an event about that alert."""
    key, severity, since = alert.dedup_key, alert.severity, alert.failing_since
    assert key is not None and severity is not None and since is not None, "no alert"
    return AlertEvent(kind, alert.check, key, severity, at, since, message, dict(measurements))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
