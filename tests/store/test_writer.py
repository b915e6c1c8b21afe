"""The result writer: batching, and holding results through real database outages."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.store.conftest import T0, Outage, result, wait_until
from watchkeeper.results import Result
from watchkeeper.store.store import Store, StoreError
from watchkeeper.store.writer import ResultWriter


def many(n: int, check: str = "web") -> list[Result]:
    """Return ``n`` results of ``check``, one per second from T0."""
    return [result(check, T0 + timedelta(seconds=i), float(i)) for i in range(n)]


def stored_durations(store: Store, check: str = "web") -> list[float]:
    """Return the durations of every stored result of ``check``, oldest first."""
    return sorted(r.duration_ms for r in store.history(check, limit=1_000_000))


async def test_many_submits_are_written_in_few_transactions(store: Store) -> None:
    commits: list[object] = []
    event.listen(store.engine, "commit", commits.append)
    writer = ResultWriter(store, max_batch=1000)
    task = asyncio.create_task(writer.run())

    for r in many(5000):
        writer.submit(r)
    await writer.close()
    await task

    assert writer.pending == 0
    assert stored_durations(store) == [float(i) for i in range(5000)]
    assert len(commits) <= 6


async def test_a_lone_result_is_written_within_max_delay(store: Store) -> None:
    writer = ResultWriter(store, max_delay=0.05)
    task = asyncio.create_task(writer.run())
    writer.submit(result("web", T0))

    await wait_until(lambda: writer.pending == 0, timeout=5)

    assert [r.started_at for r in store.history("web")] == [T0]
    await writer.close()
    await task


async def test_results_survive_an_outage_and_are_written_when_it_ends(
    store: Store, outage: Outage
) -> None:
    writer = ResultWriter(store)
    for r in many(50):
        writer.submit(r)

    with outage():
        with pytest.raises(StoreError, match="cannot write results"):
            await writer.flush()
        assert writer.pending == 50

    await writer.flush()
    assert writer.pending == 0
    assert stored_durations(store) == [float(i) for i in range(50)]


async def test_the_running_writer_retries_and_logs_once_per_outage(
    store: Store, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="watchkeeper.store")
    writer = ResultWriter(store, max_delay=0.05)
    task = asyncio.create_task(writer.run())

    def failures(level: int) -> int:
        return sum(
            rec.levelno == level and "write results" in rec.message for rec in caplog.records
        )

    with outage():
        for r in many(30):
            writer.submit(r)
        await wait_until(lambda: failures(logging.DEBUG) >= 1)
        assert writer.pending == 30
    await wait_until(
        lambda: (
            any("writable again" in rec.message for rec in caplog.records) and writer.pending == 0
        )
    )

    assert failures(logging.ERROR) == 1
    assert stored_durations(store) == [float(i) for i in range(30)]
    await writer.close()
    await task


async def test_past_max_pending_the_oldest_results_are_dropped_and_counted(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    writer = ResultWriter(store, max_pending=20)
    for r in many(50):
        writer.submit(r)
    assert writer.pending == 20

    await writer.flush()

    assert stored_durations(store) == [float(i) for i in range(30, 50)]
    assert "dropped the 30 oldest results" in caplog.text


async def test_cancelling_the_loop_mid_write_neither_loses_nor_duplicates(store: Store) -> None:
    writer = ResultWriter(store, max_batch=100, max_delay=0.01)
    task = asyncio.create_task(writer.run())
    for r in many(3000):
        writer.submit(r)
    await wait_until(lambda: writer.pending < 3000)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await writer.close()

    assert stored_durations(store) == [float(i) for i in range(3000)]
