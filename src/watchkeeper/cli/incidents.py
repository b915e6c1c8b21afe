"""Commands about incidents: incident open|ack|note|mitigate|resolve|close|show|list|postmortem|stats."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection

from watchkeeper.alerting.queries import AlertRow
from watchkeeper.cli.common import (
    EXIT_CANNOT_RUN,
    ConfigOption,
    JsonOption,
    app,
    err,
    load,
    open_store,
    out,
)
from watchkeeper.config.loader import LoadedConfig
from watchkeeper.config.units import UnitError, format_duration, parse_duration
from watchkeeper.incidents import lifecycle, records
from watchkeeper.incidents.escalation import status_update_deadline
from watchkeeper.incidents.model import (
    Incident,
    IncidentError,
    IncidentState,
    TimelineEntry,
    TimelineKind,
)
from watchkeeper.incidents.postmortem import write_postmortem
from watchkeeper.incidents.stats import SeverityStats, incident_stats
from watchkeeper.incidents.timeline import entries
from watchkeeper.procedures.checklists import MARKS, list_runs
from watchkeeper.procedures.model import ItemState, Run

incident_app = typer.Typer(
    help="Incidents: open, acknowledge, note, mitigate, resolve, close; post-mortems and figures.",
    no_args_is_help=True,
)
app.add_typer(incident_app, name="incident")

IdArgument = Annotated[int, typer.Argument(help="The incident's number (see `incident list`).")]
ByOption = Annotated[
    str | None, typer.Option("--by", help="Who is doing this (default: your user name).")
]
NoteOption = Annotated[str, typer.Option("--note", help="What to add to the timeline.")]

_STATE_STYLE = {
    IncidentState.OPEN: "red",
    IncidentState.ACKNOWLEDGED: "yellow",
    IncidentState.MITIGATED: "cyan",
    IncidentState.RESOLVED: "green",
    IncidentState.CLOSED: "dim",
}


@contextmanager
def _store(config: Path | None, *, write: bool) -> Iterator[tuple[LoadedConfig, Connection]]:
    """Yield the loaded config and a connection (a transaction when writing); report IncidentError."""
    loaded = load(config)
    store = open_store(loaded)
    try:
        with store.engine.begin() if write else store.engine.connect() as connection:
            yield loaded, connection
    except IncidentError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    finally:
        store.close()


def _actor(by: str | None) -> str:
    return by or getpass.getuser()


@incident_app.command("open")
def open_(
    severity: Annotated[str, typer.Option("--severity", "-s", help="P0, P1, … as configured.")],
    title: Annotated[str, typer.Option("--title", "-t", help="What is wrong, in a line.")],
    summary: Annotated[str, typer.Option(help="More about it.")] = "",
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Open an incident by hand; its first escalation level is notified at once."""
    now = datetime.now(UTC)
    with _store(config, write=True) as (loaded, connection):
        incident_id = lifecycle.open_incident(
            connection,
            loaded.config.incidents,
            title=title,
            severity=severity,
            actor=_actor(by),
            now=now,
            summary=summary,
            base_url=loaded.config.server.base_url,
        )
        incident = lifecycle.require(connection, incident_id)
    out.print(
        f"incident {incident_id} opened ({incident.severity}): respond by {_time(incident.respond_by)}"
    )


def _move(step: str, incident_id: int, note: str, by: str | None, config: Path | None) -> None:
    move = {
        "ack": lifecycle.acknowledge,
        "mitigate": lifecycle.mitigate,
        "resolve": lifecycle.resolve,
        "close": lifecycle.close,
    }[step]
    with _store(config, write=True) as (_, connection):
        incident = move(connection, incident_id, _actor(by), datetime.now(UTC), note)
    out.print(f"incident {incident_id} is {incident.state.value}")


@incident_app.command("ack")
def ack(
    incident_id: IdArgument, note: NoteOption = "", by: ByOption = None, config: ConfigOption = None
) -> None:
    """Acknowledge an incident: you are on it, escalation stops."""
    _move("ack", incident_id, note, by, config)


@incident_app.command("mitigate")
def mitigate(
    incident_id: IdArgument, note: NoteOption = "", by: ByOption = None, config: ConfigOption = None
) -> None:
    """Record that the impact is contained."""
    _move("mitigate", incident_id, note, by, config)


@incident_app.command("resolve")
def resolve(
    incident_id: IdArgument, note: NoteOption = "", by: ByOption = None, config: ConfigOption = None
) -> None:
    """Record that the incident is over."""
    _move("resolve", incident_id, note, by, config)


@incident_app.command("close")
def close(
    incident_id: IdArgument, note: NoteOption = "", by: ByOption = None, config: ConfigOption = None
) -> None:
    """Close an incident for good (after its post-mortem, when its severity requires one)."""
    _move("close", incident_id, note, by, config)


