"""The running Watchkeeper: config, store, scheduler and writer wired together, with reload and upkeep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from watchkeeper import __version__
from watchkeeper.alerting.silences import window_for_check
from watchkeeper.alerting.worker import AlertWorker
from watchkeeper.auth import access_log
from watchkeeper.auth.sessions import prune_sessions
from watchkeeper.backups.worker import BackupWorker
from watchkeeper.config.loader import ConfigError, LoadedConfig, load_config
from watchkeeper.config.reports import ReportPeriod
from watchkeeper.config.schema import Config
from watchkeeper.engine.plan import CheckPlan, plan_checks
from watchkeeper.engine.runner import Runner
from watchkeeper.engine.scheduler import Scheduler
from watchkeeper.incidents.worker import IncidentWorker
from watchkeeper.procedures.worker import ProcedureWorker
from watchkeeper.readers import probe_context
from watchkeeper.reports.archive import Written, keep_written, prune_reports
from watchkeeper.reports.worker import ReportWorker
from watchkeeper.reports.write import write_report
from watchkeeper.results import Result
from watchkeeper.secret_rules import mask_secrets
from watchkeeper.store.errors import KEPT, prune_errors
from watchkeeper.store.push import prune_pushes
from watchkeeper.store.rollups import SETTLE
from watchkeeper.store.store import Retention, Store, StoreError
from watchkeeper.store.writer import ResultWriter

log = logging.getLogger("watchkeeper.service")

UPKEEP_EVERY = 60.0
"""Seconds between rollup-and-prune passes."""
OPERATIONS_EVERY = 2.0
"""Seconds between passes over incidents (opening, escalation), procedures (runs, overdue) and
backups (due backups and restore tests) and reports (due ones written)."""


class Watchkeeper:
    """One process's checks, store and scheduler; ``run`` until ``stop``."""

    def __init__(self, loaded: LoadedConfig, store: Store) -> None:
        self.loaded = loaded
        self.store = store
        self.ctx = probe_context(store, lambda: self.config)
        self.runner = Runner(self.ctx, loaded.secrets, compact=True)
        self.writer = ResultWriter(store)
        self.scheduler = Scheduler(
            self.runner, self._record, max_concurrency=loaded.config.defaults.concurrency
        )
        self.alerting = AlertWorker(store.engine, loaded.config, self.runner.secrets)
        self.incidents = IncidentWorker(store.engine, loaded.config)
        self.procedures = ProcedureWorker(
            store.engine, loaded.config, self.run_now, self.runner.secrets
        )
        self.backups = BackupWorker(
            store.engine, loaded.config, loaded.path.parent, self.runner.secrets
        )
        self.reports = ReportWorker(
            store.engine,
            loaded.config,
            self.write_report,
            lambda text: mask_secrets(self.runner.secrets.redact(text)),
        )
        self.started_at = datetime.now(UTC)
        self._stop = asyncio.Event()
        self._background: set[asyncio.Task[bool]] = set()
        self.failed: str | None = None
        """The name of a loop that died, if one did."""
        self._config_mtime = _mtime(loaded.path)

    @property
    def config(self) -> Config:
        """Return the config in force."""
        return self.loaded.config

    def health(self) -> dict[str, object]:
        """Return what ``GET /api/health`` answers: liveness, version, check count and scheduler lag."""
        return {
            "status": "unhealthy" if self.failed else "healthy",
            "version": __version__,
            "checks": len(self.scheduler.plans),
            "scheduler_lag_ms": round(self.scheduler.lag.percentile_ms(99), 3),
            "scheduler_lag_p50_ms": round(self.scheduler.lag.percentile_ms(50), 3),
            "pending_writes": self.writer.pending,
            "started_at": self.started_at.isoformat(),
        }

    async def run(self) -> None:
        """Schedule the checks, write their results and keep the store tidy until ``stop`` is called.

        Raises RuntimeError after a clean stop if one of its loops died, so a supervisor restarts it.
        """
        self.scheduler.set_plans(plan_checks(self.config))
        tasks = [
            asyncio.create_task(self.scheduler.run(), name="scheduler"),
            asyncio.create_task(self.writer.run(), name="writer"),
            asyncio.create_task(self._upkeep(), name="upkeep"),
            asyncio.create_task(self._watch_config(), name="watch-config"),
            asyncio.create_task(self.alerting.run(self.writer.written), name="alerting"),
            asyncio.create_task(self._operations(), name="operations"),
            # A loop of its own: a dump may take an hour, and nothing else should wait for it.
            asyncio.create_task(self._every(OPERATIONS_EVERY, self.backup_step), name="backups"),
            asyncio.create_task(self._every(OPERATIONS_EVERY, self.report_step), name="reports"),
        ]
        for task in tasks:
            task.add_done_callback(self._task_ended)
        log.info("watching %d checks; store %s", len(self.scheduler.plans), self.store.display_url)
        await self._stop.wait()
        await self.scheduler.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await self.writer.close()
        except StoreError as exc:
            log.error("stopping with %d results not written: %s", self.writer.pending, exc)
        else:
            log.info("every result was written")
        await self.alerting.step()  # queue the last results' alerts durably; sent on next start
        await self.ctx.close()
        log.info("stopped")
        if self.failed:
            raise RuntimeError(f"stopped because the {self.failed} loop failed (see the log above)")

    def _task_ended(self, task: asyncio.Task[None]) -> None:
        # The loops run until cancelled; one that ends on its own has failed, and a half-working
        # service would look healthy while doing nothing: stop, and let a supervisor restart it.
        if task.cancelled() or self._stop.is_set():
            return
        self.failed = task.get_name()
        log.critical("the %s loop failed; stopping", self.failed, exc_info=task.exception())
        self.stop()

    def stop(self) -> None:
        """Ask ``run`` to finish: stop scheduling, let running checks end, flush results."""
        self._stop.set()

    async def reload(self) -> bool:
        """Re-read the config file and apply it; an invalid file is refused and the running config kept.

        Reading and planning happen in a thread: with thousands of checks they take a while, and
        every check start would wait for them on the loop.
        """
        try:
            loaded, plans = await asyncio.to_thread(_load_and_plan, self.loaded.path)
        except ConfigError as exc:
            log.error("config reload refused; keeping the running config:\n%s", exc)
            return False
        except Exception:
            log.exception("config reload failed; keeping the running config")
            return False
        if loaded.store_url != self.loaded.store_url:
            log.warning("the store changed in the config; restart watchkeeper to use it")
        self.runner.secrets.add(loaded.secrets.values)
        self.loaded = loaded
        self.scheduler.set_plans(plans)
        self.alerting.set_config(loaded.config)
        self.incidents.set_config(loaded.config)
        self.procedures.set_config(loaded.config)
        self.backups.set_config(loaded.config)
        self.reports.set_config(loaded.config)
        log.info("config reloaded: %d checks", len(self.scheduler.plans))
        return True

    def request_reload(self) -> None:
        """Reload in the background (for a SIGHUP handler, which cannot wait)."""
        task = asyncio.get_running_loop().create_task(self.reload(), name="reload")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def run_now(self, name: str) -> Result | None:
        """Run one check now, outside its schedule; store the result and return it (None: no such check)."""
        plan = self.scheduler.plans_by_name.get(name)
        if plan is None:
            return None
        result = await self.runner.run(plan)
        self._record(result)
        with contextlib.suppress(StoreError):  # kept queued and written when the store is back
            await self.writer.flush()
        return result

    def _record(self, result: Result) -> None:
        """Mark a result taken in a maintenance window, then queue it for the store."""
        plan = self.scheduler.plans_by_name.get(result.check)
        if plan is not None and self.config.maintenance:
            window = window_for_check(
                self.config.maintenance,
                plan.name,
                plan.service,
                plan.tags,
                plan.kind,
                result.started_at,
                ZoneInfo(self.config.defaults.timezone),
            )
            result.maintenance = window is not None
        self.writer.submit(result)

    async def _watch_config(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            mtime = _mtime(self.loaded.path)
            if mtime is not None and mtime != self._config_mtime:
                self._config_mtime = mtime
                log.info("%s changed; reloading", self.loaded.path)
                await (
                    self.reload()
                )  # never raises: a bad edit is logged and the running config kept

    async def _operations(self) -> None:
        # Two loops: a procedure pass may wait minutes on a command, and escalation must not.
        await asyncio.gather(
            self._every(OPERATIONS_EVERY, self.incident_step),
            self._every(OPERATIONS_EVERY, self.procedure_step),
        )

    async def _every(self, seconds: float, step: Callable[[datetime], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            await step(datetime.now(UTC))

    async def incident_step(self, now: datetime) -> None:
        """Open incidents from firing alerts and escalate unacknowledged ones; never raises."""
        try:
            queued = await asyncio.to_thread(self.incidents.step, now)
        except Exception:
            log.exception("incident pass failed; will try again in %ss", OPERATIONS_EVERY)
            return
        if queued:
            self.alerting.wake_sender()

    async def procedure_step(self, now: datetime) -> None:
        """Create due checklist runs, decide their machine items, chase overdue ones; never raises."""
        try:
            queued = await self.procedures.step(now)
        except Exception:
            log.exception("procedure pass failed; will try again in %ss", OPERATIONS_EVERY)
            return
        if queued:
            self.alerting.wake_sender()

    async def backup_step(self, now: datetime) -> None:
        """Take due backups (pruning after each) and run due restore tests; never raises."""
        try:
            await self.backups.step(now)
        except Exception:
            log.exception("backup pass failed; will try again in %ss", OPERATIONS_EVERY)

    async def report_step(self, now: datetime) -> None:
        """Write the reports whose schedule fired and queue their summaries; never raises."""
        try:
            written = await self.reports.step(now)
        except Exception:
            log.exception("report pass failed; will try again in %ss", OPERATIONS_EVERY)
            return
        if written:
            self.alerting.wake_sender()

    def write_report(self, period: ReportPeriod, until: datetime) -> Written:
        """Return the report over ``period`` ending at ``until``, the config's secrets redacted."""
        return write_report(self.store, self.config, period, until, self.runner.secrets)

    async def keep_report_now(self, name: str, period: ReportPeriod) -> int:
        """Write a report over ``period`` ending now, keep it as ``name``; return its id."""
        now = datetime.now(UTC)
        written = await asyncio.to_thread(self.write_report, period, now)
        return await asyncio.to_thread(keep_written, self.store.engine, name, period, written, now)

    async def _upkeep(self) -> None:
        while True:
            await asyncio.sleep(UPKEEP_EVERY)
            await self.upkeep()

    async def upkeep(self) -> None:
        """Roll up closed buckets, then prune what retention no longer keeps."""
        r = self.config.retention
        retention = Retention(raw=r.raw, minute=r.minute, hour=r.hour, day=r.day)
        now = datetime.now(UTC)
        longest = max(
            (c.timeout or self.config.defaults.timeout for c in self.config.checks), default=0
        )
        settle = max(SETTLE, timedelta(seconds=longest + 60))
        try:
            await self.writer.flush()
            await asyncio.to_thread(self.store.rollup, now, settle)
            await asyncio.to_thread(self.store.prune, now, retention)
            await asyncio.to_thread(
                access_log.prune, self.store.engine, now - timedelta(seconds=r.access_log)
            )
            await asyncio.to_thread(prune_sessions, self.store.engine, now)
            # Each series keeps its newest ping and value: a monthly job never looks unpinged.
            await asyncio.to_thread(
                prune_pushes, self.store.engine, now - timedelta(seconds=max(r.raw, 86400))
            )
            await asyncio.to_thread(
                prune_errors, self.store.engine, now - max(timedelta(seconds=r.raw), KEPT)
            )
            await asyncio.to_thread(
                prune_reports, self.store.engine, now - timedelta(seconds=r.reports)
            )
        except Exception:
            log.exception("store upkeep failed; will try again in %ss", UPKEEP_EVERY)


def _load_and_plan(path: Path) -> tuple[LoadedConfig, list[CheckPlan]]:
    loaded = load_config(path)
    return loaded, plan_checks(loaded.config)


def _mtime(path: Path) -> float | None:
    with contextlib.suppress(OSError):
        return path.stat().st_mtime
    return None
