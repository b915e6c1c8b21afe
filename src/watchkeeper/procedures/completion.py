"""Completing a procedure's run, and escalating it when its ``escalate_if`` conditions hold.

The conditions are read over the run's figures (failed_steps, skipped_steps, passed_steps,
pending_steps, total_steps, overdue) with the checks' expression language: at completion, when
the run turns overdue, and as soon as the machine's decisions settle them. A run escalates once:
it opens an incident of the procedure's ``escalate_to`` severity, or else alerts its channels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, update

from watchkeeper.alerting.channels import NotifyType
from watchkeeper.alerting.outbox import enqueue
from watchkeeper.checklists import decisions, runs
from watchkeeper.checklists.model import ItemState, NoteField, Run, RunCompleted, RunState
from watchkeeper.config.expressions import EvaluationError, parse
from watchkeeper.config.procedures import Procedure, StepKind
from watchkeeper.config.schema import Config
from watchkeeper.incidents.lifecycle import open_incident
from watchkeeper.incidents.model import MACHINE
from watchkeeper.results import Measurements
from watchkeeper.store.tables import checklist_runs

log = logging.getLogger("watchkeeper.procedures")


def complete_run(
    connection: Connection,
    config: Config,
    run_id: int,
    actor: str,
    now: datetime,
    base_url: str | None,
) -> Run:
    """Complete the run, escalate it if its procedure's conditions hold, and return it."""
    return finish(connection, config, run_id, actor, now, base_url)[0]


def finish(
    connection: Connection,
    config: Config,
    run_id: int,
    actor: str,
    now: datetime,
    base_url: str | None,
) -> tuple[Run, int]:
    """Complete and maybe escalate the run like ``complete_run``; return it and the messages queued."""
    run = decisions.complete(connection, run_id, actor, now)
    overdue = run.due_at is not None and now > run.due_at
    queued = escalate(connection, config, run, now, base_url, overdue=overdue)
    escalated = runs.get_run(connection, run_id)  # with the escalation's note, if any
    assert escalated is not None
    return escalated, queued


def machine_done(run: Run) -> bool:
    """Return True when every item of the open run is the machine's and decided: no person need
    complete it."""
    return run.state is RunState.OPEN and all(
        item.kind is not StepKind.MANUAL and item.state is not ItemState.PENDING
        for item in run.items
    )


def finish_if_machine_done(
    connection: Connection, config: Config, run_id: int, now: datetime
) -> tuple[Run | None, int]:
    """Complete the run as the machine if ``machine_done`` says so; return it as it now is and the
    messages queued. Completed by another meanwhile, it is returned as that one left it."""
    run = runs.lock_run(connection, run_id)
    if run is None or not machine_done(run):
        return run, 0
    try:
        return finish(connection, config, run_id, MACHINE, now, config.server.base_url)
    except RunCompleted:
        # SQLite takes its lock only at the first write, so the other's completion came first.
        return runs.get_run(connection, run_id), 0


def measurements_of(run: Run, *, overdue: bool) -> Measurements:
    """Given a run and whether it is (or was completed) past its due time, return its figures."""
    counts = run.counts()
    return {
        "failed_steps": counts[ItemState.FAILED],
        "skipped_steps": counts[ItemState.SKIPPED],
        "passed_steps": counts[ItemState.PASSED],
        "pending_steps": counts[ItemState.PENDING],
        "total_steps": len(run.items),
        "overdue": overdue,
    }


def conditions_held(procedure: Procedure, measurements: Measurements) -> list[str]:
    """Given a procedure and a run's figures, return the ``escalate_if`` conditions that hold."""
    return [c for c in procedure.escalate_if if _holds(c, measurements)]


def settled_conditions(procedure: Procedure, run: Run) -> list[str]:
    """Given a procedure and an open run of it, return the ``escalate_if`` conditions that will
    hold at its completion on time however its pending items are decided."""
    counts = run.counts()
    pending = counts[ItemState.PENDING]

    def completions() -> Iterator[Measurements]:
        for failed in range(pending + 1):
            for skipped in range(pending + 1 - failed):
                yield {
                    "failed_steps": counts[ItemState.FAILED] + failed,
                    "skipped_steps": counts[ItemState.SKIPPED] + skipped,
                    "passed_steps": counts[ItemState.PASSED] + pending - failed - skipped,
                    "pending_steps": 0,
                    "total_steps": len(run.items),
                    "overdue": False,
                }

    return [c for c in procedure.escalate_if if all(_holds(c, m) for m in completions())]


