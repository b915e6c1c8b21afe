"""The incidents tables, read and written: incident rows and the alerts attached to them.

Every function works in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row, select

from watchkeeper.alerting.queries import AlertRow, alerts_by_id
from watchkeeper.incidents.model import Incident, IncidentState, Policy
from watchkeeper.store.tables import incident_alerts, incidents

ACTIVE = tuple(state.value for state in IncidentState if state.active)
"""The stored states of incidents not yet resolved."""


def insert(connection: Connection, **values: Any) -> int:
    """Insert an incident row and return its id."""
    inserted = connection.execute(sa.insert(incidents).values(**values))
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])


def from_row(row: Row[Any]) -> Incident:
    """Given a row of ``incidents``, return the incident (raises if its policy cannot be read)."""
    return Incident(
        id=row.id,
        title=row.title,
        severity=row.severity,
        state=IncidentState(row.state),
        summary=row.summary,
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        policy=Policy.from_json(row.policy),
        level=row.level,
        respond_by=row.respond_by,
        source_key=row.source_key,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        mitigated_at=row.mitigated_at,
        mitigated_by=row.mitigated_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        response_breached_at=row.response_breached_at,
        status_update_breached_at=row.status_update_breached_at,
        postmortem_path=row.postmortem_path,
    )


def get(connection: Connection, incident_id: int, *, for_update: bool = False) -> Incident | None:
    """Return the incident, or None; ``for_update`` locks its row on PostgreSQL until commit."""
    query = select(incidents).where(incidents.c.id == incident_id)
    if for_update and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    return None if row is None else from_row(row)


def list_incidents(
    connection: Connection,
    *,
    active_only: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    severity: str | None = None,
    limit: int = 100,
) -> list[Incident]:
    """Return incidents opened in [since, until) matching the filters, newest first."""
    query = select(incidents)
    if active_only:
        query = query.where(incidents.c.state.in_(ACTIVE))
    if since is not None:
        query = query.where(incidents.c.opened_at >= since)
    if until is not None:
        query = query.where(incidents.c.opened_at < until)
    if severity is not None:
        query = query.where(incidents.c.severity == severity)
    query = query.order_by(incidents.c.opened_at.desc(), incidents.c.id.desc()).limit(limit)
    return [from_row(row) for row in connection.execute(query)]


def active_for_source(connection: Connection, source_key: str) -> Incident | None:
    """Return the newest unresolved incident opened for ``source_key`` (e.g. ``check:api``), if any."""
    query = (
        select(incidents)
        .where(incidents.c.source_key == source_key, incidents.c.state.in_(ACTIVE))
        .order_by(incidents.c.id.desc())
        .limit(1)
    )
    row = connection.execute(query).first()
    return None if row is None else from_row(row)


def update(connection: Connection, incident_id: int, **values: Any) -> None:
    """Change an incident's columns."""
    connection.execute(sa.update(incidents).where(incidents.c.id == incident_id).values(**values))


def attach_alert(connection: Connection, incident_id: int, alert_id: int, now: datetime) -> None:
    """Attach an alert to an incident (an alert belongs to one incident at most)."""
    connection.execute(
        sa.insert(incident_alerts).values(
            alert_id=alert_id, incident_id=incident_id, attached_at=now
        )
    )


def attached_among(connection: Connection, alert_ids: Collection[int]) -> set[int]:
    """Return which of these alerts are attached to an incident."""
    if not alert_ids:
        return set()
    query = select(incident_alerts.c.alert_id).where(
        incident_alerts.c.alert_id.in_(list(alert_ids))
    )
    return set(connection.scalars(query))


def attached_alerts(connection: Connection, incident_id: int) -> list[AlertRow]:
    """Return the alerts attached to the incident, in the order they were attached."""
    query = (
        select(incident_alerts.c.alert_id)
        .where(incident_alerts.c.incident_id == incident_id)
        .order_by(incident_alerts.c.attached_at, incident_alerts.c.alert_id)
    )
    ids = list(connection.scalars(query))
    found = {a.id: a for a in alerts_by_id(connection, ids)}
    return [found[alert_id] for alert_id in ids]


def alert(connection: Connection, alert_id: int) -> AlertRow | None:
    """Return the alert with this id, if any."""
    return next(iter(alerts_by_id(connection, [alert_id])), None)


def active_by_severity(connection: Connection) -> dict[str, int]:
    """Return how many unresolved incidents there are of each severity that has any."""
    query = (
        select(incidents.c.severity, sa.func.count())
        .where(incidents.c.state.in_(ACTIVE))
        .group_by(incidents.c.severity)
    )
    return {severity: int(count) for severity, count in connection.execute(query)}
