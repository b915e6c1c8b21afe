"""Scheduled reports: written once per occurrence, kept, sent to their channels, retried when
writing fails — also with two workers on one PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tests.procedures.checklist_support import config_of
from watchkeeper.config.reports import ReportPeriod
from watchkeeper.reports.archive import (
    MAX_ATTEMPTS,
    KeptReport,
    ReportFormat,
    ReportState,
    Written,
    add_pending,
    claim_pending,
    kept_reports,
    mark_written,
    report_text,
)
from watchkeeper.reports.worker import HOLD, ReportWorker, WriteReport
from watchkeeper.secret_rules import mask_secrets
from watchkeeper.store.store import Store
from watchkeeper.store.tables import outbox

WEEKLY = """
server:
  base_url: https://watch.example.com/
notifications:
  channels:
    ops: json://127.0.0.1:9/hook
reports:
  - name: ops-weekly
    period: weekly
    schedule: weekly on monday at 09:00
    notify: ops
  - name: ops-daily
    period: daily
"""


def writer(calls: list[tuple[ReportPeriod, datetime]]) -> WriteReport:
    """A writer that records what it was asked for and titles the report after it."""

    def write(period: ReportPeriod, until: datetime) -> Written:
        calls.append((period, until))
        title = f"{period.value} report to {until:%Y-%m-%d %H:%M}"
        return Written(title, f"All well until {until:%H:%M}.", f"# {title}\n", f"<h1>{title}</h1>")

    return write


def kept(store: Store, name: str | None = None) -> list[KeptReport]:
    with store.engine.connect() as connection:
        return list(reversed(kept_reports(connection, name=name)))


def messages(store: Store) -> list[tuple[str, str, str]]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.channel, outbox.c.title, outbox.c.body).order_by(outbox.c.id)
        ).all()
    return [(row.channel, row.title, row.body) for row in rows]


async def step_hourly(worker: ReportWorker, start: datetime, hours: int) -> int:
    written = 0
    for hour in range(hours):
        written += await worker.step(start + timedelta(hours=hour))
    return written


async def test_a_weekly_report_is_written_once_on_its_day_and_sent_with_a_link(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    calls: list[tuple[ReportPeriod, datetime]] = []
    worker = ReportWorker(store.engine, config_of(WEEKLY), writer(calls), mask_secrets)
    # Sunday 2026-11-22 00:00 → Wednesday: the first monday 09:00 after first sight is the 23rd.
    written = await step_hourly(worker, datetime(2026, 11, 22, tzinfo=UTC), 24 * 4)

    weekly = kept(store, "ops-weekly")
    assert [r.occurrence for r in weekly] == [datetime(2026, 11, 23, 9, tzinfo=UTC)]
    assert weekly[0].state is ReportState.READY
    assert weekly[0].title == "weekly report to 2026-11-23 09:00"
    assert (ReportPeriod.WEEKLY, datetime(2026, 11, 23, 9, tzinfo=UTC)) in calls
    # The daily one (default schedule: 08:00) on each day from the first (seen at midnight).
    daily = kept(store, "ops-daily")
    assert [r.occurrence for r in daily] == [
        datetime(2026, 11, day, 8, tzinfo=UTC) for day in (22, 23, 24, 25)
    ]
    assert written == 5
    with store.engine.connect() as connection:
        assert report_text(connection, weekly[0].id, ReportFormat.MARKDOWN) == (
            "# weekly report to 2026-11-23 09:00\n"
        )
        assert "<h1>" in (report_text(connection, weekly[0].id, ReportFormat.HTML) or "")
    # Only the weekly one names a channel.
    assert messages(store) == [
        (
            "ops",
            "weekly report to 2026-11-23 09:00",
            "All well until 09:00.\n\nThe whole report: "
            f"https://watch.example.com/reports/{weekly[0].id}",
        )
    ]
    store.close()


async def test_after_downtime_only_the_latest_missed_report_is_written(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    calls: list[tuple[ReportPeriod, datetime]] = []
    worker = ReportWorker(store.engine, config_of(WEEKLY), writer(calls), mask_secrets)
    await worker.step(datetime(2026, 11, 22, 12, tzinfo=UTC))
    # Down for three weeks: back on Thursday 2026-12-10.
    await worker.step(datetime(2026, 12, 10, 12, tzinfo=UTC))
    assert [r.occurrence for r in kept(store, "ops-weekly")] == [
        datetime(2026, 12, 7, 9, tzinfo=UTC)
    ]
    assert [r.occurrence for r in kept(store, "ops-daily")] == [
        datetime(2026, 12, 10, 8, tzinfo=UTC)
    ]
    store.close()


async def test_a_report_that_cannot_be_written_is_retried_then_given_up_without_stopping_others(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    calls: list[tuple[ReportPeriod, datetime]] = []
    good = writer(calls)

    def write(period: ReportPeriod, until: datetime) -> Written:
        if period is ReportPeriod.WEEKLY:
            raise RuntimeError("the store is unreadable at postgresql://app:hunter2-secret@db/app")
        return good(period, until)

    worker = ReportWorker(store.engine, config_of(WEEKLY), write, mask_secrets)
    start = datetime(2026, 11, 22, 12, tzinfo=UTC)
    await worker.step(start)
    monday = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert await worker.step(monday) == 1  # the daily one; the weekly one failed
    weekly = kept(store, "ops-weekly")[0]
    assert (weekly.state, weekly.attempts) == (ReportState.PENDING, 1)
    assert weekly.error is not None and "hunter2-secret" not in weekly.error
    assert weekly.error.startswith("RuntimeError: the store is unreadable at postgresql://app:")
    # Held by the attempt: not retried before its hold runs out, then retried until given up.
    await worker.step(monday + timedelta(seconds=HOLD / 2))
    assert kept(store, "ops-weekly")[0].attempts == 1
    for attempt in range(2, MAX_ATTEMPTS + 1):
        await worker.step(monday + timedelta(seconds=HOLD * attempt))
        assert kept(store, "ops-weekly")[0].attempts == attempt
    weekly = kept(store, "ops-weekly")[0]
    assert weekly.state is ReportState.FAILED
    await worker.step(monday + timedelta(seconds=HOLD * 10))
    assert kept(store, "ops-weekly")[0].attempts == MAX_ATTEMPTS
    assert messages(store) == []
    store.close()


async def test_two_workers_on_one_postgresql_write_each_occurrence_once(postgres_url: str) -> None:
    stores = [Store.open(postgres_url), Store.open(postgres_url)]
    calls: list[tuple[ReportPeriod, datetime]] = []
    config = config_of(WEEKLY)
    workers = [ReportWorker(s.engine, config, writer(calls), mask_secrets) for s in stores]
    start = datetime(2026, 11, 22, tzinfo=UTC)
    for hour in range(24 * 3):
        moment = start + timedelta(hours=hour)
        await asyncio.gather(*(w.step(moment) for w in workers))
    assert [r.occurrence for r in kept(stores[0], "ops-weekly")] == [
        datetime(2026, 11, 23, 9, tzinfo=UTC)
    ]
    assert [r.occurrence for r in kept(stores[0], "ops-daily")] == [
        datetime(2026, 11, day, 8, tzinfo=UTC) for day in (22, 23, 24)
    ]
    assert len(calls) == 4
    assert len(messages(stores[0])) == 1
    for s in stores:
        s.close()


async def test_a_write_that_outlasts_its_hold_is_kept_and_sent_once(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    report_id = add_pending(store.engine, "ops-weekly", ReportPeriod.WEEKLY, monday, monday)
    slow = claim_pending(store.engine, monday, HOLD)
    assert slow is not None and slow.id == report_id
    # The slow worker's hold runs out; another claims the report and writes it.
    later = monday + timedelta(seconds=HOLD + 1)
    quick = claim_pending(store.engine, later, HOLD)
    assert quick is not None and quick.id == report_id
    text = Written("weekly", "fine", "# weekly\n", "<h1>weekly</h1>")
    with store.engine.begin() as connection:
        assert mark_written(connection, quick, text, later)
    # The slow one finishes after all: its text is not kept over the other's, nor sent again.
    with store.engine.begin() as connection:
        assert not mark_written(connection, slow, Written("late", "", "", ""), later)
    assert [(r.title, r.state) for r in kept(store)] == [("weekly", ReportState.READY)]
    store.close()
