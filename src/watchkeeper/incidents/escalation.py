"""Escalation: who is told while an incident stays unacknowledged, and when its SLAs are breached.

``plan`` decides what is due from the policy snapshotted into the incident when it opened, so
editing the config never changes an escalation already running (as Grafana OnCall does).
``escalate`` applies it to every active incident, each in its own savepoint: one unreadable row
is logged and skipped and cannot stop the others (as healthchecks' sendalerts does).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, or_, select

from watchkeeper.alerting.channels import NotifyType
from watchkeeper.alerting.outbox import enqueue
from watchkeeper.config.units import format_duration
from watchkeeper.incidents import records
from watchkeeper.incidents.model import (
    MACHINE,
    Incident,
    IncidentState,
    Level,
    Policy,
    TimelineKind,
)
from watchkeeper.incidents.timeline import add_entry
from watchkeeper.store.tables import incident_events, incidents

log = logging.getLogger("watchkeeper.incidents.escalation")

_reported: set[int] = set()
"""Incidents whose failure to escalate was logged with a traceback (later ones are brief)."""


@dataclass(frozen=True)
class Plan:
    """What is due for one incident now: levels to notify and SLA breaches to record."""

    notify: tuple[Level, ...] = ()
    response_breached: bool = False
    status_update_breached: bool = False


def plan(
    policy: Policy,
    opened_at: datetime,
    level: int,
    response_breached: bool,
    status_updated: bool,
    status_update_breached: bool,
    now: datetime,
    *,
    responded: bool = False,
) -> Plan:
    """Given an incident's policy, opening, highest level notified, the breaches already recorded
    and whether a public update came in time, return what is due at ``now``.

    While nobody has responded, each level above ``level`` is due once ``after`` has passed since
    opening; at ``respond_within`` the response SLA is breached and the next level above the
    highest notified is due at once. The status-update SLA holds whether or not anyone responded.
    """
    due: list[Level] = []
    breach_response = False
    if not responded:
        due = [lv for lv in policy.levels if lv.level > level and now >= _at(opened_at, lv.after)]
        if not response_breached and now >= _at(opened_at, policy.respond_within):
            breach_response = True
            highest = max([level, *(lv.level for lv in due)])
            following = next((lv for lv in policy.levels if lv.level > highest), None)
            if following is not None:
                due.append(following)
    deadline = status_update_deadline(policy, opened_at)
    breach_status = (
        deadline is not None
        and not status_updated
        and not status_update_breached
        and now >= deadline
    )
    return Plan(tuple(due), breach_response, breach_status)


def status_update_deadline(policy: Policy, opened_at: datetime) -> datetime | None:
    """Given a policy and an opening time, return when a public update is due (None: never)."""
    within = policy.update_status_page_within
    return None if within is None else _at(opened_at, within)


def escalate(
    connection: Connection,
    now: datetime,
    base_url: str | None,
    *,
    channels: Collection[str] | None = None,
) -> int:
    """Notify the due escalation levels of every active incident and record SLA breaches;
    return how many messages were queued. ``channels`` are the configured ones: a level naming
    another is logged (None: not checked).

    On PostgreSQL the incidents are locked with SKIP LOCKED, so two workers never both escalate one.
    """
    candidates = _may_need_work(connection, now)
    if not candidates:
        return 0
    query = (
        select(incidents.c.id)
        .where(incidents.c.id.in_(candidates), incidents.c.state.in_(records.ACTIVE))
        .order_by(incidents.c.id)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    queued = 0
    for incident_id in list(connection.scalars(query)):
        try:
            # pysqlite may commit this savepoint by itself: fine, each incident's work is separate.
            with connection.begin_nested():
                incident = records.get(connection, incident_id)
                if incident is not None:
                    queued += escalate_incident(
                        connection, incident, now, base_url, channels=channels
                    )
        except Exception as exc:
            if incident_id in _reported:
                log.error("still cannot escalate incident %d: %s", incident_id, exc)
            else:
                _reported.add(incident_id)
                log.exception("cannot escalate incident %d; skipping it", incident_id)
        else:
            _reported.discard(incident_id)
    return queued


def _may_need_work(connection: Connection, now: datetime) -> list[int]:
    """Return the ids of active incidents with something due at ``now``, read without locks.

    A pass every 2 s with many open incidents must not visit each: only those with a level or a
    breach due are locked and escalated. An unreadable policy is visited (escalating it logs why).
    """
    query = select(
        incidents.c.id,
        incidents.c.state,
        incidents.c.opened_at,
        incidents.c.policy,
        incidents.c.level,
        incidents.c.response_breached_at,
        incidents.c.status_update_breached_at,
    ).where(
        incidents.c.state.in_(records.ACTIVE),
        or_(
            incidents.c.state == IncidentState.OPEN.value,
            incidents.c.status_update_breached_at.is_(None),
        ),
    )
    found: list[int] = []
    status_due: dict[int, datetime] = {}
    for row in connection.execute(query):
        try:
            policy = Policy.from_json(row.policy)
        except (KeyError, TypeError, ValueError):
            found.append(row.id)
            continue
        deadline = status_update_deadline(policy, row.opened_at)
        if deadline is not None and row.status_update_breached_at is None and now >= deadline:
            status_due[row.id] = deadline
        if row.state == IncidentState.OPEN.value:
            # Whether a public update came is asked only of the few incidents visited.
            due = plan(
                policy,
                row.opened_at,
                row.level,
                row.response_breached_at is not None,
                True,
                True,
                now,
            )
            if due.notify or due.response_breached:
                found.append(row.id)
    # An incident whose public update came in time has nothing due for it, pass after pass.
    updated = _updated_by(connection, status_due)
    return sorted({*found, *(i for i in status_due if i not in updated)})


def _updated_by(connection: Connection, deadlines: dict[int, datetime]) -> set[int]:
    """Given incidents and their status-update deadlines, return those with a public note by then."""
    if not deadlines:
        return set()
    query = select(
        incident_events.c.incident_id, incident_events.c.at, incident_events.c.data
    ).where(
        incident_events.c.incident_id.in_(list(deadlines)),
        incident_events.c.kind == TimelineKind.NOTE.value,
    )
    return {
        row.incident_id
        for row in connection.execute(query)
        if (row.data or {}).get("public") and row.at <= deadlines[row.incident_id]
    }


def escalate_incident(
    connection: Connection,
    incident: Incident,
    now: datetime,
    base_url: str | None,
    *,
    channels: Collection[str] | None = None,
) -> int:
    """Apply the incident's plan at ``now``: record breaches, queue due messages; return how many.

    A level naming a channel not among ``channels`` is still queued (the outbox gives it up where
    people see it) and logged here.
    """
    due = _plan_for(connection, incident, now)
    _record_breaches(connection, incident, due)
    queued = 0
    for level in due.notify:
        add_entry(
            connection,
            incident.id,
            TimelineKind.ESCALATED,
            now,
            MACHINE,
            f"escalated to level {level.level}",
            {"level": level.level},
        )
        title, body = message(incident, level, now, base_url)
        for channel in level.notify:
            if channels is not None and channel not in channels:
                log.warning(
                    "incident %d: escalation level %d names channel %r, "
                    "which is no longer in notifications.channels",
                    incident.id,
                    level.level,
                    channel,
                )
            outbox_id = enqueue(connection, channel, title, body, NotifyType.FAILURE, now)
            add_entry(
                connection,
                incident.id,
                TimelineKind.NOTIFIED,
                now,
                MACHINE,
                f"notified {channel} (level {level.level})",
                {"level": level.level, "channel": channel, "outbox_id": outbox_id},
            )
            queued += 1
    if due.notify:
        records.update(connection, incident.id, level=max(lv.level for lv in due.notify))
    return queued


def record_breaches(connection: Connection, incident: Incident, now: datetime) -> None:
    """Record the SLA breaches the incident has reached by ``now`` without notifying anyone.

    Called before a state change, so a response that came late counts as a breach even when no
    worker was running to notice it in time.
    """
    _record_breaches(connection, incident, _plan_for(connection, incident, now))


def message(
    incident: Incident, level: Level, now: datetime, base_url: str | None
) -> tuple[str, str]:
    """Given an incident and the level being notified, return the message's title and body."""
    policy = incident.policy
    title = f"[{incident.severity}] Incident #{incident.id} needs a response: {incident.title}"
    late = (now - incident.respond_by).total_seconds()
    respond = _when(incident.respond_by) + (
        f" (overdue by {format_duration(late)})" if late > 0 else ""
    )
    lines = [
        f"Severity: {incident.severity} (respond within {format_duration(policy.respond_within)})",
        f"Opened: {_when(incident.opened_at)} by {incident.opened_by}",
        f"Escalation level: {level.level} of {max(lv.level for lv in policy.levels)}",
        f"Respond by: {respond}",
    ]
    if incident.summary:
        lines.append(f"Summary: {incident.summary}")
    if base_url:
        lines.append(f"Link: {base_url.rstrip('/')}/incidents/{incident.id}")
    lines.append(f"Acknowledge: watchkeeper incident ack {incident.id}")
    return title, "\n".join(lines)


