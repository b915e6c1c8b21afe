"""Commands about incidents: incident open|ack|note|mitigate|resolve|close|show|list|postmortem|stats."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import Connection

from watchkeeper.checklists.runs import list_runs
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
from watchkeeper.cli.incident_view import (
    incident_detail_json,
    incident_json,
    incidents_table,
    print_incident,
    stats_table,
    when,
)
from watchkeeper.config.loader import LoadedConfig
from watchkeeper.config.units import UnitError, parse_duration
from watchkeeper.incidents import lifecycle, records
from watchkeeper.incidents.model import IncidentError, Transition
from watchkeeper.incidents.postmortem import PostmortemExists, write_postmortem
from watchkeeper.incidents.stats import incident_stats
from watchkeeper.incidents.timeline import entries

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
        f"incident {incident_id} opened ({incident.severity}): respond by {when(incident.respond_by)}"
    )


def _move(
    transition: Transition, incident_id: int, note: str, by: str | None, config: Path | None
) -> None:
    with _store(config, write=True) as (_, connection):
        incident = lifecycle.apply(
            connection, incident_id, transition, _actor(by), datetime.now(UTC), note
        )
    out.print(f"incident {incident_id} is {incident.state.value}")


@incident_app.command("ack")
def ack(
    incident_id: IdArgument, note: NoteOption = "", by: ByOption = None, config: ConfigOption = None
) -> None:
    """Acknowledge an incident: you are on it, escalation stops."""
    _move(Transition.ACK, incident_id, note, by, config)


@incident_app.command("mitigate")
def mitigate(
    incident_id: IdArgument, note: NoteOption = "", by: ByOption = None, config: ConfigOption = None
) -> None:
    """Record that the impact is contained."""
    _move(Transition.MITIGATE, incident_id, note, by, config)


@incident_app.command("resolve")
def resolve(
    incident_id: IdArgument, note: NoteOption = "", by: ByOption = None, config: ConfigOption = None
) -> None:
    """Record that the incident is over."""
    _move(Transition.RESOLVE, incident_id, note, by, config)


@incident_app.command("close")
def close(
    incident_id: IdArgument, note: NoteOption = "", by: ByOption = None, config: ConfigOption = None
) -> None:
    """Close an incident for good (after its post-mortem, when its severity requires one)."""
    _move(Transition.CLOSE, incident_id, note, by, config)


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
    if as_json:
        out.print_json(json.dumps(incident_detail_json(incident, alerts, timeline, runs)))
        return
    print_incident(incident, alerts, timeline, runs, datetime.now(UTC))


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
        out.print_json(json.dumps([incident_json(i) for i in found]))
        return
    if not found:
        out.print("no incidents" if every else "no active incidents")
        return
    out.print(
        incidents_table(found, "Incidents" if every else "Active incidents", datetime.now(UTC))
    )


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
        try:
            path = write_postmortem(
                connection,
                incident_id,
                output or loaded.postmortem_dir,
                _actor(by),
                datetime.now(UTC),
                force,
            )
        except PostmortemExists as exc:
            raise IncidentError(f"{exc}: edit it, or pass --force to write it again") from None
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
    out.print(stats_table(figures, f"Incidents opened in the last {since}"))
