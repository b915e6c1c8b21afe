"""Checklist runs in the store: create them with their items (all pending) and read them back.

A run is a procedure's occurrence or an incident's phase; its items are numbered from 1 in order.
Every function works in the caller's transaction. ``lock_run`` reads a run locked against other
writers, for the changes that decide, note and complete it (``checklists.decisions``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select
from sqlalchemy.exc import IntegrityError

from watchkeeper.checklists.model import Item, ItemState, Run, RunState
from watchkeeper.config.procedures import StepKind
from watchkeeper.store.tables import checklist_items, checklist_runs


@dataclass(frozen=True)
class NewItem:
    """An item of a run about to be created."""

    kind: StepKind
    text: str
    check_name: str | None = None
    argv: tuple[str, ...] | None = None
    timeout: float | None = None


def create_run(
    connection: Connection,
    *,
    title: str,
    items: Sequence[NewItem],
    scheduled_for: datetime,
    created_by: str,
    now: datetime,
    procedure: str | None = None,
    incident_id: int | None = None,
    phase: str | None = None,
    owner: str = "",
    due_at: datetime | None = None,
) -> int | None:
    """Insert a run with its items (all pending); return its id, or None if the procedure's run
    for ``scheduled_for`` already exists (the caller's transaction goes on)."""
    if procedure is not None and _occurrence_exists(connection, procedure, scheduled_for):
        return None
    try:
        # The unique index decides races between workers; the caller's transaction goes on.
        with undo_alone(connection):
            inserted = connection.execute(
                insert(checklist_runs).values(
                    procedure=procedure,
                    incident_id=incident_id,
                    phase=phase,
                    title=title,
                    owner=owner,
                    state=RunState.OPEN.value,
                    scheduled_for=scheduled_for,
                    due_at=due_at,
                    created_at=now,
                    created_by=created_by,
                )
            )
            key = inserted.inserted_primary_key
            assert key is not None
            run_id = int(key[0])
            if items:
                connection.execute(
                    insert(checklist_items),
                    [
                        {
                            "run_id": run_id,
                            "position": position,
                            "kind": StepKind(item.kind).value,
                            "text": item.text,
                            "check_name": item.check_name,
                            "argv": list(item.argv) if item.argv is not None else None,
                            "timeout": item.timeout,
                            "state": ItemState.PENDING.value,
                        }
                        for position, item in enumerate(items, 1)
                    ],
                )
    except IntegrityError:
        if procedure is not None and _occurrence_exists(connection, procedure, scheduled_for):
            return None
        raise
    return run_id


def undo_alone(connection: Connection) -> AbstractContextManager[object]:
    """Return a context in which a failing statement is undone without the caller's transaction.

    PostgreSQL aborts the whole transaction on an error, so this is a savepoint there. SQLite
    undoes just the failed statement, and pysqlite's savepoint would commit the caller's
    transaction early when it is the first statement in it.
    """
    if connection.dialect.name == "sqlite":
        return contextlib.nullcontext()
    return connection.begin_nested()


def get_run(connection: Connection, run_id: int) -> Run | None:
    """Return the run with its items, or None if there is no such run."""
    row = connection.execute(select(checklist_runs).where(checklist_runs.c.id == run_id)).first()
    return None if row is None else _with_items(connection, [row])[0]


def lock_run(connection: Connection, run_id: int) -> Run | None:
    """Return the run like ``get_run``, locked against other writers until the transaction ends."""
    query = select(checklist_runs).where(checklist_runs.c.id == run_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    return None if row is None else _with_items(connection, [row])[0]


def list_runs(
    connection: Connection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    procedure: str | None = None,
    incident_id: int | None = None,
    state: RunState | None = None,
    incident_phases: bool = True,
    limit: int = 200,
) -> list[Run]:
    """Return runs scheduled in [since, until) matching the filters, newest scheduled first
    (without incidents' phase runs if ``incident_phases`` is False)."""
    query = select(checklist_runs)
    if not incident_phases:
        query = query.where(checklist_runs.c.incident_id.is_(None))
    if since is not None:
        query = query.where(checklist_runs.c.scheduled_for >= since)
    if until is not None:
        query = query.where(checklist_runs.c.scheduled_for < until)
    if procedure is not None:
        query = query.where(checklist_runs.c.procedure == procedure)
    if incident_id is not None:
        query = query.where(checklist_runs.c.incident_id == incident_id)
    if state is not None:
        query = query.where(checklist_runs.c.state == RunState(state).value)
    query = query.order_by(checklist_runs.c.scheduled_for.desc(), checklist_runs.c.id.desc())
    return _with_items(connection, list(connection.execute(query.limit(limit))))


def _occurrence_exists(connection: Connection, procedure: str, scheduled_for: datetime) -> bool:
    query = select(checklist_runs.c.id).where(
        checklist_runs.c.procedure == procedure, checklist_runs.c.scheduled_for == scheduled_for
    )
    return connection.execute(query).first() is not None


def _with_items(connection: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    """Given run rows, return them as runs with their items, in the same order."""
    items: dict[int, list[Item]] = {row.id: [] for row in rows}
    if items:
        query = (
            select(checklist_items)
            .where(checklist_items.c.run_id.in_(list(items)))
            .order_by(checklist_items.c.run_id, checklist_items.c.position)
        )
        for item in connection.execute(query):
            items[item.run_id].append(_item_from_row(item))
    return [_run_from_row(row, tuple(items[row.id])) for row in rows]


def _item_from_row(row: Row[Any]) -> Item:
    return Item(
        id=row.id,
        run_id=row.run_id,
        position=row.position,
        kind=StepKind(row.kind),
        text=row.text,
        state=ItemState(row.state),
        check_name=row.check_name,
        argv=tuple(row.argv) if row.argv is not None else None,
        timeout=row.timeout,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        note=row.note,
        output=row.output,
        exit_code=row.exit_code,
    )


def _run_from_row(row: Row[Any], items: tuple[Item, ...]) -> Run:
    return Run(
        id=row.id,
        title=row.title,
        state=RunState(row.state),
        scheduled_for=row.scheduled_for,
        created_at=row.created_at,
        created_by=row.created_by,
        items=items,
        procedure=row.procedure,
        incident_id=row.incident_id,
        phase=row.phase,
        owner=row.owner,
        due_at=row.due_at,
        completed_at=row.completed_at,
        completed_by=row.completed_by,
        overdue_at=row.overdue_at,
        escalated_at=row.escalated_at,
        issues_found=row.issues_found,
        actions_taken=row.actions_taken,
        escalations_made=row.escalations_made,
    )


def overdue_count(connection: Connection, now: datetime) -> int:
    """Return how many runs are still open past their due time."""
    query = (
        select(func.count())
        .select_from(checklist_runs)
        .where(checklist_runs.c.state == RunState.OPEN.value, checklist_runs.c.due_at < now)
    )
    return int(connection.scalar(query) or 0)
