"""The machine's part of a checklist: ``check:`` items from check results, ``run:`` items from
commands' exit codes. Checks and commands take seconds, so they run outside any transaction, and
each decision is written in a short transaction of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from watchkeeper.checklists import runs
from watchkeeper.checklists.model import Item, ItemState, Run, RunState
from watchkeeper.config.procedures import StepKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.config.specs import CommandSpec
from watchkeeper.incidents.model import MACHINE
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.command import probe_command
from watchkeeper.results import Result, Status
from watchkeeper.store.store import result_from_row
from watchkeeper.store.tables import results

RunCheck = Callable[[str], Awaitable[Result | None]]
"""Runs a configured check now and returns its result; None when no such check is configured."""

MAX_OUTPUT = 16_000
"""Characters of a command's output kept with its item: the end, where failures are explained."""
DEFAULT_TIMEOUT = 300.0
"""Seconds a ``run:`` item without its own timeout may take."""


@dataclass(frozen=True)
class Decision:
    """What the machine decided for one item."""

    state: ItemState
    note: str
    output: str | None = None
    exit_code: int | None = None


def judge_result(result: Result) -> Decision:
    """Given a check's result, return the item's decision: ok passes, any other status fails."""
    said = f"{result.status.value}: {result.message}" if result.message else result.status.value
    passed = result.status is Status.OK
    return Decision(ItemState.PASSED if passed else ItemState.FAILED, said)


def latest_result(connection: Connection, check: str, since: datetime) -> Result | None:
    """Return the check's newest stored result taken at or after ``since``, if any."""
    row = connection.execute(
        select(results)
        .where(results.c.check_name == check, results.c.started_at >= since)
        .order_by(results.c.started_at.desc(), results.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else result_from_row(row)


async def run_command(argv: tuple[str, ...], timeout: float, secrets: Secrets) -> Decision:
    """Given a program and its arguments, run it without a shell; exit 0 passes.

    The output kept (stdout, then stderr) has secrets redacted and is cut to its last MAX_OUTPUT
    characters.
    """
    ctx = ProbeContext()
    try:
        measured = await probe_command(CommandSpec(argv=argv), ctx, timeout)
    except ProbeError as exc:
        return Decision(ItemState.FAILED, secrets.redact(str(exc)))
    finally:
        await ctx.close()
    stdout, stderr = str(measured["stdout"]), str(measured["stderr"])
    joined = stdout + ("\n" if stdout and stderr and not stdout.endswith("\n") else "") + stderr
    # Redacted before cutting, so a cut cannot leave half a secret unrecognised.
    output = secrets.redact(joined)
    if len(output) > MAX_OUTPUT:
        output = "…" + output[-MAX_OUTPUT:]
    exit_code = int(measured["exit_code"])
    if exit_code == 0:
        return Decision(ItemState.PASSED, "exit code 0", output, exit_code)
    return Decision(ItemState.FAILED, f"exit code {exit_code}", output, exit_code)


def pending_machine_items(run: Run) -> list[Item]:
    """Return the run's ``check:`` and ``run:`` items still waiting for a decision."""
    return [
        item
        for item in run.items
        if item.state is ItemState.PENDING and item.kind is not StepKind.MANUAL
    ]


def machine_done(run: Run) -> bool:
    """Return True when every item of the open run is the machine's and decided: no person need
    complete it."""
    return run.state is RunState.OPEN and all(
        item.kind is not StepKind.MANUAL and item.state is not ItemState.PENDING
        for item in run.items
    )


async def decide_machine_items(
    engine: Engine, run_id: int, run_check: RunCheck, secrets: Secrets, now: datetime
) -> int:
    """Decide the pending machine items of an open run, one by one; return how many were decided.

    An item a person decided in the meantime keeps the person's decision.
    """
    run = await asyncio.to_thread(_read, engine, run_id)
    if run is None or run.state is not RunState.OPEN:
        return 0
    decided = 0
    for item in pending_machine_items(run):
        if item.kind is StepKind.CHECK and item.check_name is not None:
            decision = await _check_decision(engine, run, item.check_name, run_check)
        elif item.argv is not None:
            decision = await run_command(item.argv, item.timeout or DEFAULT_TIMEOUT, secrets)
        else:
            decision = None
        if decision is None:
            note = f"check {item.check_name} is not configured; decide it by hand"
            if item.note != note:
                await asyncio.to_thread(_annotate, engine, run.id, item.position, note)
            continue
        if await asyncio.to_thread(_write, engine, run.id, item.position, decision, now):
            decided += 1
    return decided


async def _check_decision(
    engine: Engine, run: Run, check: str, run_check: RunCheck
) -> Decision | None:
    stored = await asyncio.to_thread(_latest, engine, check, run.scheduled_for)
    result = stored if stored is not None else await run_check(check)
    return None if result is None else judge_result(result)


def _read(engine: Engine, run_id: int) -> Run | None:
    with engine.connect() as connection:
        return runs.get_run(connection, run_id)


def _latest(engine: Engine, check: str, since: datetime) -> Result | None:
    with engine.connect() as connection:
        return latest_result(connection, check, since)


def _annotate(engine: Engine, run_id: int, position: int, note: str) -> None:
    with engine.begin() as connection:
        runs.annotate(connection, run_id, position, note)


def _write(engine: Engine, run_id: int, position: int, decision: Decision, now: datetime) -> bool:
    """Write the decision unless the run was completed or the item decided meanwhile."""
    with engine.begin() as connection:
        run = runs.lock_run(connection, run_id)
        if run is None or run.state is not RunState.OPEN:
            return False
        item = next((i for i in run.items if i.position == position), None)
        if item is None or item.state is not ItemState.PENDING:
            return False
        runs.decide(
            connection,
            run_id,
            position,
            decision.state,
            MACHINE,
            now,
            note=decision.note,
            output=decision.output,
            exit_code=decision.exit_code,
        )
        return True
