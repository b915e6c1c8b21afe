"""Commands about procedure checklists: checklist list|show|start|tick|fail|skip|note|complete|stats."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from watchkeeper.checklists import runs
from watchkeeper.checklists.model import MARKS, ItemState, NoteField, Run, RunState
from watchkeeper.checklists.runs import ChecklistError
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
from watchkeeper.config.units import UnitError, parse_duration
from watchkeeper.engine.plan import plan_checks
from watchkeeper.engine.runner import Runner
from watchkeeper.incidents.model import MACHINE, IncidentError
from watchkeeper.probes import ProbeContext
from watchkeeper.procedures.completion import finish, local_time
from watchkeeper.procedures.machine import decide_machine_items, machine_done
from watchkeeper.procedures.schedule import start_run
from watchkeeper.procedures.stats import TARGET, ProcedureStats, procedure_stats
from watchkeeper.results import Result
from watchkeeper.store.store import Store

checklist_app = typer.Typer(
    help="Procedure checklists: list, show, start, tick items, add notes, complete, stats.",
    no_args_is_help=True,
)
app.add_typer(checklist_app, name="checklist")

RunArgument = Annotated[
    int, typer.Argument(metavar="RUN", help="The run's id (see `checklist list`).")
]
ItemArgument = Annotated[int, typer.Argument(metavar="ITEM", help="The item's number, from 1.")]
ByOption = Annotated[str | None, typer.Option("--by", help="Who (default: your user name).")]
NoteOption = Annotated[str, typer.Option("--note", help="Why, or what you saw.")]

_STATE_STYLE = {
    ItemState.PENDING: "dim",
    ItemState.PASSED: "green",
    ItemState.FAILED: "red",
    ItemState.SKIPPED: "yellow",
}


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """Turn a refused change into a red message and exit code 1."""
    try:
        yield
    except (ChecklistError, IncidentError) as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None


@checklist_app.command("list")
def list_runs(
    procedure: Annotated[str | None, typer.Option(help="Only this procedure's runs.")] = None,
    only_open: Annotated[
        bool, typer.Option("--open", help="Only open runs, from any date.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List this month's and this week's runs (or every open one), newest first."""
    loaded = load(config)
    now = datetime.now(UTC)
    since = None if only_open else _period_start(now, ZoneInfo(loaded.config.defaults.timezone))
    store = open_store(loaded)
    try:
        with store.engine.connect() as connection:
            found = runs.list_runs(
                connection,
                since=since,
                procedure=procedure,
                state=RunState.OPEN if only_open else None,
            )
    finally:
        store.close()
    if as_json:
        out.print_json(json.dumps([_run_json(run, now) for run in found]))
        return
    table = Table(
        title="Open checklist runs" if only_open else "Checklist runs", title_justify="left"
    )
    for column in ("id", "checklist", "scheduled", "state", "done", "owner", "due"):
        table.add_column(column, overflow="fold")
    for run in found:
        done = sum(item.state is not ItemState.PENDING for item in run.items)
        table.add_row(
            str(run.id),
            escape(run.title),
            local_time(run.scheduled_for, loaded.config),
            _state(run, now),
            f"{done}/{len(run.items)}",
            escape(run.owner),
            local_time(run.due_at, loaded.config) if run.due_at else "",
        )
    out.print(table if found else "no checklist runs")


