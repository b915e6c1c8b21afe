"""An incident's timeline: its own entries merged by time with its phase checklists' history."""

from __future__ import annotations

from tests.incidents import T0, make_config, minutes
from watchkeeper.checklists.decisions import complete, decide, set_note
from watchkeeper.checklists.model import ItemState, NoteField
from watchkeeper.checklists.runs import list_runs
from watchkeeper.incidents import lifecycle
from watchkeeper.incidents.model import TimelineKind
from watchkeeper.incidents.timeline import entries
from watchkeeper.store.store import Store

CONFIG = make_config({"phases": {"triage": ["Assess impact"], "investigation": ["Check deploys"]}})


def open_incident(store: Store) -> int:
    with store.engine.begin() as connection:
        return lifecycle.open_incident(
            connection, CONFIG.incidents, title="API down", severity="P1", actor="ana", now=T0
        )


def test_ticking_an_incident_phase_item_goes_on_the_incident_timeline(any_store: Store) -> None:
    incident_id = open_incident(any_store)
    with any_store.engine.begin() as connection:
        investigation = next(
            run
            for run in list_runs(connection, incident_id=incident_id)
            if run.phase == "investigation"
        )
        decide(connection, investigation.id, 1, ItemState.PASSED, "ana", T0, "nothing deployed")
    with any_store.engine.connect() as connection:
        ticks = [e for e in entries(connection, incident_id) if e.kind is TimelineKind.CHECKLIST]
    assert [e.text for e in ticks] == ["investigation: ✓ Check deploys (nothing deployed)"]
    assert ticks[0].data == {"run_id": investigation.id, "position": 1, "state": "passed"}
    assert (ticks[0].actor, ticks[0].id) == ("ana", None)


def test_checklist_lines_fall_in_time_order_among_the_incidents_own(any_store: Store) -> None:
    incident_id = open_incident(any_store)
    with any_store.engine.begin() as connection:
        triage = next(
            r for r in list_runs(connection, incident_id=incident_id) if r.phase == "triage"
        )
        decide(connection, triage.id, 1, ItemState.FAILED, "bo", minutes(3))
        lifecycle.acknowledge(connection, incident_id, "ana", minutes(2))
        set_note(
            connection, triage.id, NoteField.ESCALATIONS_MADE, "paged the db team", "bo", minutes(4)
        )
        decide(connection, triage.id, 1, ItemState.PASSED, "bo", minutes(5), "impact is small")
        complete(connection, triage.id, "bo", minutes(5))
        lifecycle.add_note(connection, incident_id, "ana", minutes(5), "rolling back")
    with any_store.engine.connect() as connection:
        timeline = entries(connection, incident_id)
    shown = [(e.at, e.kind, e.actor, e.text) for e in timeline if e.at > T0]
    assert shown == [
        (minutes(2), TimelineKind.ACKNOWLEDGED, "ana", ""),
        (minutes(3), TimelineKind.CHECKLIST, "bo", "triage: ✗ Assess impact"),
        (minutes(4), TimelineKind.CHECKLIST, "bo", "triage: escalations made: paged the db team"),
        (minutes(5), TimelineKind.NOTE, "ana", "rolling back"),
        (minutes(5), TimelineKind.CHECKLIST, "bo", "triage: ✓ Assess impact (impact is small)"),
        (
            minutes(5),
            TimelineKind.CHECKLIST,
            "bo",
            "triage: checklist completed (1 passed, 0 failed, 0 skipped)",
        ),
    ]
    own = [e for e in timeline if e.kind is not TimelineKind.CHECKLIST]
    assert all(e.id is not None for e in own)
