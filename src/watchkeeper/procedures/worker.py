"""Procedures inside ``watchkeeper serve``: create due runs, decide the machine's items (escalating
a run as soon as they settle it), complete runs nobody needs to touch, and tell the owners'
channels about overdue runs.

Each procedure and each run is handled in short transactions of its own, so one that fails is
logged and retried on the next step without holding up the others.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, exists, select, update

from watchkeeper.alerting.channels import NotifyType
from watchkeeper.alerting.outbox import enqueue
from watchkeeper.checklists import runs
from watchkeeper.checklists.model import ItemState, Run, RunState
from watchkeeper.config.procedures import Procedure, StepKind
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.procedures.completion import (
    escalate,
    finish_if_machine_done,
    link,
    local_time,
    notify_channels,
)
from watchkeeper.procedures.machine import RunCheck, decide_machine_items, since
from watchkeeper.procedures.schedule import schedule_of, schedule_procedure
from watchkeeper.store.tables import checklist_items, checklist_runs, procedure_schedule

log = logging.getLogger("watchkeeper.procedures")

_OPEN = checklist_runs.c.state == RunState.OPEN.value
_MACHINE_KINDS = [StepKind.CHECK.value, StepKind.RUN.value]


class ProcedureWorker:
    """Turns the config's procedures into checklist runs and keeps the machine's part of them."""

    def __init__(
        self, engine: Engine, config: Config, run_check: RunCheck, secrets: Secrets
    ) -> None:
        self.engine = engine
        self.config = config
        self.run_check = run_check
        self.secrets = secrets

    def set_config(self, config: Config) -> None:
        """Use a reloaded config from the next step on; runs already made keep their items."""
        self.config = config

    async def step(self, now: datetime) -> int:
        """Create due runs, decide machine items, complete all-machine runs and mark overdue runs;
        return how many messages were queued."""
        config = self.config
        tz = ZoneInfo(config.defaults.timezone)
        for procedure in await asyncio.to_thread(self._to_schedule, tz, now):
            try:
                await asyncio.to_thread(self._schedule, procedure, tz, now)
            except Exception:
                log.exception("procedure %s: cannot create its due run", procedure.name)
        queued = 0
        clock = since(now)
        for run_id in await asyncio.to_thread(self._machine_work):
            try:
                done = await decide_machine_items(
                    self.engine, run_id, config, self.run_check, self.secrets, clock
                )
                queued += done.queued
                queued += await asyncio.to_thread(self._complete_if_machine_only, run_id, now)
            except Exception:
                log.exception("checklist run %d: cannot decide its machine items", run_id)
        for run_id in await asyncio.to_thread(self._newly_overdue, now):
            try:
                queued += await asyncio.to_thread(self._mark_overdue, run_id, now)
            except Exception:
                log.exception("checklist run %d: cannot mark it overdue", run_id)
        return queued

    def _to_schedule(self, tz: ZoneInfo, now: datetime) -> list[Procedure]:
        """Return the scheduled procedures with something to do: new ones, those due, and those
        whose edited schedule now fires sooner. One read, so an idle pass stays cheap."""
        with self.engine.connect() as connection:
            known = {
                row.procedure: row.next_at for row in connection.execute(select(procedure_schedule))
            }
        chosen = []
        for procedure in self.config.procedures:
            schedule = schedule_of(procedure, tz)
            if schedule is None:
                continue
            next_at = known.get(procedure.name)
            if next_at is None or now >= next_at or schedule.next_after(now) < next_at:
                chosen.append(procedure)
        return chosen

    def _schedule(self, procedure: Procedure, tz: ZoneInfo, now: datetime) -> None:
        with self.engine.begin() as connection:
            schedule_procedure(connection, procedure, tz, now, self.secrets)

    def _machine_work(self) -> list[int]:
        """Return open procedure runs with machine items pending, or with nothing left for a person."""
        item = checklist_items.c
        of_run = item.run_id == checklist_runs.c.id
        pending_machine = exists().where(
            of_run, item.state == ItemState.PENDING.value, item.kind.in_(_MACHINE_KINDS)
        )
        manual = exists().where(of_run, item.kind == StepKind.MANUAL.value)
        query = (
            select(checklist_runs.c.id)
            .where(_OPEN, checklist_runs.c.procedure.is_not(None), pending_machine | ~manual)
            .order_by(checklist_runs.c.id)
        )
        with self.engine.connect() as connection:
            return list(connection.scalars(query))

    def _complete_if_machine_only(self, run_id: int, now: datetime) -> int:
        """Complete a run whose items are all the machine's and all decided; return messages queued."""
        with self.engine.begin() as connection:
            return finish_if_machine_done(connection, self.config, run_id, now)[1]

    def _newly_overdue(self, now: datetime) -> list[int]:
        query = (
            select(checklist_runs.c.id)
            .where(
                _OPEN,
                and_(checklist_runs.c.due_at.is_not(None), checklist_runs.c.due_at < now),
                checklist_runs.c.overdue_at.is_(None),
            )
            .order_by(checklist_runs.c.id)
        )
        with self.engine.connect() as connection:
            return list(connection.scalars(query))

    def _mark_overdue(self, run_id: int, now: datetime) -> int:
        """Mark the run overdue once, tell its channels, and escalate it if its conditions say so."""
        with self.engine.begin() as connection:
            run = runs.lock_run(connection, run_id)
            if run is None or run.overdue_at is not None or not run.overdue(now):
                return 0
            connection.execute(
                update(checklist_runs).where(checklist_runs.c.id == run_id).values(overdue_at=now)
            )
            procedure = self.config.procedure(run.procedure) if run.procedure else None
            if procedure is None:
                return 0
            return _tell_overdue(connection, self.config, procedure, run, now) + escalate(
                connection, self.config, run, now, self.config.server.base_url, overdue=True
            )


def _tell_overdue(
    connection: Connection, config: Config, procedure: Procedure, run: Run, now: datetime
) -> int:
    assert run.due_at is not None
    title = f"Overdue: {procedure.heading} (due {local_time(run.due_at, config)})"
    pending = [item for item in run.items if item.state is ItemState.PENDING]
    lines = [
        f"Owner: {run.owner or 'nobody named'}",
        f"Pending items ({len(pending)} of {len(run.items)}):",
        *(f"- {item.position}. {item.text}" for item in pending),
    ]
    if url := link(config.server.base_url, run.id):
        lines.append(url)
    channels = notify_channels(config, procedure)
    for channel in channels:
        enqueue(connection, channel, title, "\n".join(lines), NotifyType.WARNING, now)
    log.warning("run %d of procedure %s is overdue", run.id, procedure.name)
    return len(channels)
