"""A checklist run's history: who decided which item how (corrections included), who added which
note line, who completed it. It is each run's audit trail, and an incident's timeline shows its
phase runs' history. Every function works in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, insert, select

from watchkeeper.checklists.model import Event, EventKind, ItemState, NoteField
from watchkeeper.store.tables import checklist_events


def record(
    connection: Connection,
    run_id: int,
    kind: EventKind,
    at: datetime,
    actor: str,
    *,
    text: str = "",
    position: int | None = None,
    state: ItemState | None = None,
    field: NoteField | None = None,
) -> None:
    """Append an event to the run's history."""
    connection.execute(
        insert(checklist_events).values(
            run_id=run_id,
            at=at,
            actor=actor,
            kind=EventKind(kind).value,
            position=position,
            state=ItemState(state).value if state is not None else None,
            field=NoteField(field).value if field is not None else None,
            text=text,
        )
    )


def events(connection: Connection, run_id: int) -> list[Event]:
    """Return the run's history, oldest first."""
    return events_of(connection, [run_id])


def events_of(connection: Connection, run_ids: Collection[int]) -> list[Event]:
    """Return the history of these runs together, oldest first (one moment's events as written)."""
    if not run_ids:
        return []
    query = (
        select(checklist_events)
        .where(checklist_events.c.run_id.in_(list(run_ids)))
        .order_by(checklist_events.c.at, checklist_events.c.id)
    )
    return [
        Event(
            id=row.id,
            run_id=row.run_id,
            at=row.at,
            actor=row.actor,
            kind=EventKind(row.kind),
            text=row.text,
            position=row.position,
            state=ItemState(row.state) if row.state is not None else None,
            field=NoteField(row.field) if row.field is not None else None,
        )
        for row in connection.execute(query)
    ]