def escalate_settled(connection: Connection, config: Config, run_id: int, now: datetime) -> int:
    """Escalate an open run at once if ``settled_conditions`` says completing it would; return the
    messages queued. The machine calls it with each decision it writes."""
    run = runs.get_run(connection, run_id)
    if run is None or run.state is not RunState.OPEN or run.escalated_at is not None:
        return 0
    procedure = config.procedure(run.procedure) if run.procedure else None
    if procedure is None:
        return 0
    held = settled_conditions(procedure, run)
    if not held:
        return 0
    measurements = measurements_of(run, overdue=False)
    return _escalate(
        connection, config, procedure, run, now, measurements, held, config.server.base_url
    )


def escalate(
    connection: Connection,
    config: Config,
    run: Run,
    now: datetime,
    base_url: str | None,
    *,
    overdue: bool,
) -> int:
    """Escalate the run if its procedure's conditions hold and it never was; return the messages
    queued (an opened incident counts as one)."""
    procedure = config.procedure(run.procedure) if run.procedure else None
    if procedure is None or run.escalated_at is not None:
        return 0
    measurements = measurements_of(run, overdue=overdue)
    held = conditions_held(procedure, measurements)
    if not held:
        return 0
    return _escalate(connection, config, procedure, run, now, measurements, held, base_url)


def _escalate(
    connection: Connection,
    config: Config,
    procedure: Procedure,
    run: Run,
    now: datetime,
    measurements: Measurements,
    held: list[str],
    base_url: str | None,
) -> int:
    marked = connection.execute(
        update(checklist_runs)
        .where(checklist_runs.c.id == run.id, checklist_runs.c.escalated_at.is_(None))
        .values(escalated_at=now)
    )
    if marked.rowcount != 1:
        return 0  # another writer escalated it since it was read: once is enough
    title = f"Procedure {procedure.heading}: {_reason(measurements, held)}"
    body = _summary(run, held, link(base_url, run.id))
    if procedure.escalate_to is not None:
        incident_id = open_incident(
            connection,
            config.incidents,
            title=title,
            severity=procedure.escalate_to,
            actor=MACHINE,
            now=now,
            summary=body,
            source_key=f"procedure:{procedure.name}:{run.id}",
            base_url=base_url,
        )
        made, queued = f"Opened incident #{incident_id}", 1
    else:
        channels = notify_channels(config, procedure)
        for channel in channels:
            enqueue(connection, channel, title, body, NotifyType.WARNING, now)
        made = f"Alerted {', '.join(channels)}" if channels else "No channel is configured to alert"
        queued = len(channels)
    log.warning("run %d of procedure %s escalated: %s", run.id, procedure.name, made)
    decisions.set_note(connection, run.id, NoteField.ESCALATIONS_MADE, made, MACHINE, now)
    return queued


def notify_channels(config: Config, procedure: Procedure) -> list[str]:
    """Return the channels told about the procedure: its own, or every configured one."""
    return list(procedure.notify or config.notifications.channels)


def link(base_url: str | None, run_id: int) -> str | None:
    """Return the web page of a run, when the config says where Watchkeeper is reached."""
    return f"{base_url.rstrip('/')}/checklists/{run_id}" if base_url else None


def local_time(moment: datetime, config: Config) -> str:
    """Given a moment, return it as people of the config's timezone read it."""
    return f"{moment.astimezone(ZoneInfo(config.defaults.timezone)):%Y-%m-%d %H:%M %Z}"


def _holds(condition: str, measurements: Measurements) -> bool:
    try:
        return parse(condition).evaluate(measurements)
    except EvaluationError:
        return False  # a condition that cannot be decided does not hold, as in checks


def _reason(measurements: Measurements, held: list[str]) -> str:
    parts = []
    failed = int(measurements["failed_steps"])
    if failed:
        parts.append(f"{failed} failed step{'s' if failed != 1 else ''}")
    if measurements["overdue"]:
        parts.append("overdue")
    return ", ".join(parts) or "; ".join(held)


def _summary(run: Run, held: list[str], url: str | None) -> str:
    lines = [
        f"Run #{run.id} ({run.title}, scheduled for {run.scheduled_for:%Y-%m-%d %H:%M} UTC)",
        f"escalate_if held: {'; '.join(held)}",
    ]
    failed = [item for item in run.items if item.state is ItemState.FAILED]
    if failed:
        lines.append("Failed items:")
        lines += [
            f"- {item.position}. {item.text}" + (f": {item.note}" if item.note else "")
            for item in failed
        ]
    pending = [item for item in run.items if item.state is ItemState.PENDING]
    if pending:
        lines.append("Pending items:")
        lines += [f"- {item.position}. {item.text}" for item in pending]
    if url:
        lines.append(url)
    return "\n".join(lines)
