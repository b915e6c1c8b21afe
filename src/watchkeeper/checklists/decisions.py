"""Deciding a checklist run's items, adding notes to it and completing it, in the store.

Items are addressed by their 1-based position. Every function works in the caller's transaction;
those that change a run lock it first (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers),
so a person and the machine deciding the same run at once take turns. The machine's writes are
also conditional (``claim``, ``decide_pending``), because SQLite's lock is taken only at the first
write. Each decision, note line and completion is also recorded in the run's history
(``checklists.history``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, select, update

from watchkeeper.checklists import history
from watchkeeper.checklists.model import (
    ChecklistError,
    EventKind,
    Item,
    ItemState,
    NoteField,
    Run,
    RunCompleted,
    RunState,
)
from watchkeeper.checklists.runs import get_run, lock_run
from watchkeeper.store.tables import checklist_items, checklist_runs


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
    return replace(
        item,
        state=state,
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
