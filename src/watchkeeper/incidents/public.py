"""What the public status page may say about incidents: only the updates people wrote for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, or_, select

from watchkeeper.incidents.model import IncidentState, TimelineKind
from watchkeeper.store.tables import incident_events, incidents

PUBLIC_STATE = {
    IncidentState.OPEN: "Investigating",
    IncidentState.ACKNOWLEDGED: "Identified",
    IncidentState.MITIGATED: "Monitoring",
    IncidentState.RESOLVED: "Resolved",
    IncidentState.CLOSED: "Resolved",
}
"""How an incident's state reads to the public (the words of hosted status pages)."""


@dataclass(frozen=True)
class PublicUpdate:
    """One status-page update: when, and the text a person wrote for the public."""

    at: datetime
    text: str


@dataclass(frozen=True)
class PublicIncident:
    """An incident as the public sees it: a state word and the public updates, newest first."""

    id: int
    state: IncidentState
    opened_at: datetime
    resolved_at: datetime | None
    updates: tuple[PublicUpdate, ...]

    @property
    def state_text(self) -> str:
        """Return the state in the public's words, e.g. ``Investigating``."""
        return PUBLIC_STATE[self.state]


def public_incidents(connection: Connection, resolved_since: datetime) -> list[PublicIncident]:
    """Return unresolved incidents, and those resolved since ``resolved_since``, that have at least
    one public update; newest first. Titles and internal notes are never included."""
    active = [s.value for s in IncidentState if s.active]
    shown = (
        select(incidents)
        .where(or_(incidents.c.state.in_(active), incidents.c.resolved_at >= resolved_since))
        .order_by(incidents.c.opened_at.desc())
        .limit(20)
    )
    rows = list(connection.execute(shown))
    if not rows:
        return []
    notes = connection.execute(
        select(
            incident_events.c.incident_id,
            incident_events.c.at,
            incident_events.c.text,
            incident_events.c.data,
        )
        .where(
            incident_events.c.incident_id.in_([row.id for row in rows]),
            incident_events.c.kind == TimelineKind.NOTE.value,
        )
        .order_by(incident_events.c.at.desc(), incident_events.c.id.desc())
    )
    updates: dict[int, list[PublicUpdate]] = {}
    for note in notes:
        if (note.data or {}).get("public"):
            updates.setdefault(note.incident_id, []).append(PublicUpdate(note.at, note.text))
    return [
        PublicIncident(
            row.id, IncidentState(row.state), row.opened_at, row.resolved_at, tuple(updates[row.id])
        )
        for row in rows
        if row.id in updates
    ]
