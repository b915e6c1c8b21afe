"""Commands about runbooks: runbook list|run|log."""

from __future__ import annotations

import getpass
import json
import signal
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.prompt import Confirm
from rich.status import Status
from rich.table import Table

from watchkeeper.cli.common import (
    EXIT_CANNOT_RUN,
    ConfigOption,
    JsonOption,
    app,
    err,
    load,
    open_store,
    out,
    run_async,
)
from watchkeeper.config.procedures import Runbook, Step
from watchkeeper.config.secrets import Secrets
from watchkeeper.config.units import format_duration
from watchkeeper.procedures.model import RunbookOutcome, StepOutcome
from watchkeeper.procedures.runbooks import (
    RunbookRun,
    StepRecord,
    needs_a_person,
    run_runbook,
    runbook_run,
    runbook_runs,
)

runbook_app = typer.Typer(
    help="Named step lists for known situations (restart, rollback …): list, run, log.",
    no_args_is_help=True,
)
app.add_typer(runbook_app, name="runbook")

EXIT_OUTCOME = {RunbookOutcome.SUCCEEDED: 0, RunbookOutcome.FAILED: 1, RunbookOutcome.ABORTED: 2}
TAIL_LINES = 10
"""Lines of a step's output shown as it ends; `runbook log RUN_ID` shows all of it."""

_OUTCOME_STYLE = {
    RunbookOutcome.SUCCEEDED: "green",
    RunbookOutcome.FAILED: "red",
    RunbookOutcome.ABORTED: "yellow",
    StepOutcome.PASSED: "green",
    StepOutcome.FAILED: "red",
    StepOutcome.SKIPPED: "dim",
    StepOutcome.DECLINED: "yellow",
}


