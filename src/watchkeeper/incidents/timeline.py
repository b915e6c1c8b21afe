"""An incident's timeline: every change, note, alert, notification, breach and tick, in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from watchkeeper.incidents.model import TimelineEntry, TimelineKind
from watchkeeper.store.tables import incident_events


def add_entry(
    connection: Connection,
    incident_id: int,
    kind: TimelineKind,
    at: datetime,
    actor: str | None,
    text: str = "",
    data: dict[str, Any] | None = None,
) -> int:
    """Append an entry to the incident's timeline inside the caller's transaction; return its id."""
    inserted = connection.execute(
        insert(incident_events).values(
            incident_id=incident_id,
            at=at,
            kind=TimelineKind(kind).value,
            actor=actor,
            text=text,
            data=data,
        )
    )
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])


def entries(connection: Connection, incident_id: int) -> list[TimelineEntry]:
    """Return the incident's timeline, oldest first (entries at one moment in the order written)."""
    query = (
        select(incident_events)
        .where(incident_events.c.incident_id == incident_id)
        .order_by(incident_events.c.at, incident_events.c.id)
    )
    return [
        TimelineEntry(
            id=row.id,
            at=row.at,
            kind=TimelineKind(row.kind),
            actor=row.actor,
            text=row.text,
            data=row.data or {},
        )
        for row in connection.execute(query)
    ]
