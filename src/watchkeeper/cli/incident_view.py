"""How the incident commands show incidents: one incident's steps, SLAs, alerts, timeline and phase
checklists as text or JSON; listings; and the figures per severity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

from watchkeeper.alerting.queries import AlertRow
from watchkeeper.checklists.model import MARKS, ItemState, Run
from watchkeeper.cli.common import out
from watchkeeper.config.units import format_duration
from watchkeeper.incidents.escalation import status_update_deadline
from watchkeeper.incidents.model import Incident, IncidentState, TimelineEntry, TimelineKind
from watchkeeper.incidents.stats import SeverityStats

STATE_STYLE = {
    IncidentState.OPEN: "red",
    IncidentState.ACKNOWLEDGED: "yellow",
    IncidentState.MITIGATED: "cyan",
    IncidentState.RESOLVED: "green",
    IncidentState.CLOSED: "dim",
}
"""How each state is coloured."""


def print_incident(
    incident: Incident,
    alerts: Sequence[AlertRow],
    timeline: Sequence[TimelineEntry],
    runs: Sequence[Run],
    now: datetime,
) -> None:
    """Print the incident: who took it through each state, its SLAs, alerts, timeline, checklists."""
    style = STATE_STYLE[incident.state]
    out.print(
        f"[bold]Incident #{incident.id}[/] [{incident.severity}] {escape(incident.title)}  "
        f"[{style}]{incident.state.value}[/]"
    )
    if incident.summary:
        out.print(escape(incident.summary))
    for state in IncidentState:
        at, by = _step(incident, state)
        if at is not None:
            out.print(f"  {state.value:<13} {when(at)} by {escape(by or '')}")
    out.print(f"  {'response SLA':<13} {response_sla(incident, now)}")
    status_deadline = status_update_deadline(incident.policy, incident.opened_at)
    if status_deadline is not None:
        out.print(
            f"  {'status update':<13} {_status_sla(incident, status_deadline, timeline, now)}"
        )
    top = max((lv.level for lv in incident.policy.levels), default=0)
    out.print(f"  {'escalation':<13} level {incident.level} of {top}")
    if incident.postmortem_path:
        out.print(f"  {'post-mortem':<13} {escape(incident.postmortem_path)}")
    elif incident.policy.postmortem_required:
        out.print(f"  {'post-mortem':<13} required, not written yet")
    out.print(_alerts_table(alerts) if alerts else "\nno alerts attached")
    out.print(_timeline_table(timeline))
    for run in runs:
        out.print(_run_text(run))


def incidents_table(found: Sequence[Incident], title: str, now: datetime) -> Table:
    """Return a table of incidents: state, title, opening, response SLA and escalation level."""
    table = Table(title=title, title_justify="left")
    for column in ("#", "severity", "state", "title", "opened", "response SLA", "level"):
        table.add_column(column, overflow="fold")
    for i in found:
        table.add_row(
            str(i.id),
            i.severity,
            f"[{STATE_STYLE[i.state]}]{i.state.value}[/]",
            escape(i.title),
            when(i.opened_at),
            response_sla(i, now),
            str(i.level),
        )
    return table


def stats_table(figures: Sequence[SeverityStats], title: str) -> Table:
    """Return a table of ``incident_stats``: per severity, then all, MTTA, MTTR and breaches."""
    table = Table(title=title, title_justify="left")
    for column in (
        "severity",
        "opened",
        "MTTA",
        "MTTR",
        "response breaches",
        "status-update breaches",
        "still open",
    ):
        table.add_column(column)
    for f in figures:
        table.add_row(
            f.severity or "[bold]all[/]",
            str(f.opened),
            _duration(f.mtta),
            _duration(f.mttr),
            str(f.response_breaches),
            str(f.status_update_breaches),
            str(f.still_open),
        )
    return table


def incident_detail_json(
    incident: Incident,
    alerts: Sequence[AlertRow],
    timeline: Sequence[TimelineEntry],
    runs: Sequence[Run],
) -> dict[str, Any]:
    """Return the incident with its alerts, timeline and phase checklists as JSON-ready data."""
    return {
        **incident_json(incident),
        "alerts": [_plain(vars(a)) for a in alerts],
        "timeline": [_plain(vars(e)) for e in timeline],
        "checklists": [_run_json(run) for run in runs],
    }


def incident_json(incident: Incident) -> dict[str, Any]:
    """Return the incident, its snapshotted policy included, as JSON-ready data."""
    shown = _plain({k: v for k, v in vars(incident).items() if k != "policy"})
    shown["policy"] = incident.policy.to_json()
    return shown


def response_sla(incident: Incident, now: datetime) -> str:
    """Return the response SLA in words: the deadline, and met, breached, overdue or time left."""
    by = f"respond by {when(incident.respond_by)}"
    if incident.response_breached_at is not None:
        return f"{by}: [red]BREACHED[/]"
    responded = incident.responded_at
    if responded is not None:
        return f"{by}: met ({format_duration((responded - incident.opened_at).total_seconds())})"
    left = (incident.respond_by - now).total_seconds()
    if left <= 0:
        return f"{by}: [red]overdue[/]"
    return f"{by}: {format_duration(left)} left"


def when(moment: datetime) -> str:
    """Given a UTC moment, return it to the minute, e.g. ``2024-03-01 12:00 UTC``."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _step(incident: Incident, state: IncidentState) -> tuple[datetime | None, str | None]:
    if state is IncidentState.OPEN:
        return incident.opened_at, incident.opened_by
    at: datetime | None = getattr(incident, f"{state.value}_at")
    by: str | None = getattr(incident, f"{state.value}_by")
    return at, by


