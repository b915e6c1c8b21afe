"""Scheduled backup work is claimed once per occurrence, by one worker, on both stores."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from watchkeeper.backups.jobs import Job, claim, release
from watchkeeper.config.schedules import parse_schedule
from watchkeeper.store.store import Store

DAILY = parse_schedule("daily at 02:00")
T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def test_a_job_never_run_is_due_at_once_and_then_not_until_its_next_occurrence(
    any_store: Store,
) -> None:
    engine = any_store.engine
    started = claim(engine, "db", Job.TAKE, DAILY, T0, hold=600)
    assert started == T0
    release(engine, "db", Job.TAKE, T0)

    assert claim(engine, "db", Job.TAKE, DAILY, T0 + timedelta(hours=11), hold=600) is None
    next_day = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert claim(engine, "db", Job.TAKE, DAILY, next_day, hold=600) == next_day


def test_downtime_over_several_occurrences_runs_the_job_once(any_store: Store) -> None:
    engine = any_store.engine
    claim(engine, "db", Job.TAKE, DAILY, T0, hold=600)
    release(engine, "db", Job.TAKE, T0)
    back = T0 + timedelta(days=5)

    assert claim(engine, "db", Job.TAKE, DAILY, back, hold=600) == back
    release(engine, "db", Job.TAKE, back)
    assert claim(engine, "db", Job.TAKE, DAILY, back + timedelta(minutes=1), hold=600) is None


def test_a_job_whose_worker_died_runs_again_once_its_hold_runs_out(any_store: Store) -> None:
    engine = any_store.engine
    claim(engine, "db", Job.TAKE, DAILY, T0, hold=600)  # a worker that died without releasing
    later = T0 + timedelta(days=1)

    assert claim(engine, "db", Job.TAKE, DAILY, T0 + timedelta(seconds=599), hold=600) is None
    retried = T0 + timedelta(seconds=601)
    assert claim(engine, "db", Job.TAKE, DAILY, retried, hold=600) == retried
    release(engine, "db", Job.TAKE, retried)
    assert claim(engine, "db", Job.TAKE, DAILY, retried + timedelta(hours=1), hold=600) is None
    assert claim(engine, "db", Job.TAKE, DAILY, later, hold=600) == later


def test_taking_and_verifying_are_claimed_apart(any_store: Store) -> None:
    engine = any_store.engine
    assert claim(engine, "db", Job.TAKE, DAILY, T0, hold=600) == T0
    assert claim(engine, "db", Job.VERIFY, DAILY, T0, hold=600) == T0
    assert claim(engine, "other", Job.TAKE, DAILY, T0, hold=600) == T0


def test_of_eight_workers_claiming_at_once_exactly_one_wins(any_store: Store) -> None:
    engine = any_store.engine
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(
            pool.map(lambda _: claim(engine, "db", Job.TAKE, DAILY, T0, hold=600), range(8))
        )
    assert outcomes.count(T0) == 1
    assert outcomes.count(None) == 7
