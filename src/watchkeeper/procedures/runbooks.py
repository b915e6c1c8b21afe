"""Runbooks: run named steps in order, ask before the risky ones, and log every step to the store."""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, insert, select, update

from watchkeeper.alerting.outbox import now_utc
from watchkeeper.config.procedures import Runbook, Step, StepKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.config.specs import CommandSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.command import probe_command
from watchkeeper.procedures.model import RunbookOutcome, StepOutcome
from watchkeeper.procedures.output import kept_output, read_limit
from watchkeeper.store import tables

MAX_OUTPUT = 32_768
"""Bytes of a step's stdout, and again of its stderr, kept in the store."""

NOT_CHECKED = "not checked by a person: the run was unattended (--yes)"
"""The output logged for a manual step of an unattended run."""

INTERRUPTED = "interrupted"
"""The output logged for a step under way when the run was interrupted (Ctrl-C, cancelled)."""


@dataclass(frozen=True)
class StepRecord:
    """How one step of a run went; ``position`` counts from 1, output is redacted."""

    position: int
    kind: StepKind
    text: str
    outcome: StepOutcome
    started_at: datetime
    duration_ms: float
    argv: tuple[str, ...] | None = None
    exit_code: int | None = None
    output: str | None = None


@dataclass(frozen=True)
class RunbookRun:
    """One run of a runbook; ``outcome`` is None while it runs (or if its process died).

    ``steps`` is filled by ``run_runbook`` and ``runbook_run``; lists of runs leave it empty.
    """

    id: int
    runbook: str
    started_at: datetime
    started_by: str
    finished_at: datetime | None
    outcome: RunbookOutcome | None
    steps: tuple[StepRecord, ...] = ()


async def run_runbook(
    engine: Engine,
    runbook: Runbook,
    *,
    actor: str,
    ask: Callable[[str], bool],
    secrets: Secrets,
    keep_going: bool | None = None,
    unattended: bool = False,
    clock: Callable[[], datetime] = now_utc,
    on_start: Callable[[int, Step], None] | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
) -> RunbookRun:
    """Run the runbook's steps in order, logging each to the store as it ends; return the run.

    ``ask`` puts a yes/no question to a person: before a ``confirm: true`` step (no aborts the
    run) and for each manual step (no fails it). ``unattended`` (a script's ``--yes``) asks
    nothing: confirmed steps run and manual ones are logged as skipped, since nobody checked
    them. The run stops at the first failing step unless ``keep_going`` (default: the runbook's
    own setting); steps not run are logged as skipped.
    On KeyboardInterrupt, cancellation or any other exception the run is logged as aborted and
    the exception re-raised.
    """
    if keep_going is None:
        keep_going = runbook.keep_going
    started_at = clock()
    with engine.begin() as connection:
        key = connection.execute(
            insert(tables.runbook_runs).values(
                runbook=runbook.name, started_at=started_at, started_by=actor
            )
        ).inserted_primary_key
    assert key is not None
    run = RunbookRun(int(key[0]), runbook.name, started_at, actor, None, None)

    records: list[StepRecord] = []
    under_way: StepRecord | None = None
    began = time.perf_counter()
    try:
        for position, step in enumerate(runbook.steps, start=1):
            began = time.perf_counter()
            # What is logged if the run is interrupted while this step is under way.
            under_way = _record(step, position, secrets, StepOutcome.FAILED, clock())
            if on_start is not None:
                on_start(position, step)
            ended, exit_code, output = await _perform(step, ask, secrets, unattended)
            record = replace(
                under_way,
                outcome=ended,
                exit_code=exit_code,
                output=output,
                duration_ms=_ms_since(began),
            )
            under_way = None
            _save_steps(engine, run.id, [record])
            records.append(record)
            if on_step is not None:
                on_step(record)
            if ended is StepOutcome.DECLINED:
                return _finish(
                    engine, run, runbook, records, RunbookOutcome.ABORTED, secrets, clock
                )
            if ended is StepOutcome.FAILED and not keep_going:
                break
    except BaseException as exc:
        if under_way is not None:
            interrupted = replace(
                under_way, output=_why(exc, secrets), duration_ms=_ms_since(began)
            )
            _save_steps(engine, run.id, [interrupted])
            records.append(interrupted)
        _finish(engine, run, runbook, records, RunbookOutcome.ABORTED, secrets, clock)
        raise
    failed = any(r.outcome is StepOutcome.FAILED for r in records)
    outcome = RunbookOutcome.FAILED if failed else RunbookOutcome.SUCCEEDED
    return _finish(engine, run, runbook, records, outcome, secrets, clock)


def runbook_runs(
    connection: Connection, runbook: str | None = None, limit: int = 50
) -> list[RunbookRun]:
    """Return the newest runs first, of one runbook or of all, without their steps."""
    query = select(tables.runbook_runs).order_by(
        tables.runbook_runs.c.started_at.desc(), tables.runbook_runs.c.id.desc()
    )
    if runbook is not None:
        query = query.where(tables.runbook_runs.c.runbook == runbook)
    return [_run(row) for row in connection.execute(query.limit(limit))]


