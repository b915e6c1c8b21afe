"""Leases on scheduled backup work: each occurrence of a backup's or a restore test's schedule is
started once, by one worker, even with several workers on one PostgreSQL store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.config.schedules import Schedule
from watchkeeper.store.tables import backup_jobs


class Job(StrEnum):
    """What a worker does for a backup on its schedule."""

    TAKE = "take"
    VERIFY = "verify"


@dataclass(frozen=True)
class JobState:
    """When a job last started, and until when a worker holds it (None: no one)."""

    last_started: datetime | None
    running_until: datetime | None


def is_due(state: JobState, schedule: Schedule, now: datetime) -> bool:
    """Given a job's state, its schedule and the time now, return whether a worker should start
    it: its schedule fired since it last started (or it never has), or the worker that started it
    died (its hold ran out, never released)."""
    if state.running_until is not None:
        # Held: not due. Its hold ran out without a release: the worker died mid-job, run it again.
        return state.running_until <= now
    return state.last_started is None or schedule.next_after(state.last_started) <= now


def job_states(engine: Engine) -> dict[tuple[str, Job], JobState]:
    """Return the state of every job seen so far, by (backup, job): one query for a whole pass."""
    with engine.connect() as connection:
        rows = connection.execute(select(backup_jobs)).all()
    return {
        (row.backup, Job(row.job)): JobState(row.last_started, row.running_until) for row in rows
    }


def claim(
    engine: Engine, backup: str, job: Job, schedule: Schedule, now: datetime, hold: float
) -> datetime | None:
    """Claim ``job`` of ``backup`` when its schedule fired since it last started (or it never
    has) and no one holds it; return the claim's start time (None: not due, or taken by another).

    The claim lasts ``hold`` seconds, so a worker that dies mid-job frees it by then.
    """
    jobs = backup_jobs.c
    mine = (jobs.backup == backup) & (jobs.job == job.value)
    with engine.connect() as connection:
        seen = connection.execute(select(jobs.job).where(mine)).first() is not None
    if not seen:
        try:
            with engine.begin() as connection:
                connection.execute(insert(backup_jobs).values(backup=backup, job=job.value))
        except IntegrityError:
            pass  # another worker saw it first
    with engine.begin() as connection:
        row = connection.execute(select(jobs.last_started, jobs.running_until).where(mine)).one()
        if not is_due(JobState(row.last_started, row.running_until), schedule, now):
            return None
        # Compare-and-set on last_started: of two workers that read the same row, one wins.
        same = (
            jobs.last_started.is_(None)
            if row.last_started is None
            else jobs.last_started == row.last_started
        )
        won = connection.execute(
            update(backup_jobs)
            .where(mine & same)
            .values(last_started=now, running_until=now + timedelta(seconds=hold))
        ).rowcount
    return now if won == 1 else None


def release(engine: Engine, backup: str, job: Job, started: datetime) -> None:
    """Let go of the claim on ``job`` of ``backup`` that started at ``started``."""
    jobs = backup_jobs.c
    with engine.begin() as connection:
        connection.execute(
            update(backup_jobs)
            .where(
                (jobs.backup == backup) & (jobs.job == job.value) & (jobs.last_started == started)
            )
            .values(running_until=None)
        )