def _status_sla(
    incident: Incident, deadline: datetime, timeline: Sequence[TimelineEntry], now: datetime
) -> str:
    by = f"public update by {when(deadline)}"
    if incident.status_update_breached_at is not None:
        return f"{by}: [red]BREACHED[/]"
    # Resolving records a breach the worker missed, so an unbreached resolved incident kept it.
    updated = any(
        e.kind is TimelineKind.NOTE and e.data.get("public") and e.at <= deadline for e in timeline
    )
    if updated or not incident.state.active:
        return f"{by}: met"
    left = (deadline - now).total_seconds()
    if left <= 0:
        return f"{by}: [red]overdue[/]"
    return f"{by}: {format_duration(left)} left"


def _alerts_table(alerts: Sequence[AlertRow]) -> Table:
    table = Table(title="Alerts", title_justify="left")
    for column in ("check", "severity", "state", "fired", "resolved", "message"):
        table.add_column(column, overflow="fold")
    for a in alerts:
        table.add_row(
            a.check,
            a.severity.value,
            a.state.value,
            when(a.fired_at),
            when(a.resolved_at) if a.resolved_at else "",
            escape(a.message),
        )
    return table


def _timeline_table(timeline: Sequence[TimelineEntry]) -> Table:
    table = Table(title="Timeline (UTC)", title_justify="left")
    for column in ("time", "event", "by", "what"):
        table.add_column(column, overflow="fold")
    for e in timeline:
        what = e.text
        if e.data.get("public"):
            what = f"(public) {what}"
        table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.kind.value, e.actor or "", escape(what))
    return table


def _run_text(run: Run) -> str:
    counts = run.counts()
    decided = len(run.items) - counts[ItemState.PENDING]
    lines = [
        f"\n[bold]{escape(run.name)}[/] checklist (run {run.id}, "
        f"{run.state.value}, {decided} of {len(run.items)} decided)"
    ]
    for item in run.items:
        mark = MARKS.get(item.state, "·")
        who = f" — {item.state.value} by {escape(item.decided_by)}" if item.decided_by else ""
        lines.append(f"  {item.position}. {mark} {escape(item.text)}{who}")
    return "\n".join(lines)


def _run_json(run: Run) -> dict[str, Any]:
    shown = _plain({k: v for k, v in vars(run).items() if k != "items"})
    shown["items"] = [_plain(vars(item)) for item in run.items]
    return shown


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, tuple):
            return list(value)
        if hasattr(value, "value"):
            return value.value
        return value

    return {k: one(v) for k, v in values.items()}


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(seconds)
