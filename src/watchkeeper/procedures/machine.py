"""The machine's part of a checklist: ``check:`` items from check results, ``run:`` items from
commands' exit codes. Checks and commands take seconds, so they run outside any transaction.

Before running an item's check or command the machine claims the item, in a short transaction of
its own: of two deciders at once (the service and ``checklist start``, or two service workers on
one PostgreSQL) only the claimer runs it, and a claim expires, so the item of a decider that died
is tried again. The decision is written only if the item is still pending (a person's tick made
meanwhile stands), together with the run's escalation if the decision settles it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select

from watchkeeper.checklists import decisions, runs
from watchkeeper.checklists.model import Item, ItemState, Run, RunState
from watchkeeper.config.procedures import Step, StepKind
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.config.specs import CommandSpec
from watchkeeper.incidents.model import MACHINE
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.command import probe_command
from watchkeeper.procedures.completion import escalate_settled
from watchkeeper.procedures.output import kept_output, read_limit
from watchkeeper.procedures.schedule import redacted_argv
from watchkeeper.results import Result, Status
from watchkeeper.store.store import result_from_row
from watchkeeper.store.tables import results

RunCheck = Callable[[str], Awaitable[Result | None]]
"""Runs a configured check now and returns its result; None when no such check is configured."""
Clock = Callable[[], datetime]
"""Says what time it is: in ``serve`` the pass's start moved on by the time the pass has taken."""


def since(now: datetime) -> Clock:
    """Given the moment a pass begins, return a clock that starts there and runs in real time."""
    began = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - began)


MAX_OUTPUT = 16_000
"""Characters of a command's output kept with its item: the end, where failures are explained."""
CLAIM_MARGIN = 60.0
"""Seconds a claim outlasts its item's timeout: to write the decision, and for clocks apart."""
CHANGED = "the procedure changed since this run was created; decide it by hand"
"""The note of a ``run:`` item whose step is no longer in the config as it was."""


@dataclass(frozen=True)
class Decision:
    """What the machine decided for one item."""

    state: ItemState
    note: str
    output: str | None = None
    exit_code: int | None = None


@dataclass(frozen=True)
class Pass:
    """What one pass over a run's machine items did."""

    decided: int = 0
    queued: int = 0
    """Messages queued by the escalation a decision settled (an opened incident counts as one)."""
    elsewhere: tuple[int, ...] = ()
    """Positions of the items another decider has claimed and is deciding now."""


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

    The output kept (stdout, then stderr) is the end of each, has secrets redacted, and is at
    most its last MAX_OUTPUT characters.
    """
    ctx = ProbeContext()
    try:
        spec = CommandSpec(argv=argv, max_output=read_limit(MAX_OUTPUT))
        measured = await probe_command(spec, ctx, timeout, tail=True)
    except ProbeError as exc:
        return Decision(ItemState.FAILED, secrets.redact(str(exc)))
    finally:
        await ctx.close()
    output, cut = kept_output(measured, secrets)
    if cut or len(output) > MAX_OUTPUT:
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


def current_step(config: Config, run: Run, item: Item, secrets: Secrets) -> Step | None:
    """Given the config in force and a ``run:`` item of a run, return the procedure's step to run
    for it, real arguments and all; None if that step is no longer the one the run was made from.
    """
    procedure = config.procedure(run.procedure) if run.procedure else None
    if procedure is None or not 0 < item.position <= len(procedure.steps):
        return None
    step = procedure.steps[item.position - 1]
    if step.run is None or redacted_argv(step.run, secrets) != item.argv:
        return None
    return step


async def decide_machine_items(
    engine: Engine,
    run_id: int,
    config: Config,
    run_check: RunCheck,
    secrets: Secrets,
    clock: Clock,
) -> Pass:
    """Decide the pending machine items of an open run, one by one, and escalate the run as soon
    as their decisions settle its conditions; return what was done.

    An item a person decided in the meantime keeps the person's decision; an item another decider
    has claimed is left to it.
    """
    run = await asyncio.to_thread(_read, engine, run_id)
    if run is None or run.state is not RunState.OPEN:
        return Pass()
    decided = queued = 0
    elsewhere: list[int] = []
    # Items (and runs) are decided one after another: each claim and decision is dated by the
    # clock, not by when the pass began, so a claim outlasts the command it covers.
    at = clock
    for item in pending_machine_items(run):
        if item.kind is StepKind.CHECK and item.check_name is not None:
            stored = await asyncio.to_thread(_latest, engine, item.check_name, run.scheduled_for)
            if stored is not None:
                decision = judge_result(stored)
            else:
                seconds = _check_timeout(config, item.check_name)
                if not await _claim(engine, item, at(), seconds):
                    elsewhere.append(item.position)
                    continue
                result = await run_check(item.check_name)
                if result is None:
                    note = f"check {item.check_name} is not configured; decide it by hand"
                    await _annotate(engine, item, note)
                    continue
                decision = judge_result(result)
        else:
            step = current_step(config, run, item, secrets)
            if step is None or step.run is None:
                await _annotate(engine, item, CHANGED)
                continue
            if not await _claim(engine, item, at(), step.timeout):
                elsewhere.append(item.position)
                continue
            decision = await run_command(step.run, step.timeout, secrets)
        written, messages = await asyncio.to_thread(
            _write, engine, config, run.id, item.position, decision, at()
        )
        decided += written
        queued += messages
    return Pass(decided, queued, tuple(elsewhere))


def _check_timeout(config: Config, name: str) -> float:
    """Return how long the check may take when run now: its timeout, and the runner's second."""
    check = next((c for c in config.checks if c.name == name), None)
    timeout = check.timeout if check is not None and check.timeout else config.defaults.timeout
    return timeout + 1.0


def _read(engine: Engine, run_id: int) -> Run | None:
    with engine.connect() as connection:
        return runs.get_run(connection, run_id)


def _latest(engine: Engine, check: str, since: datetime) -> Result | None:
    with engine.connect() as connection:
        return latest_result(connection, check, since)


async def _claim(engine: Engine, item: Item, now: datetime, seconds: float) -> bool:
    until = now + timedelta(seconds=seconds + CLAIM_MARGIN)

    def claim() -> bool:
        with engine.begin() as connection:
            return decisions.claim(connection, item.id, until, now)

    return await asyncio.to_thread(claim)


async def _annotate(engine: Engine, item: Item, note: str) -> None:
    if item.note == note:
        return

    def annotate() -> None:
        with engine.begin() as connection:
            decisions.annotate(connection, item.run_id, item.position, note)

    await asyncio.to_thread(annotate)


def _write(
    engine: Engine, config: Config, run_id: int, position: int, decision: Decision, now: datetime
) -> tuple[bool, int]:
    """Write the decision unless the run was completed or the item decided meanwhile, and escalate
    the run if it settles its conditions; return whether it was written and the messages queued."""
    with engine.begin() as connection:
        # On PostgreSQL the lock makes deciders of one run take turns, so each escalation
        # check sees the decisions written before it.
        runs.lock_run(connection, run_id)
        written = decisions.decide_pending(
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
        if not written:
            return False, 0
        return True, escalate_settled(connection, config, run_id, now)
