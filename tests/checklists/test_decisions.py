"""Deciding a checklist run's items, noting and completing it, and each run's history, on both
backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.checklists.run_support import T0, new_run
from tests.procedures.checklist_support import run
from watchkeeper.checklists.decisions import claim, complete, decide, decide_pending, set_note
from watchkeeper.checklists.history import events
from watchkeeper.checklists.model import (
    ChecklistError,
    EventKind,
    ItemState,
    NoteField,
    RunCompleted,
    RunState,
)
from watchkeeper.incidents.model import MACHINE
from watchkeeper.store.store import Store


def test_a_person_may_correct_the_machine_until_the_run_is_completed(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        decide(connection, run_id, 1, ItemState.FAILED, MACHINE, T0, "critical: 503")
        corrected = decide(
            connection, run_id, 1, ItemState.PASSED, "ana", T0, "deploy finished, passes now"
        )
        decide(connection, run_id, 2, ItemState.SKIPPED, "ana", T0)
        decide(connection, run_id, 3, ItemState.PASSED, "ana", T0)
    assert (corrected.state, corrected.decided_by) == (ItemState.PASSED, "ana")
    assert run(any_store.engine, run_id).items[0].note == "deploy finished, passes now"
    with any_store.engine.begin() as connection:
        complete(connection, run_id, "ana", T0 + timedelta(minutes=5))
    with any_store.engine.begin() as connection, pytest.raises(ChecklistError, match="read-only"):
        decide(connection, run_id, 1, ItemState.FAILED, "bo", T0)


def test_a_decision_must_name_an_item_and_a_verdict(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        with pytest.raises(ChecklistError, match="its items are 1 to 3"):
            decide(connection, run_id, 4, ItemState.PASSED, "ana", T0)
        with pytest.raises(ChecklistError, match="pending is not a decision"):
            decide(connection, run_id, 1, ItemState.PENDING, "ana", T0)
        with pytest.raises(ChecklistError, match="no checklist run 999"):
            decide(connection, 999, 1, ItemState.PASSED, "ana", T0)


def test_complete_refuses_a_run_with_pending_items_and_names_them(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        decide(connection, run_id, 1, ItemState.PASSED, MACHINE, T0)
    with (
        any_store.engine.begin() as connection,
        pytest.raises(ChecklistError, match=r"2 \(Run git status\), 3 \(Review the dashboard\)"),
    ):
        complete(connection, run_id, "ana", T0)
    assert run(any_store.engine, run_id).state is RunState.OPEN

    with any_store.engine.begin() as connection:
        decide(connection, run_id, 2, ItemState.PASSED, MACHINE, T0)
        decide(connection, run_id, 3, ItemState.FAILED, "ana", T0, "two alerts")
        done = complete(connection, run_id, "ana", T0 + timedelta(hours=1))
    assert (done.state, done.completed_by) == (RunState.COMPLETED, "ana")
    assert done.completed_at == T0 + timedelta(hours=1)
    with any_store.engine.begin() as connection, pytest.raises(RunCompleted, match="by ana"):
        complete(connection, run_id, "bo", T0)


def test_the_machine_decides_only_an_unclaimed_pending_item_of_an_open_run(
    any_store: Store,
) -> None:
    run_id = new_run(any_store)
    check, command, _ = run(any_store.engine, run_id).items
    later = T0 + timedelta(minutes=10)
    with any_store.engine.begin() as connection:
        assert claim(connection, command.id, T0 + timedelta(minutes=5), T0)
        assert not claim(connection, command.id, T0 + timedelta(minutes=6), T0)
        assert claim(connection, command.id, later + timedelta(minutes=5), later)  # expired
        decide(connection, run_id, 1, ItemState.PASSED, "ana", T0, "looked myself")
        assert not claim(connection, check.id, later, T0)  # decided: nothing to claim
        assert not decide_pending(connection, run_id, 1, ItemState.FAILED, MACHINE, later)
        assert decide_pending(connection, run_id, 2, ItemState.FAILED, MACHINE, later, "exit 1")
    decided = run(any_store.engine, run_id).items
    assert [(i.state, i.decided_by, i.note) for i in decided[:2]] == [
        (ItemState.PASSED, "ana", "looked myself"),
        (ItemState.FAILED, MACHINE, "exit 1"),
    ]
    with any_store.engine.begin() as connection:
        decide(connection, run_id, 3, ItemState.PASSED, "ana", later)
        complete(connection, run_id, "ana", later)
        assert not decide_pending(connection, run_id, 2, ItemState.PASSED, MACHINE, later)


def test_notes_keep_every_line_written(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        set_note(connection, run_id, NoteField.ISSUES_FOUND, "disk at 85%", "ana", T0)
        set_note(connection, run_id, NoteField.ISSUES_FOUND, "  cert in 9d ", "bo", T0)
        set_note(connection, run_id, NoteField.ACTIONS_TAKEN, "pruned logs", "ana", T0)
        with pytest.raises(ChecklistError, match="empty note"):
            set_note(connection, run_id, NoteField.ACTIONS_TAKEN, " ", "ana", T0)
    noted = run(any_store.engine, run_id)
    assert noted.issues_found == "disk at 85%\ncert in 9d"
    assert (noted.actions_taken, noted.escalations_made) == ("pruned logs", "")


def test_the_history_keeps_every_decision_correction_note_and_the_completion(
    any_store: Store,
) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        decide(connection, run_id, 1, ItemState.FAILED, MACHINE, T0, "critical: 503")
        decide(connection, run_id, 1, ItemState.PASSED, "ana", T0 + timedelta(minutes=1), "ok now")
        set_note(connection, run_id, NoteField.ISSUES_FOUND, " api flapped ", "ana", T0)
        decide(connection, run_id, 2, ItemState.SKIPPED, "bo", T0 + timedelta(minutes=2))
        decide(connection, run_id, 3, ItemState.PASSED, "bo", T0 + timedelta(minutes=2))
        complete(connection, run_id, "bo", T0 + timedelta(minutes=3))
    with any_store.engine.connect() as connection:
        history = events(connection, run_id)
    assert [(e.kind, e.actor, e.position, e.state, e.field, e.text) for e in history] == [
        (EventKind.DECIDED, MACHINE, 1, ItemState.FAILED, None, "critical: 503"),
        (EventKind.NOTED, "ana", None, None, NoteField.ISSUES_FOUND, "api flapped"),
        (EventKind.DECIDED, "ana", 1, ItemState.PASSED, None, "ok now"),
        (EventKind.DECIDED, "bo", 2, ItemState.SKIPPED, None, ""),
        (EventKind.DECIDED, "bo", 3, ItemState.PASSED, None, ""),
        (EventKind.COMPLETED, "bo", None, None, None, "2 passed, 0 failed, 1 skipped"),
    ]
    assert [e.at for e in history][:3] == [T0, T0, T0 + timedelta(minutes=1)]
    assert {e.run_id for e in history} == {run_id}


def test_a_refused_change_leaves_no_trace_in_the_history(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        for refused in (
            lambda: decide(connection, run_id, 9, ItemState.PASSED, "ana", T0),
            lambda: set_note(connection, run_id, NoteField.ACTIONS_TAKEN, "  ", "ana", T0),
            lambda: complete(connection, run_id, "ana", T0),
        ):
            with pytest.raises(ChecklistError):
                refused()
        assert events(connection, run_id) == []
