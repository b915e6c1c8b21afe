"""Completing a procedure's run, and escalating it when its ``escalate_if`` conditions hold.

The conditions are read over the run's figures (failed_steps, skipped_steps, passed_steps,
pending_steps, total_steps, overdue) with the checks' expression language. A run escalates once:
it opens an incident of the procedure's ``escalate_to`` severity, or else alerts its channels.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, update

from watchkeeper.alerting.channels import NotifyType
from watchkeeper.alerting.outbox import enqueue
from watchkeeper.checklists import runs
from watchkeeper.checklists.model import ItemState, NoteField, Run
from watchkeeper.config.expressions import EvaluationError, parse
from watchkeeper.config.procedures import Procedure
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
    run = runs.complete(connection, run_id, actor, now)
    overdue = run.due_at is not None and now > run.due_at
    queued = escalate(connection, config, run, now, base_url, overdue=overdue)
    escalated = runs.get_run(connection, run_id)  # with the escalation's note, if any
    assert escalated is not None
    return escalated, queued


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
    held = []
    for condition in procedure.escalate_if:
        try:
            if parse(condition).evaluate(measurements):
                held.append(condition)
        except EvaluationError:
            continue  # a condition that cannot be decided does not hold, as in checks
    return held


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
    connection.execute(
        update(checklist_runs).where(checklist_runs.c.id == run.id).values(escalated_at=now)
    )
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
    runs.set_note(connection, run.id, NoteField.ESCALATIONS_MADE, made, MACHINE, now)
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
