"""The scheduler starts checks when due, never overlaps a check with itself, and stops cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from watchkeeper.config.schedules import IntervalSchedule
from watchkeeper.config.schema import Check
from watchkeeper.config.specs import SystemSpec
from watchkeeper.engine.evaluator import Rules
from watchkeeper.engine.plan import CheckPlan
from watchkeeper.engine.runner import Runner
from watchkeeper.engine.scheduler import Scheduler
from watchkeeper.probes import ProbeContext
from watchkeeper.results import Measurements, Result, Status

ProbeFn = Callable[[Any, ProbeContext, float], Awaitable[Measurements]]


def plan(name: str, probe: ProbeFn, every: float, timeout: float = 5.0) -> CheckPlan:
    spec = SystemSpec()
    return CheckPlan(
        name=name,
        kind="system",
        service=None,
        tags=(),
        spec=spec,
        probe=probe,
        rules=Rules.parse(expect=["n >= 0"]),
        schedule=IntervalSchedule(seconds=every),
        timeout=timeout,
        source=Check(name=name, system=spec),
    )


async def run_for(scheduler: Scheduler, seconds: float) -> None:
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(seconds)
    await scheduler.stop()
    await task


async def test_interval_check_runs_each_interval(ctx: ProbeContext) -> None:
    results: list[Result] = []
    count = 0

    async def probe(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        nonlocal count
        count += 1
        return {"n": count}

    scheduler = Scheduler(Runner(ctx), results.append)
    scheduler.set_plans([plan("tick", probe, every=0.1)])
    await run_for(scheduler, 0.55)
    assert 4 <= len(results) <= 6
    assert all(r.status is Status.OK and r.check == "tick" for r in results)
    assert scheduler.lag.percentile_ms(99) < 50


async def test_a_check_never_overlaps_itself(ctx: ProbeContext) -> None:
    running = 0
    most = 0
    results: list[Result] = []

    async def slow(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.25)
        running -= 1
        return {"n": 1}

    scheduler = Scheduler(Runner(ctx), results.append)
    scheduler.set_plans([plan("slow", slow, every=0.05)])
    await run_for(scheduler, 0.6)
    assert most == 1
    assert scheduler.skipped > 0
    assert len(results) >= 2


async def test_hung_probe_is_stopped_at_its_timeout(ctx: ProbeContext) -> None:
    async def hang(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        await asyncio.sleep(3600)
        return {}

    runner = Runner(ctx)
    result = await asyncio.wait_for(runner.run(plan("hang", hang, every=60, timeout=0.2)), 5)
    assert result.status is Status.ERROR
    assert "timed out" in result.message
    assert result.duration_ms < 2000


async def test_crashing_probe_is_an_error_result_not_a_crash(ctx: ProbeContext) -> None:
    async def broken(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        raise ZeroDivisionError("division by zero")

    result = await Runner(ctx).run(plan("broken", broken, every=60))
    assert result.status is Status.ERROR
    assert "ZeroDivisionError" in result.message


async def test_stop_waits_for_running_checks_and_records_them(ctx: ProbeContext) -> None:
    results: list[Result] = []
    started = asyncio.Event()

    async def slowish(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        started.set()
        await asyncio.sleep(0.3)
        return {"n": 1}

    scheduler = Scheduler(Runner(ctx), results.append)
    scheduler.set_plans([plan("slowish", slowish, every=0.05)])
    task = asyncio.create_task(scheduler.run())
    await started.wait()
    await scheduler.stop()
    await task
    assert [r.check for r in results] == ["slowish"]


async def test_replanning_keeps_unchanged_due_times_and_drops_removed_checks(
    ctx: ProbeContext,
) -> None:
    async def probe(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        return {"n": 1}

    scheduler = Scheduler(Runner(ctx), lambda r: None)
    a, b = plan("a", probe, every=30), plan("b", probe, every=30)
    scheduler.set_plans([a, b])
    due_a = scheduler._due["a"]
    scheduler.set_plans([a, plan("c", probe, every=30)])
    assert scheduler._due["a"] == due_a
    assert set(scheduler.plans) == {"a", "c"}
    assert "b" not in scheduler._due


async def test_compact_runner_keeps_only_small_measurements_of_passing_results(
    ctx: ProbeContext,
) -> None:
    big = {"n": 1, "body": "x" * 5000, "json": {"a": [1, 2]}, "headers": {"h": "v"}, "ok": True}

    async def probe(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        return dict(big)

    passing = await Runner(ctx, compact=True).run(plan("p", probe, every=60))
    assert passing.measurements == {"n": 1, "ok": True}
    full = await Runner(ctx).run(plan("p", probe, every=60))
    assert full.measurements["json"] == {"a": [1, 2]}
    assert len(full.measurements["body"]) == 2001  # cut to 2,000 characters and an ellipsis


async def test_skipped_starts_are_logged_as_one_summary_not_one_line_each(
    ctx: ProbeContext, caplog: pytest.LogCaptureFixture
) -> None:
    async def slow(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        await asyncio.sleep(0.5)
        return {"n": 1}

    scheduler = Scheduler(Runner(ctx), lambda r: None)
    scheduler.set_plans([plan("slow", slow, every=0.02)])
    with caplog.at_level("WARNING", logger="watchkeeper.scheduler"):
        await run_for(scheduler, 1.2)  # two runs of 0.5s end, each having missed ~24 starts
    assert scheduler.skipped >= 20
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "still running" in lines[0] and "slow" in lines[0]


async def test_a_check_replanned_or_removed_while_running_follows_its_new_plan(
    ctx: ProbeContext,
) -> None:
    started = asyncio.Event()

    async def slow(spec: Any, c: ProbeContext, timeout: float) -> Measurements:
        started.set()
        await asyncio.sleep(0.3)
        return {"n": 1}

    scheduler = Scheduler(Runner(ctx), lambda r: None)
    scheduler.set_plans([plan("x", slow, every=0.05), plan("y", slow, every=0.05)])
    task = asyncio.create_task(scheduler.run())
    await started.wait()
    while {"x", "y"} - scheduler.running:
        await asyncio.sleep(0.01)
    scheduler.set_plans([plan("x", slow, every=3600)])  # x slows down, y is removed
    while scheduler.running:
        await asyncio.sleep(0.01)
    # Due at the next point of the new hourly grid (within a minute of the hour is fine too).
    due = scheduler._due["x"]
    assert due % 3600 == 0 and 0 < due - scheduler.clock() <= 3600
    assert "y" not in scheduler._due and all(name != "y" for _, name in scheduler._heap)
    await scheduler.stop()
    await task
