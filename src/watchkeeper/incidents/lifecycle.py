"""An incident's lifecycle: open → acknowledged → mitigated → resolved → closed, with its timeline.

States only move forward, and steps may be skipped (an incident may be resolved straight from
open; closing one not yet resolved resolves it in the same step). Each change records who made
it and when, and a timeline entry with an optional note. Every function works in the caller's transaction and raises ``IncidentError`` saying what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from watchkeeper.checklists.runs import NewItem, create_run
from watchkeeper.config.incidents import IncidentsConfig
from watchkeeper.config.procedures import StepKind
from watchkeeper.incidents import escalation, records
from watchkeeper.incidents.model import (
    Incident,
    IncidentError,
    IncidentState,
    Policy,
    TimelineKind,
    Transition,
)
from watchkeeper.incidents.timeline import add_entry


def open_incident(
    connection: Connection,
    config: IncidentsConfig,
    *,
    title: str,
    severity: str,
    actor: str,
    now: datetime,
    summary: str = "",
    source_key: str | None = None,
    alert_ids: Sequence[int] = (),
    base_url: str | None = None,
) -> int:
    """Open an incident of ``severity`` and return its id.

    The severity's policy is frozen into the incident; each configured phase gets a checklist
    run; the attached alerts are recorded; and the escalation levels due at once are notified
    through the outbox, all in the caller's transaction.
    """
    if severity not in config.severities:
        raise IncidentError(
            f"unknown severity {severity!r}: the config defines {', '.join(config.severities)}"
        )
    if not title.strip():
        raise IncidentError("an incident needs a title saying what is wrong")
    policy = Policy.of(config, severity)
    incident_id = records.insert(
        connection,
        title=title.strip(),
        severity=severity,
        state=IncidentState.OPEN.value,
        summary=summary,
        source_key=source_key,
        opened_at=now,
        opened_by=actor,
        policy=policy.to_json(),
        level=0,
        respond_by=now + timedelta(seconds=policy.respond_within),
    )
    add_entry(
        connection,
        incident_id,
        TimelineKind.OPENED,
        now,
        actor,
        f"opened as {severity}: {title.strip()}",
        {"severity": severity},
    )
    for alert_id in alert_ids:
        attach(connection, incident_id, alert_id, now)
    for phase, items in config.phases.items():
        create_run(
            connection,
            title=f"Incident #{incident_id}: {phase}",
            items=[NewItem(StepKind.MANUAL, text) for text in items],
            scheduled_for=now,
            created_by=actor,
            now=now,
            incident_id=incident_id,
            phase=phase,
        )
    escalation.escalate_incident(connection, require(connection, incident_id), now, base_url)
    return incident_id


def attach(connection: Connection, incident_id: int, alert_id: int, now: datetime) -> None:
    """Attach a firing alert to the incident and put it on the timeline."""
    alert = records.alert(connection, alert_id)
    if alert is None:
        raise IncidentError(f"no alert {alert_id}: see `watchkeeper alerts`")
    records.attach_alert(connection, incident_id, alert_id, now)
    add_entry(
        connection,
        incident_id,
        TimelineKind.ALERT,
        now,
        None,
        f"alert {alert.check} ({alert.severity}): {alert.message}",
        {"alert_id": alert_id, "check": alert.check, "alert_state": alert.state.value},
    )


def require(connection: Connection, incident_id: int, *, for_update: bool = False) -> Incident:
    """Return the incident, or raise IncidentError when there is none."""
    incident = records.get(connection, incident_id, for_update=for_update)
    if incident is None:
        raise IncidentError(f"no incident {incident_id}: see `watchkeeper incident list --all`")
    return incident


def apply(
    connection: Connection,
    incident_id: int,
    transition: Transition,
    actor: str,
    now: datetime,
    note: str = "",
) -> Incident:
    """Take the incident through ``transition`` (acknowledge, mitigate, resolve or close it)."""
    return _move(connection, incident_id, Transition(transition).target, actor, now, note)


def acknowledge(
    connection: Connection, incident_id: int, actor: str, now: datetime, note: str = ""
) -> Incident:
    """Record that ``actor`` is responding: escalation stops."""
    return _move(connection, incident_id, IncidentState.ACKNOWLEDGED, actor, now, note)


def mitigate(
    connection: Connection, incident_id: int, actor: str, now: datetime, note: str = ""
) -> Incident:
    """Record that the impact is contained, though the cause may not be fixed."""
    return _move(connection, incident_id, IncidentState.MITIGATED, actor, now, note)


def resolve(
    connection: Connection, incident_id: int, actor: str, now: datetime, note: str = ""
) -> Incident:
    """Record that the incident is over."""
    return _move(connection, incident_id, IncidentState.RESOLVED, actor, now, note)


def close(
    connection: Connection, incident_id: int, actor: str, now: datetime, note: str = ""
) -> Incident:
    """Close the incident for good, resolving it too if it was not; a severity requiring a
    post-mortem needs one written first."""
    return _move(connection, incident_id, IncidentState.CLOSED, actor, now, note)


def add_note(
    connection: Connection,
    incident_id: int,
    actor: str,
    now: datetime,
    text: str,
    public: bool = False,
) -> int:
    """Add a note to the timeline and return its id; a public note is a status-page update."""
    require(connection, incident_id)
    if not text.strip():
        raise IncidentError(f"an empty note adds nothing to incident {incident_id}")
    return add_entry(
        connection,
        incident_id,
        TimelineKind.NOTE,
        now,
        actor,
        text.strip(),
        {"public": True} if public else None,
    )


_KIND = {
    IncidentState.ACKNOWLEDGED: TimelineKind.ACKNOWLEDGED,
    IncidentState.MITIGATED: TimelineKind.MITIGATED,
    IncidentState.RESOLVED: TimelineKind.RESOLVED,
    IncidentState.CLOSED: TimelineKind.CLOSED,
}


def _move(
    connection: Connection,
    incident_id: int,
    target: IncidentState,
    actor: str,
    now: datetime,
    note: str,
) -> Incident:
    # Locked, so a worker escalating it at this moment finishes first and then sees the change.
    incident = require(connection, incident_id, for_update=True)
    if incident.state.rank >= target.rank:
        raise IncidentError(_refusal(incident, target))
    if (
        target is IncidentState.CLOSED
        and incident.policy.postmortem_required
        and not incident.postmortem_path
    ):
        raise IncidentError(
            f"incident {incident_id} is {incident.severity}, which requires a post-mortem: "
            f"run `watchkeeper incident postmortem {incident_id}`, fill it in, then close it"
        )
    escalation.record_breaches(connection, incident, now)
    changes = {f"{target.value}_at": now, f"{target.value}_by": actor}
    before = incident.state
    if target is IncidentState.CLOSED and before.active:
        # Closing ends the incident: its resolution time counts for MTTR and stops the SLA clocks.
        changes |= {"resolved_at": now, "resolved_by": actor}
        add_entry(
            connection,
            incident_id,
            TimelineKind.RESOLVED,
            now,
            actor,
            "resolved by closing",
            {"from": before.value},
        )
        before = IncidentState.RESOLVED
    records.update(connection, incident_id, state=target.value, **changes)
    add_entry(
        connection,
        incident_id,
        _KIND[target],
        now,
        actor,
        note.strip(),
        {"from": before.value},
    )
    return require(connection, incident_id)


def _refusal(incident: Incident, target: IncidentState) -> str:
    current = incident.state
    at: datetime | None = getattr(incident, f"{current.value}_at", None)
    by: str | None = getattr(incident, f"{current.value}_by", None)
    when = f" (by {by} at {at:%Y-%m-%d %H:%M} UTC)" if at is not None else ""
    if current is target:
        return f"incident {incident.id} is already {current.value}{when}"
    return (
        f"incident {incident.id} is already {current.value}{when}; "
        f"it cannot go back to {target.value}"
    )
