"""Checklist runs in the store: creating, deciding, noting and completing them, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.procedures.checklist_support import run
from watchkeeper.config.incidents import IncidentsConfig
from watchkeeper.config.procedures import StepKind
from watchkeeper.incidents.lifecycle import open_incident
from watchkeeper.incidents.model import MACHINE, TimelineKind
from watchkeeper.incidents.timeline import entries
from watchkeeper.procedures import checklists
from watchkeeper.procedures.checklists import ChecklistError, NewItem
from watchkeeper.procedures.model import ItemState, NoteField, RunState
from watchkeeper.store.store import Store

T0 = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
ITEMS = [
    NewItem(StepKind.CHECK, "Check api passes", check_name="api"),
    NewItem(StepKind.RUN, "Run git status", argv=("git", "status"), timeout=30.0),
    NewItem(StepKind.MANUAL, "Review the dashboard"),
]


def new_run(store: Store, scheduled_for: datetime = T0, procedure: str | None = "weekly") -> int:
    with store.engine.begin() as connection:
        run_id = checklists.create_run(
            connection,
            title="Weekly review",
            items=ITEMS,
            scheduled_for=scheduled_for,
            created_by=MACHINE,
            now=scheduled_for,
            procedure=procedure,
            owner="ops",
            due_at=scheduled_for + timedelta(hours=2),
        )
    assert run_id is not None
    return run_id


def test_a_run_starts_with_every_item_pending_in_order(any_store: Store) -> None:
    created = run(any_store.engine, new_run(any_store))
    assert (created.title, created.procedure, created.owner) == ("Weekly review", "weekly", "ops")
    assert created.state is RunState.OPEN and created.due_at == T0 + timedelta(hours=2)
    assert [(i.position, i.kind, i.state) for i in created.items] == [
        (1, StepKind.CHECK, ItemState.PENDING),
        (2, StepKind.RUN, ItemState.PENDING),
        (3, StepKind.MANUAL, ItemState.PENDING),
    ]
    assert created.items[0].check_name == "api"
    assert (created.items[1].argv, created.items[1].timeout) == (("git", "status"), 30.0)


def test_a_second_run_of_one_occurrence_is_refused_and_the_transaction_goes_on(
    any_store: Store,
) -> None:
    first = new_run(any_store)
    with any_store.engine.begin() as connection:
        again = checklists.create_run(
            connection,
            title="Weekly review",
            items=ITEMS,
            scheduled_for=T0,
            created_by=MACHINE,
            now=T0,
            procedure="weekly",
        )
        later = checklists.create_run(
            connection,
            title="Weekly review",
            items=ITEMS,
            scheduled_for=T0 + timedelta(days=7),
            created_by=MACHINE,
            now=T0,
            procedure="weekly",
        )
    assert again is None and later is not None
    with any_store.engine.connect() as connection:
        listed = checklists.list_runs(connection, procedure="weekly")
    assert [r.id for r in listed] == [later, first]


def test_a_person_may_correct_the_machine_until_the_run_is_completed(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        checklists.decide(connection, run_id, 1, ItemState.FAILED, MACHINE, T0, "critical: 503")
        corrected = checklists.decide(
            connection, run_id, 1, ItemState.PASSED, "ana", T0, "deploy finished, passes now"
        )
        checklists.decide(connection, run_id, 2, ItemState.SKIPPED, "ana", T0)
        checklists.decide(connection, run_id, 3, ItemState.PASSED, "ana", T0)
    assert (corrected.state, corrected.decided_by) == (ItemState.PASSED, "ana")
    assert run(any_store.engine, run_id).items[0].note == "deploy finished, passes now"
    with any_store.engine.begin() as connection:
        checklists.complete(connection, run_id, "ana", T0 + timedelta(minutes=5))
    with any_store.engine.begin() as connection, pytest.raises(ChecklistError, match="read-only"):
        checklists.decide(connection, run_id, 1, ItemState.FAILED, "bo", T0)


def test_a_decision_must_name_an_item_and_a_verdict(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        with pytest.raises(ChecklistError, match="its items are 1 to 3"):
            checklists.decide(connection, run_id, 4, ItemState.PASSED, "ana", T0)
        with pytest.raises(ChecklistError, match="pending is not a decision"):
            checklists.decide(connection, run_id, 1, ItemState.PENDING, "ana", T0)
        with pytest.raises(ChecklistError, match="no checklist run 999"):
            checklists.decide(connection, 999, 1, ItemState.PASSED, "ana", T0)


def test_complete_refuses_a_run_with_pending_items_and_names_them(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        checklists.decide(connection, run_id, 1, ItemState.PASSED, MACHINE, T0)
    with (
        any_store.engine.begin() as connection,
        pytest.raises(ChecklistError, match=r"2 \(Run git status\), 3 \(Review the dashboard\)"),
    ):
        checklists.complete(connection, run_id, "ana", T0)
    assert run(any_store.engine, run_id).state is RunState.OPEN

    with any_store.engine.begin() as connection:
        checklists.decide(connection, run_id, 2, ItemState.PASSED, MACHINE, T0)
        checklists.decide(connection, run_id, 3, ItemState.FAILED, "ana", T0, "two alerts")
        done = checklists.complete(connection, run_id, "ana", T0 + timedelta(hours=1))
    assert (done.state, done.completed_by) == (RunState.COMPLETED, "ana")
    assert done.completed_at == T0 + timedelta(hours=1)
    with any_store.engine.begin() as connection, pytest.raises(ChecklistError, match="completed"):
        checklists.complete(connection, run_id, "ana", T0)


def test_notes_keep_every_line_written(any_store: Store) -> None:
    run_id = new_run(any_store)
    with any_store.engine.begin() as connection:
        checklists.set_note(connection, run_id, NoteField.ISSUES_FOUND, "disk at 85%", "ana", T0)
        checklists.set_note(connection, run_id, NoteField.ISSUES_FOUND, "  cert in 9d ", "bo", T0)
        checklists.set_note(connection, run_id, NoteField.ACTIONS_TAKEN, "pruned logs", "ana", T0)
        with pytest.raises(ChecklistError, match="empty note"):
            checklists.set_note(connection, run_id, NoteField.ACTIONS_TAKEN, " ", "ana", T0)
    noted = run(any_store.engine, run_id)
    assert noted.issues_found == "disk at 85%\ncert in 9d"
    assert (noted.actions_taken, noted.escalations_made) == ("pruned logs", "")


def test_ticking_an_incident_phase_item_goes_on_the_incident_timeline(any_store: Store) -> None:
    with any_store.engine.begin() as connection:
        incident_id = open_incident(
            connection, IncidentsConfig(), title="API down", severity="P1", actor="ana", now=T0
        )
        (investigation,) = checklists.list_runs(connection, incident_id=incident_id)[2:3]
        assert investigation.phase == "investigation"
        checklists.decide(
            connection, investigation.id, 2, ItemState.PASSED, "ana", T0, "nothing deployed"
        )
    with any_store.engine.connect() as connection:
        ticks = [e for e in entries(connection, incident_id) if e.kind is TimelineKind.CHECKLIST]
    assert [e.text for e in ticks] == [
        "investigation: ✓ Check recent deployments and changes (nothing deployed)"
    ]
    assert ticks[0].data == {"run_id": investigation.id, "position": 2, "state": "passed"}
    assert ticks[0].actor == "ana"


def test_list_filters_by_period_procedure_and_state(any_store: Store) -> None:
    older = new_run(any_store, T0 - timedelta(days=7))
    newer = new_run(any_store, T0)
    other = new_run(any_store, T0, procedure="daily")
    with any_store.engine.begin() as connection:
        for position in (1, 2, 3):
            checklists.decide(connection, older, position, ItemState.PASSED, "ana", T0)
        checklists.complete(connection, older, "ana", T0)
    with any_store.engine.connect() as connection:
        assert [r.id for r in checklists.list_runs(connection, since=T0)] == [other, newer]
        assert [r.id for r in checklists.list_runs(connection, until=T0)] == [older]
        opened = checklists.list_runs(connection, procedure="weekly", state=RunState.OPEN)
        assert [r.id for r in opened] == [newer]
        assert len(checklists.list_runs(connection, limit=2)) == 2
