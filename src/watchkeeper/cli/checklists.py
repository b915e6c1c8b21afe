"""Commands about procedure checklists: checklist list|show|start|tick|fail|skip|note|complete|stats."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from watchkeeper.checklists import decisions, runs
from watchkeeper.checklists.model import MARKS, ChecklistError, ItemState, NoteField, RunState
from watchkeeper.cli.checklist_view import (
    listing_since,
    print_run,
    run_json,
    runs_table,
    stats_json,
    stats_table,
)
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
from watchkeeper.incidents.model import IncidentError
from watchkeeper.probes import ProbeContext
from watchkeeper.procedures.completion import finish, finish_if_machine_done
from watchkeeper.procedures.machine import Pass, decide_machine_items, since
from watchkeeper.procedures.schedule import start_run
from watchkeeper.procedures.stats import procedure_stats
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
    incidents: Annotated[
        bool, typer.Option("--incidents", help="Also incidents' phase checklists.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List this month's and this week's procedure runs (or every open one), newest first."""
    loaded = load(config)
    now = datetime.now(UTC)
    since = None if only_open else listing_since(now, ZoneInfo(loaded.config.defaults.timezone))
    store = open_store(loaded)
    try:
        with store.engine.connect() as connection:
            found = runs.list_runs(
                connection,
                since=since,
                procedure=procedure,
                state=RunState.OPEN if only_open else None,
                incident_phases=incidents,
            )
    finally:
        store.close()
    if as_json:
        out.print_json(json.dumps([run_json(run, now) for run in found]))
        return
    title = "Open checklist runs" if only_open else "Checklist runs"
    out.print(runs_table(found, loaded.config, now, title) if found else "no checklist runs")


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
        out.print_json(json.dumps(run_json(run, datetime.now(UTC), items=True)))
        return
    print_run(run, loaded.config, datetime.now(UTC))


@checklist_app.command()
def start(
    procedure: Annotated[str, typer.Argument(metavar="PROCEDURE", help="The procedure's name.")],
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Start a run of a procedure now; its checks and commands are run at once.

    A running service may decide some of them, or complete the run, first: that is as good.
    """
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
            run_id = start_run(
                connection, found, by or getpass.getuser(), now, tz=tz, secrets=loaded.secrets
            )
        done = asyncio.run(_decide(loaded, store, run_id, now))
        with _refusals(), store.engine.begin() as connection:
            run, _ = finish_if_machine_done(connection, loaded.config, run_id, now)
    finally:
        store.close()
    assert run is not None
    print_run(run, loaded.config, datetime.now(UTC))
    if done.elsewhere:
        items = ", ".join(map(str, done.elsewhere))
        out.print(
            f"[dim]item(s) {items} are being decided by a running watchkeeper; "
            f"see `watchkeeper checklist show {run_id}`[/]"
        )


def _decision_command(verb: str, state: ItemState, summary: str) -> None:
    """Add the command ``verb`` that marks an item ``state``."""

    def command(
        run_id: RunArgument,
        item: ItemArgument,
        note: NoteOption = "",
        by: ByOption = None,
        config: ConfigOption = None,
    ) -> None:
        loaded = load(config)
        store = open_store(loaded)
        who, now = by or getpass.getuser(), datetime.now(UTC)
        try:
            with _refusals(), store.engine.begin() as connection:
                decided = decisions.decide(connection, run_id, item, state, who, now, note)
        finally:
            store.close()
        out.print(f"run {run_id} item {item} {MARKS[state]} {state.value}: {escape(decided.text)}")

    command.__doc__ = summary
    checklist_app.command(verb)(command)


_decision_command("tick", ItemState.PASSED, "Mark an item passed.")
_decision_command("fail", ItemState.FAILED, "Mark an item failed.")
_decision_command("skip", ItemState.SKIPPED, "Mark an item skipped (say why with --note).")


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
                decisions.set_note(connection, run_id, field, text, by or getpass.getuser(), now)
    finally:
        store.close()
    out.print(f"run {run_id}: noted {', '.join(field.label for field in notes)}")


@checklist_app.command()
def complete(run_id: RunArgument, by: ByOption = None, config: ConfigOption = None) -> None:
    """Complete a run whose items are all decided; it escalates if its procedure says so."""
    loaded = load(config)
    store = open_store(loaded)
    now = datetime.now(UTC)
    try:
        with _refusals(), store.engine.begin() as connection:
            who, base_url = by or getpass.getuser(), loaded.config.server.base_url
            run, _ = finish(connection, loaded.config, run_id, who, now, base_url)
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
        out.print_json(json.dumps([stats_json(s) for s in rows]))
        return
    out.print(stats_table(rows, loaded.config, since))


async def _decide(loaded: LoadedConfig, store: Store, run_id: int, now: datetime) -> Pass:
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
        return await decide_machine_items(
            store.engine, run_id, loaded.config, run_check, loaded.secrets, since(now)
        )
    finally:
        await ctx.close()
