"""When procedures become runs: on their schedule (once per occurrence, even with two workers)
and by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.procedures.checklist_support import config_of, runs
from watchkeeper.config.schedules import IntervalSchedule, parse_schedule
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents.model import MACHINE
from watchkeeper.procedures.schedule import (
    CATCH_UP_STEPS,
    latest_fire,
    schedule_procedure,
    start_run,
)
from watchkeeper.procedures.worker import ProcedureWorker
from watchkeeper.results import Result
from watchkeeper.store.store import Store
from watchkeeper.store.tables import procedure_schedule

UTC_ZONE = ZoneInfo("UTC")

MONTHLY = """
procedures:
  - name: monthly-review
    title: Comprehensive System Review
    schedule: monthly on the first monday at 11:00
    owner: Full Technical Team
    steps:
      - manual: Review Lighthouse performance trends
      - manual: Review access logs for unusual patterns
"""

DAILY = """
procedures:
  - name: daily-health
    title: System Health Checks
    schedule: daily at 09:00
    window: 2h
    steps:
      - manual: Verify key endpoints
"""


async def no_checks(name: str) -> Result | None:
    """The checks of these procedures: none are configured."""
    return None


def next_at(store: Store, procedure: str) -> datetime | None:
    with store.engine.connect() as connection:
        return connection.scalar(
            select(procedure_schedule.c.next_at).where(procedure_schedule.c.procedure == procedure)
        )


async def test_monthly_on_the_first_monday_creates_exactly_one_run_on_the_right_day(
    any_store: Store,
) -> None:
    worker = ProcedureWorker(any_store.engine, config_of(MONTHLY), no_checks, Secrets())
    now = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    while now < datetime(2027, 1, 20, tzinfo=UTC):
        await worker.step(now)
        now += timedelta(hours=1)
    created = runs(any_store.engine, "monthly-review")
    assert [r.scheduled_for for r in created] == [
        datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
        datetime(2027, 1, 4, 11, 0, tzinfo=UTC),
    ]
    first = created[0]
    assert (first.title, first.owner, first.created_by) == (
        "Comprehensive System Review",
        "Full Technical Team",
        MACHINE,
    )
    assert first.created_at == first.scheduled_for  # the hour it fell due, not later
    assert first.due_at == datetime(2027, 1, 4, 11, 0, tzinfo=UTC)  # no window: the next one
    assert [i.text for i in first.items] == [
        "Review Lighthouse performance trends",
        "Review access logs for unusual patterns",
    ]
    assert next_at(any_store, "monthly-review") == datetime(2027, 2, 1, 11, 0, tzinfo=UTC)


def test_occurrences_before_watchkeeper_knew_the_procedure_get_no_run(any_store: Store) -> None:
    (procedure,) = config_of(DAILY).procedures
    with any_store.engine.begin() as connection:
        made = schedule_procedure(
            connection, procedure, UTC_ZONE, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), Secrets()
        )
    assert made is None and runs(any_store.engine) == []
    assert next_at(any_store, "daily-health") == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_after_downtime_only_the_latest_missed_occurrence_gets_a_run(any_store: Store) -> None:
    (procedure,) = config_of(DAILY).procedures
    for now in (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), datetime(2026, 12, 5, 12, 0, tzinfo=UTC)):
        with any_store.engine.begin() as connection:
            schedule_procedure(connection, procedure, UTC_ZONE, now, Secrets())
    (only,) = runs(any_store.engine)
    assert only.scheduled_for == datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert only.due_at == datetime(2026, 12, 5, 11, 0, tzinfo=UTC)  # the 2h window
    assert next_at(any_store, "daily-health") == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_catching_up_a_frequent_schedule_is_bounded_and_still_finds_the_latest() -> None:
    every_second = IntervalSchedule(1.0)
    first = datetime(2026, 12, 1, tzinfo=UTC)
    now = first + timedelta(days=3, microseconds=500_000)
    occurrence, missed = latest_fire(every_second, first, now)
    assert occurrence == first + timedelta(days=3)
    assert missed == CATCH_UP_STEPS  # a lower bound: far more were missed

    weekdays = parse_schedule("weekdays at 09:00")
    occurrence, missed = latest_fire(
        weekdays, datetime(2026, 12, 4, 9, 0, tzinfo=UTC), datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    )
    assert (occurrence, missed) == (datetime(2026, 12, 7, 9, 0, tzinfo=UTC), 1)


def test_a_schedule_edited_to_fire_sooner_takes_effect_at_once(any_store: Store) -> None:
    (monthly,) = config_of(MONTHLY).procedures
    daily = monthly.model_copy(update={"schedule": "daily at 09:00"})
    with any_store.engine.begin() as connection:
        schedule_procedure(
            connection, monthly, UTC_ZONE, datetime(2026, 11, 20, tzinfo=UTC), Secrets()
        )
        schedule_procedure(
            connection, daily, UTC_ZONE, datetime(2026, 11, 20, 1, 0, tzinfo=UTC), Secrets()
        )
    assert next_at(any_store, "monthly-review") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_the_running_worker_follows_a_schedule_edited_to_fire_sooner(
    any_store: Store,
) -> None:
    config = config_of(MONTHLY)
    worker = ProcedureWorker(any_store.engine, config, no_checks, Secrets())
    await worker.step(datetime(2026, 11, 20, 0, 0, tzinfo=UTC))  # next: 7 December
    (monthly,) = config.procedures
    edited = monthly.model_copy(update={"schedule": "daily at 09:00"})
    worker.set_config(config.model_copy(update={"procedures": (edited,)}))
    for hour in (1, 9, 10):
        await worker.step(datetime(2026, 11, 20, hour, 0, 1, tzinfo=UTC))
    created = runs(any_store.engine, "monthly-review")
    assert [r.scheduled_for for r in created] == [datetime(2026, 11, 20, 9, 0, tzinfo=UTC)]


def test_a_schedule_edited_to_fire_later_makes_no_run_at_the_old_time(any_store: Store) -> None:
    (daily,) = config_of(DAILY).procedures
    weekly = daily.model_copy(update={"schedule": "weekly on friday at 09:00"})
    with any_store.engine.begin() as connection:
        schedule_procedure(
            connection, daily, UTC_ZONE, datetime(2026, 12, 1, 8, 0, tzinfo=UTC), Secrets()
        )
        made = schedule_procedure(
            connection, weekly, UTC_ZONE, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), Secrets()
        )
    assert made is None and runs(any_store.engine) == []
    assert next_at(any_store, "daily-health") == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_a_run_started_by_hand_is_due_after_the_window_or_the_schedules_gap(
    any_store: Store,
) -> None:
    (daily,) = config_of(DAILY).procedures
    (monthly,) = config_of(MONTHLY).procedures
    by_hand = monthly.model_copy(update={"name": "ad-hoc-review", "schedule": None})
    now = datetime(2026, 12, 15, 14, 0, tzinfo=UTC)
    with any_store.engine.begin() as connection:
        ids = [
            start_run(connection, p, "ana", now, secrets=Secrets())
            for p in (daily, monthly, by_hand)
        ]
    started = {r.id: r for r in runs(any_store.engine)}
    assert [started[i].due_at for i in ids] == [
        now + timedelta(hours=2),
        now + (datetime(2027, 2, 1, 11, tzinfo=UTC) - datetime(2027, 1, 4, 11, tzinfo=UTC)),
        None,
    ]
    assert {started[i].scheduled_for for i in ids} == {now}
    assert {started[i].created_by for i in ids} == {"ana"}


async def test_two_workers_on_one_postgresql_create_one_run_per_occurrence(
    postgres_url: str,
) -> None:
    stores = [Store.open(postgres_url), Store.open(postgres_url)]
    try:
        config = config_of(DAILY)
        workers = [ProcedureWorker(s.engine, config, no_checks, Secrets()) for s in stores]
        now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        while now < datetime(2026, 12, 4, 8, 0, tzinfo=UTC):
            await asyncio.gather(*(w.step(now) for w in workers))
            now += timedelta(minutes=30)
        created = runs(stores[0].engine)
        assert [r.scheduled_for.day for r in created] == [1, 2, 3]
    finally:
        for s in stores:
            s.close()
