"""An incident's timeline: every change, note, alert, notification, breach and tick, in order.

The incident's own entries are stored with it; the ticks, note lines and completions of its phase
checklists are their runs' history, merged in when the timeline is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from watchkeeper.checklists.history import events_of
from watchkeeper.checklists.model import MARKS, Event, EventKind, Run, RunState
from watchkeeper.checklists.runs import list_runs
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
    """Return the incident's timeline, oldest first (entries at one moment in the order written,
    the incident's own before its checklists'); checklist entries have no id of their own."""
    query = (
        select(incident_events)
        .where(incident_events.c.incident_id == incident_id)
        .order_by(incident_events.c.at, incident_events.c.id)
    )
    own = [
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
    runs = {run.id: run for run in list_runs(connection, incident_id=incident_id)}
    ticks = [_checklist_entry(runs[e.run_id], e) for e in events_of(connection, runs.keys())]
    # sorted() is stable: at one moment, the incident's own entries stay first, each in order.
    return sorted(own + ticks, key=lambda entry: entry.at)


def _checklist_entry(run: Run, event: Event) -> TimelineEntry:
    if event.kind is EventKind.DECIDED:
        assert event.position is not None and event.state is not None
        item = run.item(event.position)
        assert item is not None  # positions were checked when the item was decided
        said = f" ({event.text})" if event.text else ""
        return _entry(
            run,
            event,
            f"{MARKS[event.state]} {item.text}{said}",
            {"position": event.position, "state": event.state.value},
        )
    if event.kind is EventKind.NOTED:
        assert event.field is not None
        return _entry(
            run, event, f"{event.field.label}: {event.text}", {"field": event.field.value}
        )
    return _entry(
        run,
        event,
        f"checklist completed ({event.text})",
        {"state": RunState.COMPLETED.value},
    )


def _entry(run: Run, event: Event, what: str, data: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(
        id=None,
        at=event.at,
        kind=TimelineKind.CHECKLIST,
        actor=event.actor,
        text=f"{run.name}: {what}",
        data={"run_id": run.id, **data},
    )