def _plan_for(connection: Connection, incident: Incident, now: datetime) -> Plan:
    if not incident.state.active:
        return Plan()
    return plan(
        incident.policy,
        incident.opened_at,
        incident.level,
        incident.response_breached_at is not None,
        _status_updated(connection, incident),
        incident.status_update_breached_at is not None,
        now,
        responded=incident.state is not IncidentState.OPEN,
    )


def _status_updated(connection: Connection, incident: Incident) -> bool:
    """Return True if a public note came before the status-update deadline (or none is due)."""
    deadline = status_update_deadline(incident.policy, incident.opened_at)
    if deadline is None or incident.status_update_breached_at is not None:
        return True
    return incident.id in _updated_by(connection, {incident.id: deadline})


def _record_breaches(connection: Connection, incident: Incident, due: Plan) -> None:
    # Each breach is dated when its deadline passed, not when a worker noticed it.
    policy = incident.policy
    if due.response_breached:
        records.update(connection, incident.id, response_breached_at=incident.respond_by)
        add_entry(
            connection,
            incident.id,
            TimelineKind.SLA_BREACHED,
            incident.respond_by,
            MACHINE,
            f"no response within {format_duration(policy.respond_within)} "
            f"({incident.severity} response SLA)",
            {"sla": "response"},
        )
    deadline = status_update_deadline(policy, incident.opened_at)
    if due.status_update_breached and deadline is not None:
        records.update(connection, incident.id, status_update_breached_at=deadline)
        assert policy.update_status_page_within is not None
        add_entry(
            connection,
            incident.id,
            TimelineKind.SLA_BREACHED,
            deadline,
            MACHINE,
            f"no public status update within {format_duration(policy.update_status_page_within)}"
            f" ({incident.severity} status-update SLA)",
            {"sla": "status_update"},
        )


def _at(opened_at: datetime, seconds: float) -> datetime:
    return opened_at + timedelta(seconds=seconds)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