def runbook_run(connection: Connection, run_id: int) -> RunbookRun | None:
    """Return the run with its steps in order, or None when there is no such run."""
    row = connection.execute(
        select(tables.runbook_runs).where(tables.runbook_runs.c.id == run_id)
    ).first()
    if row is None:
        return None
    query = (
        select(tables.runbook_steps)
        .where(tables.runbook_steps.c.run_id == run_id)
        .order_by(tables.runbook_steps.c.position)
    )
    steps = tuple(
        StepRecord(
            position=s.position,
            kind=StepKind(s.kind),
            text=s.text,
            outcome=StepOutcome(s.outcome),
            started_at=s.started_at,
            duration_ms=s.duration_ms,
            argv=tuple(s.argv) if s.argv is not None else None,
            exit_code=s.exit_code,
            output=s.output,
        )
        for s in connection.execute(query)
    )
    return replace(_run(row), steps=steps)


def question(step: Step) -> str:
    """Given a confirm or manual step, return the yes/no question put to a person."""
    if step.run is not None:
        return f"Run `{shlex.join(step.run)}`?"
    return f"{step.manual} — done?"


def needs_a_person(step: Step) -> bool:
    """Return True when the step asks a question: a confirmed command or a manual step."""
    return step.kind is StepKind.MANUAL or (step.kind is StepKind.RUN and step.confirm)


async def _perform(
    step: Step, ask: Callable[[str], bool], secrets: Secrets, unattended: bool
) -> tuple[StepOutcome, int | None, str | None]:
    # The question shows the command line, which may carry a ${SECRET} from the config.
    asked = secrets.redact(question(step))
    if step.run is None:
        if unattended:
            return StepOutcome.SKIPPED, None, NOT_CHECKED
        return (StepOutcome.PASSED if ask(asked) else StepOutcome.FAILED), None, None
    if step.confirm and not unattended and not ask(asked):
        return StepOutcome.DECLINED, None, None
    spec = CommandSpec(argv=step.run, max_output=read_limit(MAX_OUTPUT))
    try:
        # The end of a failing command's output is where it says why.
        measured = await probe_command(spec, ProbeContext(), step.timeout, tail=True)
    except ProbeError as exc:
        return StepOutcome.FAILED, None, secrets.redact(str(exc))
    output, cut = kept_output(measured, secrets)
    if cut:
        output += f"\n[output cut: the last {MAX_OUTPUT} bytes of stdout and of stderr are kept]"
    exit_code = int(measured["exit_code"])
    outcome = StepOutcome.PASSED if exit_code == 0 else StepOutcome.FAILED
    return outcome, exit_code, output


def _record(
    step: Step,
    position: int,
    secrets: Secrets,
    outcome: StepOutcome,
    started_at: datetime,
    output: str | None = None,
) -> StepRecord:
    # A command line may carry a ${SECRET} from the config, so it is redacted like output.
    argv = tuple(secrets.redact(a) for a in step.run) if step.run is not None else None
    return StepRecord(
        position=position,
        kind=step.kind,
        text=secrets.redact(step.label),
        outcome=outcome,
        started_at=started_at,
        duration_ms=0.0,
        argv=argv,
        output=output,
    )


def _finish(
    engine: Engine,
    run: RunbookRun,
    runbook: Runbook,
    records: list[StepRecord],
    outcome: RunbookOutcome,
    secrets: Secrets,
    clock: Callable[[], datetime],
) -> RunbookRun:
    """Log the steps not run as skipped and close the run, in one transaction."""
    finished_at = clock()
    skipped = [
        _record(step, position, secrets, StepOutcome.SKIPPED, finished_at)
        for position, step in enumerate(runbook.steps, start=1)
        if position > len(records)
    ]
    with engine.begin() as connection:
        _insert_steps(connection, run.id, skipped)
        connection.execute(
            update(tables.runbook_runs)
            .where(tables.runbook_runs.c.id == run.id)
            .values(finished_at=finished_at, outcome=outcome.value)
        )
    return replace(run, finished_at=finished_at, outcome=outcome, steps=tuple(records + skipped))


def _save_steps(engine: Engine, run_id: int, records: list[StepRecord]) -> None:
    # Its own transaction, so the log so far survives a crash later in the runbook.
    with engine.begin() as connection:
        _insert_steps(connection, run_id, records)


def _insert_steps(connection: Connection, run_id: int, records: list[StepRecord]) -> None:
    if not records:
        return
    connection.execute(
        insert(tables.runbook_steps),
        [
            {
                "run_id": run_id,
                "position": r.position,
                "kind": r.kind.value,
                "text": r.text,
                "argv": list(r.argv) if r.argv is not None else None,
                "outcome": r.outcome.value,
                "exit_code": r.exit_code,
                "output": r.output,
                "started_at": r.started_at,
                "duration_ms": r.duration_ms,
            }
            for r in records
        ],
    )


def _run(row: Row[Any]) -> RunbookRun:
    return RunbookRun(
        id=row.id,
        runbook=row.runbook,
        started_at=row.started_at,
        started_by=row.started_by,
        finished_at=row.finished_at,
        outcome=RunbookOutcome(row.outcome) if row.outcome is not None else None,
    )


def _why(exc: BaseException, secrets: Secrets) -> str:
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return INTERRUPTED
    return secrets.redact(f"stopped by an error: {type(exc).__name__}: {exc}")


def _ms_since(began: float) -> float:
    return (time.perf_counter() - began) * 1000
