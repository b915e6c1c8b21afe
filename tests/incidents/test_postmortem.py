"""The post-mortem document: facts, the timeline, sections to write, phase checklists; the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.incidents import T0, fire, make_config, minutes
from watchkeeper.checklists.decisions import decide
from watchkeeper.checklists.model import ItemState
from watchkeeper.checklists.runs import list_runs
from watchkeeper.incidents import lifecycle
from watchkeeper.incidents.auto import open_from_alerts
from watchkeeper.incidents.escalation import escalate
from watchkeeper.incidents.model import IncidentError, TimelineKind
from watchkeeper.incidents.postmortem import TO_BE_WRITTEN, write_postmortem
from watchkeeper.incidents.timeline import entries
from watchkeeper.store.store import Store

CONFIG = make_config(
    {
        "open_when": [{"match": {"check": "api-health"}, "severity": "P1"}],
        "phases": {"immediate": ("Assess impact", "Tell the team")},
    }
)


def worked_incident(store: Store) -> int:
    """An alert opens a P1 that breaches its response SLA, is worked on and resolved."""
    with store.engine.begin() as connection:
        fire(connection, "api-health", message="expected status == 200 (status = 503)")
        (incident_id,) = open_from_alerts(connection, CONFIG, T0)
        escalate(connection, minutes(60), None)
        lifecycle.acknowledge(connection, incident_id, "ana", minutes(65), "on it")
        lifecycle.add_note(connection, incident_id, "ana", minutes(70), "Rolling back", True)
        (run,) = list_runs(connection, incident_id=incident_id)
        decide(connection, run.id, 1, ItemState.PASSED, "ana", minutes(72))
        lifecycle.resolve(connection, incident_id, "bob", minutes(95), "rollback done")
    return incident_id


def test_the_postmortem_holds_the_facts_the_timeline_and_the_sections(
    any_store: Store, tmp_path: Path
) -> None:
    incident_id = worked_incident(any_store)
    with any_store.engine.begin() as connection:
        path = write_postmortem(connection, incident_id, tmp_path / "pm", "ana", minutes(200))
        incident = lifecycle.require(connection, incident_id)
        last = entries(connection, incident_id)[-1]
    assert path == tmp_path / "pm" / "INC-0001-api-health-expected-status-200-status-503.md"
    assert incident.postmortem_path == str(path)
    assert (last.kind, last.actor, last.data) == (
        TimelineKind.POSTMORTEM,
        "ana",
        {"path": str(path)},
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Post-mortem: INC-0001 api-health: expected status == 200")
    for fact in (
        "| Severity | P1 (respond within 1h) |",
        "| Opened | 2024-03-01 12:00:00 UTC by watchkeeper |",
        "| Acknowledged | 2024-03-01 13:05:00 UTC by ana |",
        "| Resolved | 2024-03-01 13:35:00 UTC by bob |",
        "| Time to acknowledge | 1h5m |",
        "| Time to resolve | 1h35m |",
        "| SLA breaches | no response by 2024-03-01 13:00:00 UTC |",
    ):
        assert fact in text
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == [
        "## Summary",
        "## Impact",
        "## Detection",
        "## Timeline",
        "## Root cause",
        "## Preventive measures",
        "## Action items",
        "## Checklists",
    ]
    for section in ("Impact", "Root cause", "Preventive measures", "Action items"):
        body = text.split(f"## {section}\n\n", 1)[1].split("\n\n", 1)[0]
        assert TO_BE_WRITTEN in body
    assert "Opened automatically by watchkeeper from an alert." in text
    assert "- api-health (critical): expected status == 200 (status = 503)" in text
    for row in (
        "| 2024-03-01 12:00:00 | opened | watchkeeper |",
        "| 2024-03-01 12:00:00 | notified | watchkeeper | notified oncall (level 1) |",
        "| 2024-03-01 13:00:00 | sla_breached | watchkeeper | no response within 1h",
        "| 2024-03-01 13:05:00 | acknowledged | ana | on it |",
        "| 2024-03-01 13:10:00 | note | ana | (public) Rolling back |",
        "| 2024-03-01 13:12:00 | checklist | ana | immediate: ✓ Assess impact |",
        "| 2024-03-01 13:35:00 | resolved | bob | rollback done |",
    ):
        assert row in text
    assert "### immediate (open, 1 of 2 decided)" in text
    assert "- [x] Assess impact — passed by ana" in text
    assert "- [ ] Tell the team" in text


def test_an_existing_postmortem_is_only_replaced_with_force(
    any_store: Store, tmp_path: Path
) -> None:
    incident_id = worked_incident(any_store)
    with any_store.engine.begin() as connection:
        path = write_postmortem(connection, incident_id, tmp_path, "ana", minutes(200))
    path.write_text("# our edits\n", encoding="utf-8")
    with pytest.raises(IncidentError, match="already exists"), any_store.engine.begin() as c:
        write_postmortem(c, incident_id, tmp_path, "ana", minutes(201))
    assert path.read_text(encoding="utf-8") == "# our edits\n"
    with any_store.engine.begin() as connection:
        again = write_postmortem(connection, incident_id, tmp_path, "ana", minutes(202), True)
    assert again == path and path.read_text(encoding="utf-8").startswith("# Post-mortem:")
