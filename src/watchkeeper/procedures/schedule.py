"""When a procedure becomes a checklist run: on its schedule, or when someone starts one by hand.

The next occurrence of each scheduled procedure is kept in ``procedure_schedule``. A procedure
seen for the first time gets no run for occurrences before Watchkeeper knew it; after downtime only
the latest missed occurrence gets a run. Workers sharing a PostgreSQL database skip a procedure
another is scheduling (``FOR UPDATE SKIP LOCKED``), and the unique index on a procedure's
occurrence makes a second run for it impossible anyway.

A run's items keep their text and ``run:`` arguments with the config's secrets redacted: the
store and everything that shows a run never hold them (``machine`` takes the real arguments from
the config when it runs the command).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.checklists.model import ChecklistError
from watchkeeper.checklists.runs import NewItem, create_run, undo_alone
from watchkeeper.config.procedures import Procedure, StepKind
from watchkeeper.config.schedules import Schedule, parse_schedule
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents.model import MACHINE
from watchkeeper.store.tables import procedure_schedule

log = logging.getLogger("watchkeeper.procedures")

CATCH_UP_STEPS = 1000
"""Missed occurrences walked one by one after downtime; beyond that the walk jumps close to now."""

_UTC = ZoneInfo("UTC")
_MICROSECOND = timedelta(microseconds=1)


def schedule_of(procedure: Procedure, tz: ZoneInfo = _UTC) -> Schedule | None:
    """Given a procedure and the config's timezone, return its schedule (None: started by hand)."""
    return None if procedure.schedule is None else parse_schedule(procedure.schedule, tz)


def items_of(procedure: Procedure, secrets: Secrets) -> list[NewItem]:
    """Given a procedure and the config's secrets, return the items of a new run of it, one per
    step, with the secrets redacted from their text and arguments."""
    return [
        NewItem(
            kind=step.kind,
            text=secrets.redact(step.label),
            check_name=step.check,
            argv=redacted_argv(step.run, secrets) if step.run is not None else None,
            timeout=step.timeout if step.kind is StepKind.RUN else None,
        )
        for step in procedure.steps
    ]


def redacted_argv(argv: tuple[str, ...], secrets: Secrets) -> tuple[str, ...]:
    """Given a command's arguments and the config's secrets, return them as a run stores them."""
    return tuple(secrets.redact(arg) for arg in argv)


def due_for(
    procedure: Procedure, schedule: Schedule | None, occurrence: datetime
) -> datetime | None:
    """Given a procedure, its schedule and a run's start, return when the run is due.

    The window if the procedure has one, else the next occurrence; None for neither.
    """
    if procedure.window is not None:
        return occurrence + timedelta(seconds=procedure.window)
    if schedule is not None:
        return schedule.next_after(occurrence)
    return None


def schedule_procedure(
    connection: Connection, procedure: Procedure, tz: ZoneInfo, now: datetime, secrets: Secrets
) -> int | None:
    """Create the procedure's run if an occurrence is due at ``now``; return its id (None: none made).

    Call it in a transaction of its own; it also moves the procedure's next occurrence past ``now``.
    """
    schedule = schedule_of(procedure, tz)
    if schedule is None:
        return None
    name = procedure.name
    exists = connection.scalar(
        select(procedure_schedule.c.next_at).where(procedure_schedule.c.procedure == name)
    )
    if exists is None:
        _first_seen(connection, name, schedule.next_after(now))
        return None
    query = select(procedure_schedule.c.next_at).where(procedure_schedule.c.procedure == name)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    next_at: datetime | None = connection.scalar(query)
    if next_at is None:
        return None  # another worker is scheduling it right now
    if now < next_at:
        sooner = schedule.next_after(now)
        if sooner < next_at:
            # The schedule was edited to fire sooner: an unchanged one would fire exactly at next_at.
            _set_next(connection, name, sooner)
        return None
    # next_at may come from an edited schedule: start from the current one's first fire time.
    first = schedule.next_after(next_at - _MICROSECOND)
    if first > now:
        _set_next(connection, name, first)
        return None
    occurrence, missed = latest_fire(schedule, first, now)
    if missed:
        log.warning(
            "procedure %s: %s missed occurrence(s) before %s get no run; only the latest does",
            name,
            f"{missed}+" if missed >= CATCH_UP_STEPS else missed,
            occurrence.isoformat(),
        )
    following = schedule.next_after(occurrence)
    _set_next(connection, name, following)
    run_id = create_run(
        connection,
        title=secrets.redact(procedure.heading),
        items=items_of(procedure, secrets),
        scheduled_for=occurrence,
        created_by=MACHINE,
        now=now,
        procedure=name,
        owner=procedure.owner,
        due_at=due_for(procedure, schedule, occurrence),
    )
    if run_id is not None:
        log.info("procedure %s: run %d for %s", name, run_id, occurrence.isoformat())
    return run_id


def latest_fire(schedule: Schedule, first: datetime, now: datetime) -> tuple[datetime, int]:
    """Given a schedule, a fire time ``first`` ≤ ``now`` and ``now``, return the latest fire time
    ≤ ``now`` and how many fire times before it were passed over (at least, past the bound)."""
    occurrence = first
    for missed in range(CATCH_UP_STEPS):
        following = schedule.next_after(occurrence)
        if following > now:
            return occurrence, missed
        occurrence = following
    # A frequent schedule after a long outage: look back from now over a widening span instead.
    span = max(schedule.next_after(occurrence) - occurrence, _MICROSECOND)
    while (candidate := schedule.next_after(now - span)) > now:
        span *= 2
    candidate = max(candidate, occurrence)
    while (following := schedule.next_after(candidate)) <= now:
        candidate = following
    return candidate, CATCH_UP_STEPS


def start_run(
    connection: Connection,
    procedure: Procedure,
    actor: str,
    now: datetime,
    *,
    secrets: Secrets,
    tz: ZoneInfo = _UTC,
) -> int:
    """Create a run of ``procedure`` started by hand at ``now``; return its id.

    It is due after the procedure's window, else after its schedule's gap, else never. The
    config's ``secrets`` are redacted from its items.
    """
    schedule = schedule_of(procedure, tz)
    if procedure.window is not None:
        due_at: datetime | None = now + timedelta(seconds=procedure.window)
    elif schedule is not None:
        following = schedule.next_after(now)
        due_at = now + (schedule.next_after(following) - following)
    else:
        due_at = None
    run_id = create_run(
        connection,
        title=secrets.redact(procedure.heading),
        items=items_of(procedure, secrets),
        scheduled_for=now,
        created_by=actor,
        now=now,
        procedure=procedure.name,
        owner=procedure.owner,
        due_at=due_at,
    )
    if run_id is None:
        raise ChecklistError(
            f"a run of {procedure.name} was started at this very moment; see it with "
            "`watchkeeper checklist list`"
        )
    return run_id


def next_occurrences(connection: Connection) -> dict[str, datetime]:
    """Return each scheduled procedure's next occurrence, by procedure name."""
    rows = connection.execute(select(procedure_schedule.c.procedure, procedure_schedule.c.next_at))
    return {row.procedure: row.next_at for row in rows}


def _first_seen(connection: Connection, name: str, next_at: datetime) -> None:
    try:
        with undo_alone(connection):
            connection.execute(insert(procedure_schedule).values(procedure=name, next_at=next_at))
    except IntegrityError:
        pass  # another worker saw it first; its next_at stands


def _set_next(connection: Connection, name: str, next_at: datetime) -> None:
    connection.execute(
        update(procedure_schedule)
        .where(procedure_schedule.c.procedure == name)
        .values(next_at=next_at)
    )
