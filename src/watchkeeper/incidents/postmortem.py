"""The post-mortem: a Markdown document drafted from what the store knows about an incident,
with the sections people must write marked, written once beside the config and then theirs to edit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from watchkeeper.alerting.queries import AlertRow
from watchkeeper.checklists.model import ItemState, Run
from watchkeeper.checklists.runs import list_runs
from watchkeeper.config.units import format_duration
from watchkeeper.incidents import records
from watchkeeper.incidents.lifecycle import require
from watchkeeper.incidents.model import (
    MACHINE,
    Incident,
    IncidentError,
    TimelineEntry,
    TimelineKind,
)
from watchkeeper.incidents.timeline import add_entry, entries

TO_BE_WRITTEN = "_To be written._"
"""What marks a section for people to fill in."""


class PostmortemExists(IncidentError):
    """The post-mortem's file exists and may hold people's edits; each interface says how to
    replace it anyway."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists and may hold people's edits")
        self.path = path


class PostmortemUnwritable(IncidentError):
    """The post-mortem's directory or file cannot be written; the message gives the reason."""


def render(
    incident: Incident,
    timeline: Sequence[TimelineEntry],
    alerts: Sequence[AlertRow],
    runs: Sequence[Run],
) -> str:
    """Given an incident, its timeline, attached alerts and phase checklists, return the post-mortem."""
    sections = [
        f"# Post-mortem: {reference(incident)} {incident.title}",
        _facts(incident),
        "## Summary",
        incident.summary.strip() or TO_BE_WRITTEN,
        "## Impact",
        TO_BE_WRITTEN,
        "## Detection",
        _detection(incident, alerts),
        "## Timeline",
        _timeline(timeline),
        "## Root cause",
        TO_BE_WRITTEN,
        "## Preventive measures",
        TO_BE_WRITTEN,
        "## Action items",
        f"- [ ] {TO_BE_WRITTEN}",
        "## Checklists",
        _checklists(runs),
    ]
    return "\n\n".join(sections) + "\n"


def reference(incident: Incident) -> str:
    """Return how documents name the incident, e.g. ``INC-0004``."""
    return f"INC-{incident.id:04d}"


def file_name(incident: Incident) -> str:
    """Return the post-mortem's file name, e.g. ``INC-0004-api-health-http-503.md``."""
    slug = re.sub(r"[^a-z0-9]+", "-", incident.title.lower()).strip("-")[:60].rstrip("-")
    return f"{reference(incident)}-{slug or 'incident'}.md"


def write_postmortem(
    connection: Connection,
    incident_id: int,
    directory: Path,
    actor: str,
    now: datetime,
    force: bool = False,
) -> Path:
    """Write the incident's post-mortem into ``directory`` and record it; return the file's path.

    An existing file is people's work: it is only replaced with ``force`` (else
    ``PostmortemExists``). A file that cannot be written raises ``PostmortemUnwritable``.
    """
    incident = require(connection, incident_id)
    path = (directory / file_name(incident)).resolve()
    document = render(
        incident,
        entries(connection, incident_id),
        records.attached_alerts(connection, incident_id),
        sorted(list_runs(connection, incident_id=incident_id), key=lambda run: run.id),
    )
    try:
        if path.exists() and not force:
            raise PostmortemExists(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PostmortemUnwritable(f"cannot write the post-mortem to {path}: {reason}") from exc
    records.update(connection, incident_id, postmortem_path=str(path))
    add_entry(
        connection,
        incident_id,
        TimelineKind.POSTMORTEM,
        now,
        actor,
        f"post-mortem written to {path}",
        {"path": str(path)},
    )
    return path


def _facts(incident: Incident) -> str:
    policy = incident.policy
    responded = incident.responded_at
    rows = [
        (
            "Severity",
            f"{incident.severity} (respond within {format_duration(policy.respond_within)})",
        ),
        ("State", incident.state.value),
        ("Opened", _by(incident.opened_at, incident.opened_by)),
        ("Acknowledged", _by(incident.acknowledged_at, incident.acknowledged_by)),
        ("Mitigated", _by(incident.mitigated_at, incident.mitigated_by)),
        ("Resolved", _by(incident.resolved_at, incident.resolved_by)),
        ("Time to acknowledge", _between(incident.opened_at, responded)),
        ("Time to resolve", _between(incident.opened_at, incident.resolved_at)),
        ("SLA breaches", _breaches(incident)),
    ]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    return "\n".join(lines)


def _breaches(incident: Incident) -> str:
    found = []
    if incident.response_breached_at is not None:
        found.append(f"no response by {_time(incident.response_breached_at)}")
    if incident.status_update_breached_at is not None:
        found.append(f"no public status update by {_time(incident.status_update_breached_at)}")
    return "; ".join(found) or "none"


def _detection(incident: Incident, alerts: Sequence[AlertRow]) -> str:
    if incident.opened_by == MACHINE and alerts:
        lines = [f"Opened automatically by {MACHINE} from an alert."]
    else:
        lines = [f"Opened by {incident.opened_by}."]
    if incident.source_key:
        lines.append(f"Source: {incident.source_key}.")
    if alerts:
        lines.append("")
        lines.append("Alerts:")
        lines.append("")
        for alert in alerts:
            resolved = f", resolved {_time(alert.resolved_at)}" if alert.resolved_at else ""
            lines.append(
                f"- {alert.check} ({alert.severity.value}): {alert.message} "
                f"(fired {_time(alert.fired_at)}{resolved})"
            )
    return "\n".join(lines)


def _timeline(timeline: Sequence[TimelineEntry]) -> str:
    lines = ["All times are UTC.", "", "| Time | Event | By | What |", "|---|---|---|---|"]
    for entry in timeline:
        what = entry.text
        if entry.kind is TimelineKind.NOTE and entry.data.get("public"):
            what = f"(public) {what}"
        lines.append(
            f"| {entry.at:%Y-%m-%d %H:%M:%S} | {entry.kind.value} | {_cell(entry.actor or '')} "
            f"| {_cell(what)} |"
        )
    return "\n".join(lines)


def _checklists(runs: Sequence[Run]) -> str:
    if not runs:
        return "No phase checklists."
    parts = []
    for run in runs:
        counts = run.counts()
        decided = len(run.items) - counts[ItemState.PENDING]
        lines = [
            f"### {run.name} ({run.state.value}, {decided} of {len(run.items)} decided)",
            "",
        ]
        for item in run.items:
            how = "" if item.state is ItemState.PENDING else f" — {item.state.value}"
            if item.decided_by:
                how += f" by {item.decided_by}"
            if item.note:
                how += f": {item.note}"
            box = "x" if item.state is ItemState.PASSED else " "
            lines.append(f"- [{box}] {item.text}{how}")
        for label, note in (
            ("Issues found", run.issues_found),
            ("Actions taken", run.actions_taken),
            ("Escalations made", run.escalations_made),
        ):
            if note:
                lines += ["", f"{label}: {note}"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _by(at: datetime | None, by: str | None) -> str:
    return "—" if at is None else f"{_time(at)} by {by}"


def _between(start: datetime, end: datetime | None) -> str:
    return "—" if end is None else format_duration((end - start).total_seconds())


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