@runbook_app.command("list")
def runbook_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List the runbooks of the config, with their last run and how it ended."""
    loaded = load(config)
    store = open_store(loaded)
    try:
        with store.engine.connect() as connection:
            last = {
                r.name: next(iter(runbook_runs(connection, r.name, limit=1)), None)
                for r in loaded.config.runbooks
            }
    finally:
        store.close()
    if as_json:
        rows = [
            {
                "name": r.name,
                "title": r.title,
                "steps": len(r.steps),
                "last_run": _plain(asdict(run)) if (run := last[r.name]) else None,
            }
            for r in loaded.config.runbooks
        ]
        out.print_json(json.dumps(rows))
        return
    if not loaded.config.runbooks:
        out.print("no runbooks: add some under `runbooks:` in the config")
        return
    table = Table(title="Runbooks", title_justify="left")
    for column in ("name", "title", "steps", "last run", "outcome"):
        table.add_column(column, overflow="fold")
    now = datetime.now(UTC)
    for r in loaded.config.runbooks:
        run = last[r.name]
        when = f"{_ago(run.started_at, now)} by {run.started_by} (run {run.id})" if run else "never"
        table.add_row(
            r.name, escape(r.title), str(len(r.steps)), escape(when), _outcome(run) if run else ""
        )
    out.print(table)


@runbook_app.command("run")
def runbook_run_command(
    name: Annotated[str, typer.Argument(help="The runbook's name.", show_default=False)],
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Unattended: run confirmed steps without asking; log manual steps as skipped.",
        ),
    ] = False,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Run the later steps after one fails.")
    ] = False,
    by: Annotated[str | None, typer.Option(help="Who runs it (default: your user name).")] = None,
    config: ConfigOption = None,
) -> None:
    """Run a runbook's steps in order, logging each; exit 0 succeeded, 1 failed, 2 aborted."""
    loaded = load(config)
    runbook = loaded.config.runbook(name)
    if runbook is None:
        known = ", ".join(r.name for r in loaded.config.runbooks) or "none in the config"
        err.print(f"[red]no runbook {escape(name)!r}[/]; known runbooks: {escape(known)}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    asking = next((p for p, s in enumerate(runbook.steps, start=1) if needs_a_person(s)), None)
    if asking is not None and not yes and not sys.stdin.isatty():
        err.print(
            f"[red]runbook {escape(name)} asks a person at step {asking}, and stdin is not a "
            "terminal[/]: run it in a terminal, or pass --yes to run it unattended"
        )
        raise typer.Exit(EXIT_CANNOT_RUN)
    actor = by or getpass.getuser()
    progress = _Progress(runbook, yes, loaded.secrets)
    store = open_store(loaded)
    out.print(
        f"[bold]{escape(runbook.heading)}[/] ({runbook.name}, {len(runbook.steps)} steps) "
        f"run by {escape(actor)}"
    )

    async def run() -> None:
        progress.finished = await run_runbook(
            store.engine,
            runbook,
            actor=actor,
            ask=progress.ask,
            secrets=loaded.secrets,
            keep_going=True if keep_going else None,
            unattended=yes,
            on_start=progress.started,
            on_step=progress.ended,
        )

    try:
        run_async(run())
    except KeyboardInterrupt:
        progress.stop_spinner()
        out.print(
            f"[yellow]interrupted[/]: the run is logged as aborted "
            f"(watchkeeper runbook log --runbook {runbook.name})"
        )
        raise typer.Exit(EXIT_OUTCOME[RunbookOutcome.ABORTED]) from None
    finally:
        store.close()
    finished = progress.finished
    assert finished is not None and finished.outcome is not None
    for record in finished.steps:
        if record.outcome is StepOutcome.SKIPPED:
            out.print(_step_line(record, len(finished.steps)))
    out.print(
        f"{escape(runbook.heading)}: {_outcome(finished)} — run {finished.id} "
        f"(watchkeeper runbook log {finished.id})"
    )
    raise typer.Exit(EXIT_OUTCOME[finished.outcome])


@runbook_app.command("log")
def runbook_log(
    run_id: Annotated[
        int | None, typer.Argument(help="A run's id: show its steps and their output.")
    ] = None,
    runbook: Annotated[
        str | None, typer.Option("--runbook", help="Only the runs of this runbook.")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one run's steps with their output, or list the recent runs."""
    loaded = load(config)
    store = open_store(loaded)
    try:
        with store.engine.connect() as connection:
            one = runbook_run(connection, run_id) if run_id is not None else None
            recent = runbook_runs(connection, runbook) if run_id is None else []
    finally:
        store.close()
    if run_id is not None and one is None:
        err.print(f"[red]no runbook run {run_id}[/]")
        raise typer.Exit(1)
    if as_json:
        shown: Any = asdict(one) if one is not None else [asdict(r) for r in recent]
        out.print_json(json.dumps(_plain(shown)))
    elif one is not None:
        _print_run(one)
    elif recent:
        _print_runs(recent)
    else:
        out.print("no runbook runs yet")


class _Progress:
    """Prints a run as it goes: a spinner while a command runs, each step's outcome and output."""

    def __init__(self, runbook: Runbook, yes: bool, secrets: Secrets) -> None:
        self.total = len(runbook.steps)
        self.yes = yes
        self.secrets = secrets
        self.step: Step | None = None
        self.position = 0
        self.spinner: Status | None = None
        self.finished: RunbookRun | None = None

    def started(self, position: int, step: Step) -> None:
        self.position, self.step = position, step
        # Unattended, a confirmed command runs without a question, so it spins at once too.
        if step.run is not None and (self.yes or not needs_a_person(step)):
            self._spin()

    def ask(self, question: str) -> bool:
        self.stop_spinner()
        answer = _confirm(f"[{self.position}/{self.total}] {escape(question)}")
        if answer and self.step is not None and self.step.run is not None:
            self._spin()
        return answer

    def ended(self, record: StepRecord) -> None:
        self.stop_spinner()
        out.print(_step_line(record, self.total))
        lines = (record.output or "").rstrip("\n").splitlines()
        if len(lines) > TAIL_LINES:
            out.print(f"      [dim]… {len(lines) - TAIL_LINES} lines before[/]")
        for line in lines[-TAIL_LINES:]:
            out.print(f"      [dim]│[/] {escape(_shortened(line))}")

    def stop_spinner(self) -> None:
        if self.spinner is not None:
            self.spinner.stop()
            self.spinner = None

    def _spin(self) -> None:
        assert self.step is not None
        self.spinner = out.status(
            f"[{self.position}/{self.total}] {escape(self.secrets.redact(self.step.label))}"
        )
        self.spinner.start()


def _shortened(line: str, width: int = 300) -> str:
    """Given a line of output, return it cut to ``width`` characters (the log keeps all of it)."""
    return line if len(line) <= width else line[: width - 1] + "…"


def _confirm(prompt: str) -> bool:
    # The event loop's Ctrl-C handler only cancels the task, which a blocking prompt never
    # notices; while asking, Ctrl-C raises KeyboardInterrupt at once instead.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return Confirm.ask(prompt, console=out)
    except EOFError:
        return False
    finally:
        signal.signal(signal.SIGINT, previous)


def _step_line(record: StepRecord, total: int) -> str:
    details = []
    if record.exit_code is not None:
        details.append(f"exit {record.exit_code}")
    if record.outcome is not StepOutcome.SKIPPED:
        details.append(format_duration(record.duration_ms / 1000))
    style = _OUTCOME_STYLE[record.outcome]
    detail = f" [dim]({', '.join(details)})[/]" if details else ""
    return (
        f"[{record.position}/{total}] [{style}]{record.outcome.value}[/] "
        f"{escape(record.text)}{detail}"
    )


def _print_run(run: RunbookRun) -> None:
    finished = f", finished {_when(run.finished_at)}" if run.finished_at else ""
    out.print(
        f"[bold]run {run.id}[/] of {escape(run.runbook)} by {escape(run.started_by)}, "
        f"started {_when(run.started_at)}{finished}: {_outcome(run)}"
    )
    for record in run.steps:
        out.print(_step_line(record, len(run.steps)))
        for line in (record.output or "").rstrip("\n").splitlines():
            out.print(f"      [dim]│[/] {escape(line)}")


def _print_runs(runs: list[RunbookRun]) -> None:
    table = Table(title="Runbook runs", title_justify="left")
    for column in ("id", "runbook", "started", "by", "took", "outcome"):
        table.add_column(column, overflow="fold")
    for run in runs:
        took = run.finished_at - run.started_at if run.finished_at else None
        table.add_row(
            str(run.id),
            escape(run.runbook),
            _when(run.started_at),
            escape(run.started_by),
            format_duration(took.total_seconds()) if took is not None else "",
            _outcome(run),
        )
    out.print(table)


def _outcome(run: RunbookRun) -> str:
    if run.outcome is None:
        return "[yellow]running, or its process died[/]"
    return f"[{_OUTCOME_STYLE[run.outcome]}]{run.outcome.value}[/]"


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _ago(moment: datetime, now: datetime) -> str:
    return format_duration(max(1.0, round((now - moment).total_seconds()))) + " ago"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
