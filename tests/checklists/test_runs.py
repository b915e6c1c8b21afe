"""Checklist runs in the store: creating them and listing them, on both backends."""

from __future__ import annotations

from datetime import timedelta

from tests.checklists.run_support import ITEMS, T0, new_run
from tests.procedures.checklist_support import run
from watchkeeper.checklists.decisions import complete, decide
from watchkeeper.checklists.model import ItemState, RunState
from watchkeeper.checklists.runs import create_run, list_runs
from watchkeeper.config.incidents import DEFAULT_PHASES, IncidentsConfig
from watchkeeper.config.procedures import StepKind
from watchkeeper.incidents.lifecycle import open_incident
from watchkeeper.incidents.model import MACHINE
from watchkeeper.store.store import Store


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
        again = create_run(
            connection,
            title="Weekly review",
            items=ITEMS,
            scheduled_for=T0,
            created_by=MACHINE,
            now=T0,
            procedure="weekly",
        )
        later = create_run(
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
        listed = list_runs(connection, procedure="weekly")
    assert [r.id for r in listed] == [later, first]


def test_list_filters_by_period_procedure_and_state(any_store: Store) -> None:
    older = new_run(any_store, T0 - timedelta(days=7))
    newer = new_run(any_store, T0)
    other = new_run(any_store, T0, procedure="daily")
    with any_store.engine.begin() as connection:
        for position in (1, 2, 3):
            decide(connection, older, position, ItemState.PASSED, "ana", T0)
        complete(connection, older, "ana", T0)
    with any_store.engine.connect() as connection:
        assert [r.id for r in list_runs(connection, since=T0)] == [other, newer]
        assert [r.id for r in list_runs(connection, until=T0)] == [older]
        opened = list_runs(connection, procedure="weekly", state=RunState.OPEN)
        assert [r.id for r in opened] == [newer]
        assert len(list_runs(connection, limit=2)) == 2


def test_list_leaves_out_incident_phases_when_asked(any_store: Store) -> None:
    procedure_run = new_run(any_store)
    with any_store.engine.begin() as connection:
        open_incident(
            connection, IncidentsConfig(), title="db down", severity="P2", actor="ana", now=T0
        )
    with any_store.engine.connect() as connection:
        everything = list_runs(connection)
        procedures_only = list_runs(connection, incident_phases=False)
    assert len(everything) == 1 + len(DEFAULT_PHASES)
    assert [r.id for r in procedures_only] == [procedure_run]
