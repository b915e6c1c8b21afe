"""Completion and on-time rates over a known set of runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.procedures.checklist_support import config_of
from watchkeeper.checklists.decisions import complete, decide
from watchkeeper.checklists.model import ItemState
from watchkeeper.checklists.runs import NewItem, create_run
from watchkeeper.config.procedures import StepKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents.model import MACHINE
from watchkeeper.procedures.schedule import schedule_procedure
from watchkeeper.procedures.stats import procedure_stats
from watchkeeper.store.store import Store

CONFIG = """
procedures:
  - name: daily-health
    title: System Health Checks
    schedule: daily at 09:00
    window: 2h
    steps: [{manual: Verify key endpoints}]
  - name: weekly-audit
    schedule: weekly on monday at 10:00
    steps: [{manual: Review npm audit}]
"""
DAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = DAY + timedelta(days=4, hours=1)  # Saturday 10:00, during the last run's window


def add_run(store: Store, day: int, completed_after: timedelta | None) -> None:
    """Add a daily run scheduled on DAY + day, due 2h later, completed that long after it began."""
    scheduled = DAY + timedelta(days=day)
    with store.engine.begin() as connection:
        run_id = create_run(
            connection,
            title="System Health Checks",
            items=[NewItem(StepKind.MANUAL, "Verify key endpoints")],
            scheduled_for=scheduled,
            created_by=MACHINE,
            now=scheduled,
            procedure="daily-health",
            due_at=scheduled + timedelta(hours=2),
        )
        assert run_id is not None
        if completed_after is not None:
            decide(connection, run_id, 1, ItemState.PASSED, "ana", scheduled)
            complete(connection, run_id, "ana", scheduled + completed_after)


def test_rates_count_completed_runs_against_those_completed_or_past_due(any_store: Store) -> None:
    config = config_of(CONFIG)
    add_run(any_store, -1, timedelta(minutes=20))  # before the period: not counted
    add_run(any_store, 0, timedelta(minutes=30))  # on time
    add_run(any_store, 1, timedelta(hours=5))  # late
    add_run(any_store, 2, timedelta(hours=1))  # on time
    add_run(any_store, 3, None)  # open past due: counts against
    add_run(any_store, 4, None)  # open, not yet due: does not count yet
    with any_store.engine.begin() as connection:
        for procedure in config.procedures:
            schedule_procedure(connection, procedure, ZoneInfo("UTC"), NOW, Secrets())
    with any_store.engine.connect() as connection:
        daily, weekly, overall = procedure_stats(connection, config, DAY, NOW, NOW)

    assert (daily.procedure, daily.title) == ("daily-health", "System Health Checks")
    assert (daily.runs, daily.completed, daily.counted, daily.overdue_open) == (5, 3, 4, 1)
    assert daily.completion_rate == 0.75
    assert daily.on_time_rate == 2 / 3
    assert daily.last_completed_at == DAY + timedelta(days=2, hours=1)
    assert daily.next_due_at == DAY + timedelta(days=5)

    assert (weekly.runs, weekly.completion_rate, weekly.on_time_rate) == (0, None, None)
    assert weekly.last_completed_at is None
    assert weekly.next_due_at == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)

    assert (overall.procedure, overall.runs, overall.completion_rate) == (None, 5, 0.75)
    assert overall.next_due_at == daily.next_due_at  # the soonest of all


def test_runs_of_a_procedure_no_longer_configured_still_count(any_store: Store) -> None:
    add_run(any_store, 0, timedelta(minutes=10))
    config = config_of("procedures: [{name: other, steps: [{manual: x}]}]")
    with any_store.engine.connect() as connection:
        other, gone, overall = procedure_stats(connection, config, DAY, NOW, NOW)
    assert (other.procedure, other.runs) == ("other", 0)
    assert (gone.procedure, gone.title, gone.completion_rate) == (
        "daily-health",
        "daily-health",
        1.0,
    )
    assert overall.completion_rate == 1.0
