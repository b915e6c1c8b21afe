"""Checklist runs in the store: create them, decide their items, add notes, complete them.

A run is a procedure's occurrence or an incident's phase. Items are addressed by their 1-based
position. Every function works in the caller's transaction; those that change a run lock it first
(``FOR UPDATE`` on PostgreSQL; SQLite serialises writers), so a person and the machine deciding
the same run at once take turns. The machine's writes are also conditional (``claim``,
``decide_pending``), because SQLite's lock is taken only at the first write. Each decision, note
line and completion is also recorded in the run's history (``checklists.history``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.checklists import history
from watchkeeper.checklists.model import EventKind, Item, ItemState, NoteField, Run, RunState
from watchkeeper.config.procedures import StepKind
from watchkeeper.store.tables import checklist_items, checklist_runs


class ChecklistError(Exception):
    """A checklist change that cannot be made; the message says why and what to do instead."""


class RunCompleted(ChecklistError):
    """The run is completed (perhaps by someone else a moment ago), so it is read-only."""


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


def decide(
    connection: Connection,
    run_id: int,
    position: int,
    state: ItemState,
    actor: str,
    now: datetime,
    note: str = "",
    output: str | None = None,
    exit_code: int | None = None,
) -> Item:
    """Decide item ``position`` of an open run (a person may correct any earlier decision); return it."""
    state = ItemState(state)
    if state is ItemState.PENDING:
        raise ChecklistError(
            f"pending is not a decision: mark item {position} of run {run_id} "
            "passed, failed or skipped"
        )
    run = _open_run(connection, run_id)
    item = _item(run, position)
    connection.execute(
        update(checklist_items)
        .where(checklist_items.c.id == item.id)
        .values(
            state=state.value,
            decided_by=actor,
            decided_at=now,
            note=note,
            output=output,
            exit_code=exit_code,
        )
    )
    history.record(
        connection,
        run_id,
        EventKind.DECIDED,
        now,
        actor,
        text=note,
        position=position,
        state=state,
    )
    return Item(
        id=item.id,
        run_id=item.run_id,
        position=item.position,
        kind=item.kind,
        text=item.text,
        state=state,
        check_name=item.check_name,
        argv=item.argv,
        timeout=item.timeout,
        decided_by=actor,
        decided_at=now,
        note=note,
        output=output,
        exit_code=exit_code,
    )


def claim(connection: Connection, item_id: int, until: datetime, now: datetime) -> bool:
    """Claim a pending item for the machine until ``until``; return False if it is decided, or
    someone else's claim still holds at ``now``.

    Call it in a transaction of its own, before running the item's check or command: only the
    claimer runs it, and a claim that expires (its worker died) lets another try again.
    """
    item = checklist_items.c
    claimed = connection.execute(
        update(checklist_items)
        .where(
            item.id == item_id,
            item.state == ItemState.PENDING.value,
            item.claimed_until.is_(None) | (item.claimed_until < now),
        )
        .values(claimed_until=until)
    )
    return claimed.rowcount == 1


def decide_pending(
    connection: Connection,
    run_id: int,
    position: int,
    state: ItemState,
    actor: str,
    now: datetime,
    note: str = "",
    output: str | None = None,
    exit_code: int | None = None,
) -> bool:
    """Decide item ``position`` only if it is still pending in an open run; return whether it was.

    The machine's way to decide: a person's decision made meanwhile is never overwritten.
    """
    state = ItemState(state)
    still_open = (
        select(checklist_runs.c.id)
        .where(checklist_runs.c.id == run_id, checklist_runs.c.state == RunState.OPEN.value)
        .exists()
    )
    decided = connection.execute(
        update(checklist_items)
        .where(
            checklist_items.c.run_id == run_id,
            checklist_items.c.position == position,
            checklist_items.c.state == ItemState.PENDING.value,
            still_open,
        )
        .values(
            state=state.value,
            decided_by=actor,
            decided_at=now,
            note=note,
            output=output,
            exit_code=exit_code,
        )
    )
    if decided.rowcount != 1:
        return False
    history.record(
        connection, run_id, EventKind.DECIDED, now, actor, text=note, position=position, state=state
    )
    return True


def annotate(connection: Connection, run_id: int, position: int, note: str) -> None:
    """Set the note of a still pending item (why it waits) without deciding it."""
    connection.execute(
        update(checklist_items)
        .where(
            checklist_items.c.run_id == run_id,
            checklist_items.c.position == position,
            checklist_items.c.state == ItemState.PENDING.value,
        )
        .values(note=note)
    )


def set_note(
    connection: Connection, run_id: int, field: NoteField, text: str, actor: str, now: datetime
) -> None:
    """Append ``text`` as a line of the run's ``field`` note (what was there stays)."""
    field = NoteField(field)
    run = lock_run(connection, run_id)
    if run is None:
        raise ChecklistError(f"no checklist run {run_id}: see `watchkeeper checklist list`")
    line = text.strip()
    if not line:
        raise ChecklistError(f"an empty note adds nothing to run {run_id}; write what you found")
    before: str = getattr(run, field.value)
    after = f"{before}\n{line}" if before else line
    connection.execute(
        update(checklist_runs).where(checklist_runs.c.id == run_id).values({field.value: after})
    )
    history.record(connection, run_id, EventKind.NOTED, now, actor, text=line, field=field)


def complete(connection: Connection, run_id: int, actor: str, now: datetime) -> Run:
    """Complete an open run whose items are all decided; return it as completed."""
    run = _open_run(connection, run_id)
    pending = [item for item in run.items if item.state is ItemState.PENDING]
    if pending:
        listed = ", ".join(f"{item.position} ({item.text})" for item in pending)
        raise ChecklistError(
            f"run {run_id} still has pending items: {listed}; decide each with "
            f"`watchkeeper checklist tick|fail|skip {run_id} ITEM` first"
        )
    completed = connection.execute(
        update(checklist_runs)
        .where(checklist_runs.c.id == run_id, checklist_runs.c.state == RunState.OPEN.value)
        .values(state=RunState.COMPLETED.value, completed_at=now, completed_by=actor)
    )
    if completed.rowcount != 1:
        # Completed by another writer since it was read (SQLite locks only at the first write).
        meanwhile = get_run(connection, run_id)
        assert meanwhile is not None
        raise _read_only(meanwhile)
    counts = run.counts()
    history.record(
        connection,
        run_id,
        EventKind.COMPLETED,
        now,
        actor,
        text=f"{counts[ItemState.PASSED]} passed, {counts[ItemState.FAILED]} failed, "
        f"{counts[ItemState.SKIPPED]} skipped",
    )
    done = get_run(connection, run_id)
    assert done is not None
    return done


def _open_run(connection: Connection, run_id: int) -> Run:
    run = lock_run(connection, run_id)
    if run is None:
        raise ChecklistError(f"no checklist run {run_id}: see `watchkeeper checklist list`")
    if run.state is RunState.COMPLETED:
        raise _read_only(run)
    return run


def _read_only(run: Run) -> RunCompleted:
    return RunCompleted(
        f"run {run.id} was completed by {run.completed_by} and is read-only; "
        "start a new run to check again"
    )


def _item(run: Run, position: int) -> Item:
    item = run.item(position)
    if item is not None:
        return item
    raise ChecklistError(
        f"run {run.id} has no item {position}: its items are 1 to {len(run.items)}"
    )


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
