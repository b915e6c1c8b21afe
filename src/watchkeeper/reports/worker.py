"""Reports inside ``watchkeeper serve``: when a report's schedule fires, write it for the period
ending then, keep it in the store and send its summary to its channels.

The next time each report is due is kept in ``report_schedule``. A report seen for the first time
gets none for times before Watchkeeper knew it; after downtime only the latest missed occurrence is
written. One report that cannot be written is logged and retried later (three times), without
holding up the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.alerting.channels import NotifyType
from watchkeeper.alerting.outbox import enqueue
from watchkeeper.config.reports import ReportPeriod, ReportSchedule
from watchkeeper.config.schedules import parse_schedule
from watchkeeper.config.schema import Config
from watchkeeper.procedures.schedule import latest_fire
from watchkeeper.reports.archive import (
    KeptReport,
    ReportState,
    Written,
    add_pending,
    claim_pending,
    mark_attempt_failed,
    mark_written,
)
from watchkeeper.store.tables import report_schedule

log = logging.getLogger("watchkeeper.reports")

WriteReport = Callable[[ReportPeriod, datetime], Written]
"""Given a period and the time it ends, return the report over it."""

HOLD = 600.0
"""Seconds a worker holds a report it is writing; one that died frees it by then."""


class ReportWorker:
    """Writes the config's reports on their schedules and tells their channels."""

    def __init__(
        self, engine: Engine, config: Config, write: WriteReport, redact: Callable[[str], str]
    ) -> None:
        self.engine = engine
        self.config = config
        self.write = write
        self.redact = redact
        """Hides secrets in a failure's text, which viewers are shown."""

    def set_config(self, config: Config) -> None:
        """Use a reloaded config from the next step on."""
        self.config = config

    async def step(self, now: datetime) -> int:
        """Add the reports whose schedule fired, then write every pending one no other worker
        holds; return how many were written."""
        for spec in self.config.reports:
            if not spec.enabled:
                continue
            try:
                await asyncio.to_thread(self._schedule, spec, now)
            except Exception:
                log.exception("report %s: cannot schedule it", spec.name)
        written = 0
        while (
            report := await asyncio.to_thread(claim_pending, self.engine, now, HOLD)
        ) is not None:
            try:
                text = await asyncio.to_thread(self.write, report.period, report.covers_until)
                await asyncio.to_thread(self._keep, report, text, now)
            except Exception as exc:
                log.exception("report %s (#%d): cannot write it", report.name, report.id)
                state = await asyncio.to_thread(
                    mark_attempt_failed,
                    self.engine,
                    report,
                    self.redact(f"{type(exc).__name__}: {exc}"),
                )
                if state is ReportState.FAILED:
                    log.error("report %s (#%d): given up after failing", report.name, report.id)
                continue
            written += 1
        return written

    def _schedule(self, spec: ReportSchedule, now: datetime) -> None:
        """Add ``spec``'s pending report when its schedule fired, and move its next time on."""
        schedule = parse_schedule(spec.when, ZoneInfo(self.config.defaults.timezone))
        row = report_schedule.c
        with self.engine.connect() as connection:
            next_at = connection.execute(
                select(row.next_at).where(row.report == spec.name)
            ).scalar()
        upcoming = schedule.next_after(now)
        if next_at is None:
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        insert(report_schedule).values(report=spec.name, next_at=upcoming)
                    )
            except IntegrityError:
                pass  # another worker saw it first
            return
        if now >= next_at:
            occurrence, _ = latest_fire(schedule, next_at, now)
            # Added before the next time moves on: a worker dying in between leaves the row to
            # be found again, and its occurrence's unique key keeps it single.
            add_pending(self.engine, spec.name, spec.period, occurrence, now)
        elif upcoming >= next_at:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(report_schedule)
                .where(row.report == spec.name, row.next_at == next_at)
                .values(next_at=upcoming)
            )

    def _keep(self, report: KeptReport, text: Written, now: datetime) -> None:
        """Keep the report's text and queue its summary to its channels, in one transaction."""
        spec = next((r for r in self.config.reports if r.name == report.name), None)
        channels = spec.notify if spec is not None else ()
        body = text.summary
        base_url = self.config.server.base_url
        if base_url:
            body += f"\n\nThe whole report: {base_url.rstrip('/')}/reports/{report.id}"
        with self.engine.begin() as connection:
            if not mark_written(connection, report, text, now):
                log.warning(
                    "report %s (#%d): written too late, kept by another", report.name, report.id
                )
                return
            for channel in channels:
                enqueue(connection, channel, text.title, body, NotifyType.INFO, now)
