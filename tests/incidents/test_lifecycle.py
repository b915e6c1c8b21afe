"""The lifecycle: opening (policy snapshot, phase checklists), forward-only changes, notes, closing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.incidents import T0, kinds, make_config, minutes
from watchkeeper.checklists.model import ItemState, RunState
from watchkeeper.checklists.runs import list_runs
from watchkeeper.config.incidents import DEFAULT_PHASES
from watchkeeper.config.procedures import StepKind
from watchkeeper.incidents import lifecycle, records
from watchkeeper.incidents.model import IncidentError, IncidentState, Policy, TimelineKind
from watchkeeper.incidents.postmortem import write_postmortem
from watchkeeper.incidents.stats import incident_stats
from watchkeeper.incidents.timeline import entries
from watchkeeper.store.store import Store

CONFIG = make_config()


def open_incident(store: Store, severity: str = "P1", title: str = "api down") -> int:
    with store.engine.begin() as connection:
        return lifecycle.open_incident(
            connection,
            CONFIG.incidents,
            title=title,
            severity=severity,
            actor="ana",
            now=T0,
            summary="every request answers 503",
        )


def test_opening_snapshots_the_policy_and_starts_the_sla_clock(any_store: Store) -> None:
    incident_id = open_incident(any_store)
    with any_store.engine.connect() as connection:
        incident = lifecycle.require(connection, incident_id)
        timeline = entries(connection, incident_id)
    assert (incident.state, incident.severity, incident.opened_by) == (
        IncidentState.OPEN,
        "P1",
        "ana",
    )
    assert incident.policy == Policy.of(CONFIG.incidents, "P1")
    assert incident.respond_by == minutes(60)
    assert incident.level == 1  # level 1 has no delay: notified while opening
    assert timeline[0].kind is TimelineKind.OPENED and timeline[0].actor == "ana"
    assert timeline[0].text == "opened as P1: api down"


def test_opening_creates_one_checklist_run_per_phase_with_its_items(any_store: Store) -> None:
    phases = {"triage": ("Assess impact", "Tell the team"), "fix": ("Roll back",)}
    config = make_config({"phases": phases})
    with any_store.engine.begin() as connection:
        incident_id = lifecycle.open_incident(
            connection, config.incidents, title="x", severity="P2", actor="ana", now=T0
        )
    with any_store.engine.connect() as connection:
        runs = sorted(list_runs(connection, incident_id=incident_id), key=lambda r: r.id)
    assert [run.phase for run in runs] == ["triage", "fix"]
    assert [[item.text for item in run.items] for run in runs] == [list(v) for v in phases.values()]
    assert {(run.state, run.created_by, run.scheduled_for) for run in runs} == {
        (RunState.OPEN, "ana", T0)
    }
    assert {(item.kind, item.state) for run in runs for item in run.items} == {
        (StepKind.MANUAL, ItemState.PENDING)
    }


def test_the_default_phases_are_the_guides_critical_issue_checklist(any_store: Store) -> None:
    incident_id = open_incident(any_store)
    with any_store.engine.connect() as connection:
        runs = list_runs(connection, incident_id=incident_id)
    assert {run.phase: tuple(i.text for i in run.items) for run in runs} == DEFAULT_PHASES


def test_each_step_records_who_when_and_a_timeline_entry_with_its_note(any_store: Store) -> None:
    incident_id = open_incident(any_store)
    with any_store.engine.begin() as connection:
        lifecycle.acknowledge(connection, incident_id, "ana", minutes(5), "looking at the api")
        lifecycle.mitigate(connection, incident_id, "bob", minutes(20), "rolled back")
        resolved = lifecycle.resolve(connection, incident_id, "bob", minutes(40))
        timeline = entries(connection, incident_id)
    assert resolved.state is IncidentState.RESOLVED
    assert (resolved.acknowledged_at, resolved.acknowledged_by) == (minutes(5), "ana")
    assert (resolved.mitigated_at, resolved.mitigated_by) == (minutes(20), "bob")
    assert (resolved.resolved_at, resolved.resolved_by) == (minutes(40), "bob")
    changes = [
        (e.kind, e.actor, e.text)
        for e in timeline
        if e.kind in (TimelineKind.ACKNOWLEDGED, TimelineKind.MITIGATED, TimelineKind.RESOLVED)
    ]
    assert changes == [
        (TimelineKind.ACKNOWLEDGED, "ana", "looking at the api"),
        (TimelineKind.MITIGATED, "bob", "rolled back"),
        (TimelineKind.RESOLVED, "bob", ""),
    ]


def test_steps_may_be_skipped(any_store: Store) -> None:
    incident_id = open_incident(any_store, severity="P2")
    with any_store.engine.begin() as connection:
        resolved = lifecycle.resolve(connection, incident_id, "ana", minutes(10))
    assert resolved.state is IncidentState.RESOLVED
    assert resolved.acknowledged_at is None and resolved.mitigated_at is None


def test_repeating_a_step_or_going_back_is_refused_with_who_did_it(any_store: Store) -> None:
    incident_id = open_incident(any_store)
    with any_store.engine.begin() as connection:
        lifecycle.acknowledge(connection, incident_id, "ana", minutes(5))
    with pytest.raises(IncidentError) as again, any_store.engine.begin() as connection:
        lifecycle.acknowledge(connection, incident_id, "bob", minutes(6))
    assert str(again.value) == (
        f"incident {incident_id} is already acknowledged (by ana at 2024-03-01 12:05 UTC)"
    )
    with any_store.engine.begin() as connection:
        lifecycle.resolve(connection, incident_id, "ana", minutes(30))
    back = r"already resolved \(by ana at 2024-03-01 12:30 UTC\); it cannot go back to mitigated"
    with pytest.raises(IncidentError, match=back), any_store.engine.begin() as connection:
        lifecycle.mitigate(connection, incident_id, "bob", minutes(31))
    with any_store.engine.connect() as connection:
        assert kinds(connection, incident_id).count(TimelineKind.ACKNOWLEDGED) == 1


def test_an_unknown_incident_or_severity_is_refused(any_store: Store) -> None:
    with pytest.raises(IncidentError, match=r"^no incident 4:"), any_store.engine.begin() as c:
        lifecycle.acknowledge(c, 4, "ana", T0)
    with pytest.raises(IncidentError, match=r"^no incident 4:"), any_store.engine.begin() as c:
        lifecycle.add_note(c, 4, "ana", T0, "hello")
    with pytest.raises(IncidentError) as unknown, any_store.engine.begin() as c:
        lifecycle.open_incident(
            c, CONFIG.incidents, title="x", severity="SEV1", actor="ana", now=T0
        )
    assert str(unknown.value) == "unknown severity 'SEV1': the config defines P0, P1, P2, P3"
    with any_store.engine.connect() as connection:
        assert records.list_incidents(connection) == []


def test_a_public_note_is_a_status_page_update(any_store: Store) -> None:
    incident_id = open_incident(any_store)
    with any_store.engine.begin() as connection:
        lifecycle.add_note(connection, incident_id, "ana", minutes(3), "internal: db looks fine")
        lifecycle.add_note(connection, incident_id, "ana", minutes(4), "We are investigating", True)
        notes = [e for e in entries(connection, incident_id) if e.kind is TimelineKind.NOTE]
    assert [(n.text, n.data) for n in notes] == [
        ("internal: db looks fine", {}),
        ("We are investigating", {"public": True}),
    ]


def test_close_refuses_a_p1_without_a_postmortem_and_accepts_it_after(
    any_store: Store, tmp_path: Path
) -> None:
    incident_id = open_incident(any_store)
    with any_store.engine.begin() as connection:
        lifecycle.resolve(connection, incident_id, "ana", minutes(30))
    with pytest.raises(IncidentError) as refused, any_store.engine.begin() as connection:
        lifecycle.close(connection, incident_id, "ana", minutes(60))
    assert f"run `watchkeeper incident postmortem {incident_id}`" in str(refused.value)
    assert "requires a post-mortem" in str(refused.value)

    with any_store.engine.begin() as connection:
        write_postmortem(connection, incident_id, tmp_path / "pm", "ana", minutes(90))
        closed = lifecycle.close(connection, incident_id, "ana", minutes(120), "reviewed")
    assert closed.state is IncidentState.CLOSED
    assert (closed.closed_at, closed.closed_by) == (minutes(120), "ana")


def test_a_severity_without_a_required_postmortem_closes_without_one(any_store: Store) -> None:
    incident_id = open_incident(any_store, severity="P3")
    with any_store.engine.begin() as connection:
        closed = lifecycle.close(connection, incident_id, "ana", minutes(5))
    assert closed.state is IncidentState.CLOSED


def test_closing_an_unresolved_incident_resolves_it_in_the_same_step(any_store: Store) -> None:
    incident_id = open_incident(any_store, severity="P3")
    with any_store.engine.begin() as connection:
        lifecycle.acknowledge(connection, incident_id, "ana", minutes(2))
        closed = lifecycle.close(connection, incident_id, "bob", minutes(5), "false alarm")
        timeline = entries(connection, incident_id)
        figures = incident_stats(connection, T0, minutes(60))
    assert closed.state is IncidentState.CLOSED
    assert (closed.resolved_at, closed.resolved_by) == (minutes(5), "bob")
    assert (closed.closed_at, closed.closed_by) == (minutes(5), "bob")
    assert [(e.kind, e.text, e.data) for e in timeline if e.at == minutes(5)] == [
        (TimelineKind.RESOLVED, "resolved by closing", {"from": "acknowledged"}),
        (TimelineKind.CLOSED, "false alarm", {"from": "resolved"}),
    ]
    overall = figures[-1]
    assert (overall.mttr, overall.still_open) == (300.0, 0)


def test_closing_a_resolved_incident_keeps_its_resolution(any_store: Store) -> None:
    incident_id = open_incident(any_store, severity="P3")
    with any_store.engine.begin() as connection:
        lifecycle.resolve(connection, incident_id, "ana", minutes(10))
        closed = lifecycle.close(connection, incident_id, "bob", minutes(30))
        resolutions = kinds(connection, incident_id).count(TimelineKind.RESOLVED)
    assert (closed.resolved_at, closed.resolved_by, resolutions) == (minutes(10), "ana", 1)