@incident_app.command("note")
def note(
    incident_id: IdArgument,
    text: Annotated[str, typer.Argument(help="The note.")],
    public: Annotated[
        bool, typer.Option("--public", help="A status-page update (counts for the P0 SLA).")
    ] = False,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Add a note to an incident's timeline."""
    with _store(config, write=True) as (_, connection):
        lifecycle.add_note(connection, incident_id, _actor(by), datetime.now(UTC), text, public)
    out.print(f"{'public ' if public else ''}note added to incident {incident_id}")


@incident_app.command("show")
def show(incident_id: IdArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show an incident: its state, SLA, alerts, timeline and phase checklists."""
    with _store(config, write=False) as (_, connection):
        incident = lifecycle.require(connection, incident_id)
        alerts = records.attached_alerts(connection, incident_id)
        timeline = entries(connection, incident_id)
        runs = sorted(list_runs(connection, incident_id=incident_id), key=lambda run: run.id)
    now = datetime.now(UTC)
    if as_json:
        shown = {
            **_incident_json(incident),
            "alerts": [_plain(vars(a)) for a in alerts],
            "timeline": [_plain(vars(e)) for e in timeline],
            "checklists": [_run_json(run) for run in runs],
        }
        out.print_json(json.dumps(shown))
        return
    style = _STATE_STYLE[incident.state]
    out.print(
        f"[bold]Incident #{incident.id}[/] [{incident.severity}] {escape(incident.title)}  "
        f"[{style}]{incident.state.value}[/]"
    )
    if incident.summary:
        out.print(escape(incident.summary))
    for state in IncidentState:
        at, by = _step(incident, state)
        if at is not None:
            out.print(f"  {state.value:<13} {_time(at)} by {escape(by or '')}")
    out.print(f"  {'response SLA':<13} {_response_sla(incident, now)}")
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


@incident_app.command("list")
def list_(
    every: Annotated[bool, typer.Option("--all", help="Also resolved and closed ones.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List active incidents (every one with --all), newest first."""
    with _store(config, write=False) as (_, connection):
        found = records.list_incidents(connection, active_only=not every, limit=limit)
    if as_json:
        out.print_json(json.dumps([_incident_json(i) for i in found]))
        return
    if not found:
        out.print("no incidents" if every else "no active incidents")
        return
    now = datetime.now(UTC)
    table = Table(title="Incidents" if every else "Active incidents", title_justify="left")
    for column in ("#", "severity", "state", "title", "opened", "response SLA", "level"):
        table.add_column(column, overflow="fold")
    for i in found:
        table.add_row(
            str(i.id),
            i.severity,
            f"[{_STATE_STYLE[i.state]}]{i.state.value}[/]",
            escape(i.title),
            _time(i.opened_at),
            _response_sla(i, now),
            str(i.level),
        )
    out.print(table)


@incident_app.command("postmortem")
def postmortem(
    incident_id: IdArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Directory; default incidents.postmortem_dir beside the config."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing file (and its edits).")
    ] = False,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the incident's post-mortem draft (Markdown) and print its path."""
    with _store(config, write=True) as (loaded, connection):
        directory = output
        if directory is None:
            directory = loaded.path.parent / loaded.config.incidents.postmortem_dir
        path = write_postmortem(
            connection, incident_id, directory, _actor(by), datetime.now(UTC), force
        )
    out.print(str(path))


@incident_app.command("stats")
def stats(
    since: Annotated[str, typer.Option(help="Incidents opened this long ago or later.")] = "30d",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show incidents per severity: how many, MTTA, MTTR, SLA breaches, still open."""
    try:
        window = parse_duration(since)
    except UnitError as exc:
        err.print(f"[red]--since:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    now = datetime.now(UTC)
    with _store(config, write=False) as (_, connection):
        figures = incident_stats(connection, now - timedelta(seconds=window), now)
    if as_json:
        out.print_json(json.dumps([asdict(f) for f in figures]))
        return
    table = Table(title=f"Incidents opened in the last {since}", title_justify="left")
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
        table.add_row(*_stats_row(f))
    out.print(table)


def _stats_row(f: SeverityStats) -> list[str]:
    return [
        f.severity or "[bold]all[/]",
        str(f.opened),
        _duration(f.mtta),
        _duration(f.mttr),
        str(f.response_breaches),
        str(f.status_update_breaches),
        str(f.still_open),
    ]


def _step(incident: Incident, state: IncidentState) -> tuple[datetime | None, str | None]:
    if state is IncidentState.OPEN:
        return incident.opened_at, incident.opened_by
    at: datetime | None = getattr(incident, f"{state.value}_at")
    by: str | None = getattr(incident, f"{state.value}_by")
    return at, by


def _response_sla(incident: Incident, now: datetime) -> str:
    by = f"respond by {_time(incident.respond_by)}"
    if incident.response_breached_at is not None:
        return f"{by}: [red]BREACHED[/]"
    responded = incident.responded_at
    if responded is not None:
        return f"{by}: met ({format_duration((responded - incident.opened_at).total_seconds())})"
    left = (incident.respond_by - now).total_seconds()
    if left <= 0:
        return f"{by}: [red]overdue[/]"
    return f"{by}: {format_duration(left)} left"


def _status_sla(
    incident: Incident, deadline: datetime, timeline: list[TimelineEntry], now: datetime
) -> str:
    by = f"public update by {_time(deadline)}"
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


def _alerts_table(alerts: list[AlertRow]) -> Table:
    table = Table(title="Alerts", title_justify="left")
    for column in ("check", "severity", "state", "fired", "resolved", "message"):
        table.add_column(column, overflow="fold")
    for a in alerts:
        table.add_row(
            a.check,
            a.severity.value,
            a.state.value,
            _time(a.fired_at),
            _time(a.resolved_at) if a.resolved_at else "",
            escape(a.message),
        )
    return table


def _timeline_table(timeline: list[TimelineEntry]) -> Table:
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
        f"\n[bold]{escape(run.phase or run.title)}[/] checklist (run {run.id}, "
        f"{run.state.value}, {decided} of {len(run.items)} decided)"
    ]
    for item in run.items:
        mark = MARKS.get(item.state, "·")
        who = f" — {item.state.value} by {escape(item.decided_by)}" if item.decided_by else ""
        lines.append(f"  {item.position}. {mark} {escape(item.text)}{who}")
    return "\n".join(lines)


def _incident_json(incident: Incident) -> dict[str, Any]:
    shown = _plain({k: v for k, v in vars(incident).items() if k != "policy"})
    shown["policy"] = incident.policy.to_json()
    return shown


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


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
