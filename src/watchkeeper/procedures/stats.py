"""How well procedures are kept: completion and on-time rates over a period, per procedure and overall.

The guides' target is completion over 99%. Rates are fractions (0.0 to 1.0); interfaces format
them. An open run that is not yet due does not count against the completion rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, func, select

from watchkeeper.checklists.model import RunState
from watchkeeper.config.schema import Config
from watchkeeper.procedures.schedule import next_occurrences
from watchkeeper.store.tables import checklist_runs

TARGET = 0.99
"""The completion rate the guides aim for."""


@dataclass(frozen=True)
class ProcedureStats:
    """One procedure's runs scheduled in a period (``procedure`` None: all procedures together)."""

    procedure: str | None
    title: str
    runs: int
    completed: int
    on_time: int
    counted: int
    """Runs that count for the completion rate: completed, or open past their due time."""
    overdue_open: int
    last_completed_at: datetime | None
    next_due_at: datetime | None

    @property
    def completion_rate(self) -> float | None:
        """Return completed ÷ runs completed or past due (None when no run counts yet)."""
        return self.completed / self.counted if self.counted else None

    @property
    def on_time_rate(self) -> float | None:
        """Return runs completed by their due time ÷ runs completed (None when none was)."""
        return self.on_time / self.completed if self.completed else None


def procedure_stats(
    connection: Connection, config: Config, since: datetime, until: datetime, now: datetime
) -> list[ProcedureStats]:
    """Return the stats of every configured procedure (then of others with runs), then overall."""
    rows = list(
        connection.execute(
            select(checklist_runs).where(
                checklist_runs.c.procedure.is_not(None),
                checklist_runs.c.scheduled_for >= since,
                checklist_runs.c.scheduled_for < until,
            )
        )
    )
    last_completed = {
        row.procedure: row.last
        for row in connection.execute(
            select(
                checklist_runs.c.procedure, func.max(checklist_runs.c.completed_at).label("last")
            )
            .where(checklist_runs.c.procedure.is_not(None))
            .group_by(checklist_runs.c.procedure)
        )
    }
    next_due = next_occurrences(connection)
    titles = {p.name: p.heading for p in config.procedures}
    names = [*titles, *sorted({row.procedure for row in rows} - titles.keys())]
    stats = [
        _stats(
            name,
            titles.get(name, name),
            [row for row in rows if row.procedure == name],
            now,
            last_completed.get(name),
            next_due.get(name) if name in titles else None,
        )
        for name in names
    ]
    overall = _stats(
        None,
        "all procedures",
        rows,
        now,
        max((s.last_completed_at for s in stats if s.last_completed_at), default=None),
        min((s.next_due_at for s in stats if s.next_due_at), default=None),
    )
    return [*stats, overall]


def _stats(
    procedure: str | None,
    title: str,
    rows: Sequence[Row[object]],
    now: datetime,
    last_completed_at: datetime | None,
    next_due_at: datetime | None,
) -> ProcedureStats:
    completed = [row for row in rows if row.state == RunState.COMPLETED.value]
    overdue = [
        row
        for row in rows
        if row.state == RunState.OPEN.value and row.due_at is not None and now > row.due_at
    ]
    return ProcedureStats(
        procedure=procedure,
        title=title,
        runs=len(rows),
        completed=len(completed),
        on_time=sum(row.due_at is None or row.completed_at <= row.due_at for row in completed),
        counted=len(completed) + len(overdue),
        overdue_open=len(overdue),
        last_completed_at=last_completed_at,
        next_due_at=next_due_at,
    )
