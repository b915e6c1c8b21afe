"""One asyncio loop that starts every check on its schedule, never overlapping a check with itself."""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from watchkeeper.config.schedules import Schedule
from watchkeeper.engine.plan import CheckPlan
from watchkeeper.engine.runner import Runner
from watchkeeper.results import Result

log = logging.getLogger("watchkeeper.scheduler")

Sink = Callable[[Result], None]
MAX_COUNTED_SKIPS = 10_000
"""Missed starts counted per run at most (a long run of a frequent check is not walked tick by tick)."""
SKIP_LOG_EVERY = 10.0
"""Seconds between log lines about checks skipped because their last run had not ended."""


class LagStats:
    """How late checks started against their due time, over the most recent runs."""

    def __init__(self, window: int = 5000) -> None:
        self._lags: deque[float] = deque(maxlen=window)

    def record(self, seconds: float) -> None:
        """Record one start's lag in seconds."""
        self._lags.append(max(0.0, seconds))

    def percentile_ms(self, p: float) -> float:
        """Return the p-th percentile (0-100, nearest rank) of recent lags in milliseconds; 0 when none."""
        if not self._lags:
            return 0.0
        ordered = sorted(self._lags)
        rank = min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1
        return ordered[rank] * 1000


def next_due(schedule: Schedule, after: float) -> float:
    """Given a schedule and a Unix time, return the next due Unix time strictly after it."""
    return schedule.next_after(datetime.fromtimestamp(after, UTC)).timestamp()


class Scheduler:
    """Starts each planned check when due; a check still running when due again is skipped, not doubled."""

    def __init__(
        self,
        runner: Runner,
        sink: Sink,
        *,
        max_concurrency: int = 256,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runner = runner
        self.sink = sink
        self.clock = clock
        self.lag = LagStats()
        self.latest: dict[str, Result] = {}
        self.running: set[str] = set()
        self.skipped = 0
        self._skipped_since_log: dict[str, int] = {}
        self._last_skip_log = 0.0
        self._plans: dict[str, CheckPlan] = {}
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._wake = asyncio.Event()
        self._stopping = False

    @property
    def plans(self) -> dict[str, CheckPlan]:
        """Return a copy of the plans being scheduled, by check name."""
        return dict(self._plans)

    @property
    def plans_by_name(self) -> Mapping[str, CheckPlan]:
        """Return the plans being scheduled, by check name, without copying (read only)."""
        return self._plans

    def set_plans(self, plans: list[CheckPlan]) -> None:
        """Schedule these plans; a check whose schedule is unchanged keeps its next due time."""
        now = self.clock()
        old = self._plans
        self._plans = {p.name: p for p in plans}
        for name in list(self._due):
            if name not in self._plans:
                del self._due[name]
        for plan in plans:
            previous = old.get(plan.name)
            unchanged = previous is not None and previous.schedule == plan.schedule
            if plan.name in self._due and (unchanged or plan.name in self.running):
                continue  # a running check is scheduled again, by its current plan, when it ends
            due = next_due(plan.schedule, now)
            self._due[plan.name] = due
            heapq.heappush(self._heap, (due, plan.name))
        self._wake.set()

    async def run(self) -> None:
        """Start checks as they fall due, until ``stop`` is called."""
        while not self._stopping:
            if not self._heap:
                self._wake.clear()
                await self._wake.wait()
                continue
            due, name = self._heap[0]
            delay = due - self.clock()
            if delay > 0:
                self._wake.clear()
                try:
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                continue
            heapq.heappop(self._heap)
            plan = self._plans.get(name)
            if plan is None or self._due.get(name) != due or name in self.running:
                continue  # removed or rescheduled since this entry was pushed
            # A running check leaves the heap; it is scheduled again when it ends (see _finished),
            # so an overloaded host does not also churn through the ticks it cannot run.
            self._start(plan, due)

    def _finished(self, name: str, due: float) -> None:
        """Schedule a check again after a run; count the starts it missed while running."""
        plan = self._plans.get(name)
        if plan is None or self._stopping or self._due.get(name) != due:
            return  # removed, stopping, or set_plans already gave it a new due time
        following = next_due(plan.schedule, due)
        now = self.clock()
        if following <= now:
            self._skipped(name, following, now, plan)
            following = next_due(plan.schedule, now)
        self._due[name] = following
        heapq.heappush(self._heap, (following, name))
        self._wake.set()

    def _skipped(self, name: str, first: float, now: float, plan: CheckPlan) -> None:
        # Every due time from `first` to `now` fell while the check was still running.
        missed, moment = 0, first
        while moment <= now and missed < MAX_COUNTED_SKIPS:
            missed += 1
            moment = next_due(plan.schedule, moment)
        self.skipped += missed
        self._skipped_since_log[name] = self._skipped_since_log.get(name, 0) + missed
        # One line per interval, not per skip: an overloaded host must not also drown in its logs.
        if now - self._last_skip_log >= SKIP_LOG_EVERY:
            names = sorted(
                self._skipped_since_log, key=self._skipped_since_log.__getitem__, reverse=True
            )
            log.warning(
                "skipped %d starts of %d checks still running or waiting for a slot (e.g. %s)",
                sum(self._skipped_since_log.values()),
                len(names),
                ", ".join(names[:5]),
            )
            self._skipped_since_log.clear()
            self._last_skip_log = now

    def _start(self, plan: CheckPlan, due: float) -> None:
        self.running.add(plan.name)
        task = asyncio.create_task(self._run_one(plan, due), name=f"check:{plan.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_one(self, plan: CheckPlan, due: float | None) -> None:
        try:
            async with self._slots:
                if due is not None:
                    self.lag.record(self.clock() - due)
                result = await self.runner.run(plan)
            self.latest[plan.name] = result
            self.sink(result)
        except Exception:
            log.exception("check %s: could not record its result", plan.name)
        finally:
            self.running.discard(plan.name)
            if due is not None:
                self._finished(plan.name, due)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop starting checks and wait up to ``grace`` seconds for running ones to finish."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