@checklist_app.command()
def show(run_id: RunArgument, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show a run: its items, who decided them, notes, and the output of its commands."""
    loaded = load(config)
    store = open_store(loaded)
    try:
        with store.engine.connect() as connection:
            run = runs.get_run(connection, run_id)
    finally:
        store.close()
    if run is None:
        err.print(f"[red]no checklist run {run_id}[/]: see `watchkeeper checklist list`")
        raise typer.Exit(1)
    if as_json:
        out.print_json(json.dumps(_run_json(run, datetime.now(UTC), items=True)))
        return
    _print_run(run, loaded)


@checklist_app.command()
def start(
    procedure: Annotated[str, typer.Argument(metavar="PROCEDURE", help="The procedure's name.")],
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Start a run of a procedure now; its checks and commands are run at once."""
    loaded = load(config)
    found = loaded.config.procedure(procedure)
    if found is None:
        names = ", ".join(p.name for p in loaded.config.procedures) or "none"
        err.print(f"[red]no procedure {escape(procedure)}[/]; configured: {escape(names)}")
        raise typer.Exit(1)
    now = datetime.now(UTC)
    tz = ZoneInfo(loaded.config.defaults.timezone)
    store = open_store(loaded)
    try:
        with _refusals(), store.engine.begin() as connection:
            run_id = start_run(connection, found, by or getpass.getuser(), now, tz=tz)
        asyncio.run(_decide(loaded, store, run_id, now))
        with _refusals(), store.engine.begin() as connection:
            run = runs.get_run(connection, run_id)
            if run is not None and machine_done(run):
                run = finish(connection, loaded.config, run_id, MACHINE, now, _base(loaded))[0]
    finally:
        store.close()
    assert run is not None
    _print_run(run, loaded)


def _decide_item(
    run_id: int, position: int, state: ItemState, note: str, by: str | None, config: ConfigOption
) -> None:
    loaded = load(config)
    store = open_store(loaded)
    try:
        with _refusals(), store.engine.begin() as connection:
            item = runs.decide(
                connection,
                run_id,
                position,
                state,
                by or getpass.getuser(),
                datetime.now(UTC),
                note,
            )
    finally:
        store.close()
    out.print(f"run {run_id} item {position} {MARKS[state]} {state.value}: {escape(item.text)}")


@checklist_app.command()
def tick(
    run_id: RunArgument,
    item: ItemArgument,
    note: NoteOption = "",
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Mark an item passed."""
    _decide_item(run_id, item, ItemState.PASSED, note, by, config)


@checklist_app.command()
def fail(
    run_id: RunArgument,
    item: ItemArgument,
    note: NoteOption = "",
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Mark an item failed."""
    _decide_item(run_id, item, ItemState.FAILED, note, by, config)


@checklist_app.command()
def skip(
    run_id: RunArgument,
    item: ItemArgument,
    note: NoteOption = "",
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Mark an item skipped (say why with --note)."""
    _decide_item(run_id, item, ItemState.SKIPPED, note, by, config)


@checklist_app.command()
def note(
    run_id: RunArgument,
    issues_found: Annotated[str | None, typer.Option(help="What was wrong.")] = None,
    actions_taken: Annotated[str | None, typer.Option(help="What was done about it.")] = None,
    escalations_made: Annotated[str | None, typer.Option(help="Who was told.")] = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Add a line to a run's notes: issues found, actions taken, escalations made."""
    given = {
        NoteField.ISSUES_FOUND: issues_found,
        NoteField.ACTIONS_TAKEN: actions_taken,
        NoteField.ESCALATIONS_MADE: escalations_made,
    }
    notes = {field: text for field, text in given.items() if text is not None}
    if not notes:
        err.print("[red]say what to note:[/] --issues-found, --actions-taken or --escalations-made")
        raise typer.Exit(EXIT_CANNOT_RUN)
    loaded = load(config)
    store = open_store(loaded)
    now = datetime.now(UTC)
    try:
        with _refusals(), store.engine.begin() as connection:
            for field, text in notes.items():
                runs.set_note(connection, run_id, field, text, by or getpass.getuser(), now)
    finally:
        store.close()
    out.print(f"run {run_id}: noted {', '.join(f.value.replace('_', ' ') for f in notes)}")


@checklist_app.command()
def complete(run_id: RunArgument, by: ByOption = None, config: ConfigOption = None) -> None:
    """Complete a run whose items are all decided; it escalates if its procedure says so."""
    loaded = load(config)
    store = open_store(loaded)
    now = datetime.now(UTC)
    try:
        with _refusals(), store.engine.begin() as connection:
            run, _ = finish(
                connection, loaded.config, run_id, by or getpass.getuser(), now, _base(loaded)
            )
    finally:
        store.close()
    counts = run.counts()
    out.print(
        f"run {run_id} completed: {counts[ItemState.PASSED]} passed, "
        f"{counts[ItemState.FAILED]} failed, {counts[ItemState.SKIPPED]} skipped"
    )
    if run.escalated_at is not None:
        out.print(f"[yellow]escalated:[/] {escape(run.escalations_made)}")


@checklist_app.command()
def stats(
    since: Annotated[
        str, typer.Option(help="Over runs scheduled this long ago until now.")
    ] = "30d",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show each procedure's completion and on-time rates (the guides aim for over 99%)."""
    try:
        window = parse_duration(since)
    except UnitError as exc:
        err.print(f"[red]--since:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    loaded = load(config)
    now = datetime.now(UTC)
    store = open_store(loaded)
    try:
        with store.engine.connect() as connection:
            rows = procedure_stats(
                connection, loaded.config, now - timedelta(seconds=window), now, now
            )
    finally:
        store.close()
    if as_json:
        out.print_json(json.dumps([_stats_json(s) for s in rows]))
        return
    table = Table(title=f"Procedures over the last {since}", title_justify="left")
    for column in (
        "procedure",
        "runs",
        "completion",
        "on time",
        "overdue",
        "last completed",
        "next",
    ):
        table.add_column(column, overflow="fold")
    for s in rows:
        table.add_row(
            escape(s.title),
            str(s.runs),
            _rate(s.completion_rate, target=TARGET),
            _rate(s.on_time_rate),
            f"[red]{s.overdue_open}[/]" if s.overdue_open else "0",
            local_time(s.last_completed_at, loaded.config) if s.last_completed_at else "never",
            local_time(s.next_due_at, loaded.config) if s.next_due_at else "",
        )
    out.print(table)


async def _decide(loaded: LoadedConfig, store: Store, run_id: int, now: datetime) -> None:
    """Decide the run's machine items: checks run once and stored as `watchkeeper check` does."""
    plans = {plan.name: plan for plan in plan_checks(loaded.config)}
    ctx = ProbeContext()
    runner = Runner(ctx, loaded.secrets)

    async def run_check(name: str) -> Result | None:
        plan = plans.get(name)
        if plan is None:
            return None
        result = await runner.run(plan)
        await asyncio.to_thread(store.insert_results, [result])
        return result

    try:
        await decide_machine_items(store.engine, run_id, run_check, loaded.secrets, now)
    finally:
        await ctx.close()


def _period_start(now: datetime, tz: ZoneInfo) -> datetime:
    """Given now, return the start of this month or of this week (Monday), whichever is earlier."""
    local = now.astimezone(tz)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    return min(week, month).astimezone(UTC)


def _base(loaded: LoadedConfig) -> str | None:
    return loaded.config.server.base_url


def _state(run: Run, now: datetime) -> str:
    if run.state is RunState.COMPLETED:
        return "[green]completed[/]" + (" [yellow](late)[/]" if run.overdue_at else "")
    return "[red]overdue[/]" if run.overdue(now) else "open"


def _rate(rate: float | None, target: float | None = None) -> str:
    if rate is None:
        return "n/a"
    shown = f"{rate:.1%}"
    return f"[red]{shown}[/]" if target is not None and rate < target else shown


def _print_run(run: Run, loaded: LoadedConfig) -> None:
    now = datetime.now(UTC)
    config = loaded.config
    out.print(f"[bold]Run {run.id}: {escape(run.title)}[/] — {_state(run, now)}")
    facts = [
        ("scheduled", local_time(run.scheduled_for, config)),
        ("due", local_time(run.due_at, config) if run.due_at else ""),
        ("owner", run.owner),
        ("started by", run.created_by),
        (
            "completed",
            f"{local_time(run.completed_at, config)} by {run.completed_by}"
            if run.completed_at
            else "",
        ),
    ]
    for label, value in facts:
        if value:
            out.print(f"  {label}: {escape(value)}")
    table = Table(title_justify="left")
    for column in ("#", "kind", "state", "item", "decided by", "note"):
        table.add_column(column, overflow="fold")
    for item in run.items:
        style = _STATE_STYLE[item.state]
        table.add_row(
            str(item.position),
            item.kind.value,
            f"[{style}]{item.state.value}[/]",
            escape(item.text),
            escape(item.decided_by or ""),
            escape(item.note),
        )
    out.print(table)
    for item in run.items:
        if item.output:
            out.print(f"[bold]output of item {item.position}[/] (exit code {item.exit_code}):")
            out.print(escape(item.output.rstrip()))
    for field in NoteField:
        text: str = getattr(run, field.value)
        if text:
            out.print(f"[bold]{field.value.replace('_', ' ')}:[/]")
            out.print(escape(text))


def _run_json(run: Run, now: datetime, *, items: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": run.id,
        "title": run.title,
        "procedure": run.procedure,
        "incident_id": run.incident_id,
        "phase": run.phase,
        "state": run.state.value,
        "overdue": run.overdue(now) or run.overdue_at is not None,
        "scheduled_for": run.scheduled_for.isoformat(),
        "due_at": _iso(run.due_at),
        "owner": run.owner,
        "created_by": run.created_by,
        "completed_at": _iso(run.completed_at),
        "completed_by": run.completed_by,
        "escalated_at": _iso(run.escalated_at),
        "done": sum(item.state is not ItemState.PENDING for item in run.items),
        "total": len(run.items),
        "issues_found": run.issues_found,
        "actions_taken": run.actions_taken,
        "escalations_made": run.escalations_made,
    }
    if items:
        data["items"] = [
            {
                "position": item.position,
                "kind": item.kind.value,
                "text": item.text,
                "state": item.state.value,
                "check": item.check_name,
                "argv": list(item.argv) if item.argv is not None else None,
                "decided_by": item.decided_by,
                "decided_at": _iso(item.decided_at),
                "note": item.note,
                "output": item.output,
                "exit_code": item.exit_code,
            }
            for item in run.items
        ]
    return data


def _stats_json(s: ProcedureStats) -> dict[str, Any]:
    return {
        "procedure": s.procedure,
        "title": s.title,
        "runs": s.runs,
        "completed": s.completed,
        "on_time": s.on_time,
        "completion_rate": s.completion_rate,
        "on_time_rate": s.on_time_rate,
        "overdue_open": s.overdue_open,
        "last_completed_at": _iso(s.last_completed_at),
        "next_due_at": _iso(s.next_due_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
