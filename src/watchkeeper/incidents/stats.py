"""Incident figures over a period, per severity: how many, how fast answered and fixed, SLA breaches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, select

from watchkeeper.incidents.model import IncidentState
from watchkeeper.store.tables import incidents


@dataclass(frozen=True)
class SeverityStats:
    """Figures for the incidents of one severity (``None``: every severity) opened in a period.

    ``mtta`` is the mean time to the first response (acknowledgement, else mitigation, else
    resolution), ``mttr`` the mean time to resolution, both in seconds; None when nothing counts.
    """

    severity: str | None
    opened: int
    mtta: float | None
    mttr: float | None
    response_breaches: int
    status_update_breaches: int
    still_open: int


def incident_stats(connection: Connection, since: datetime, until: datetime) -> list[SeverityStats]:
    """Return figures per severity for incidents opened in [since, until), then every severity's.

    Summed in the database, per severity: the dashboard asks on every refresh, and a month of an
    alert storm's incidents should not come back row by row.
    """
    opened = incidents.c.opened_at
    responded = func.coalesce(
        incidents.c.acknowledged_at, incidents.c.mitigated_at, incidents.c.resolved_at
    )
    seconds = _seconds_between(connection.dialect.name)
    active = [state.value for state in IncidentState if state.active]
    query = (
        select(
            incidents.c.severity,
            func.count(),
            func.count(responded),
            func.sum(seconds(opened, responded)),
            func.count(incidents.c.resolved_at),
            func.sum(seconds(opened, incidents.c.resolved_at)),
            func.count(incidents.c.response_breached_at),
            func.count(incidents.c.status_update_breached_at),
            func.sum(case((incidents.c.state.in_(active), 1), else_=0)),
        )
        .where(opened >= since, opened < until)
        .group_by(incidents.c.severity)
        .order_by(incidents.c.severity)
    )
    sums = [_Sums(row[0], *(float(v or 0) for v in row[1:])) for row in connection.execute(query)]
    overall = _Sums(None, *(sum(getattr(s, f) for s in sums) for f in _Sums.FIGURES))
    return [s.stats() for s in [*sums, overall]]


@dataclass(frozen=True)
class _Sums:
    """What the database summed for one severity (None: all), turned into means by ``stats``."""

    FIGURES = (
        "opened",
        "responded",
        "to_respond",
        "resolved",
        "to_resolve",
        "response_breaches",
        "status_update_breaches",
        "still_open",
    )

    severity: str | None
    opened: float
    responded: float
    to_respond: float
    resolved: float
    to_resolve: float
    response_breaches: float
    status_update_breaches: float
    still_open: float

    def stats(self) -> SeverityStats:
        return SeverityStats(
            severity=self.severity,
            opened=int(self.opened),
            mtta=_mean(self.to_respond, self.responded),
            mttr=_mean(self.to_resolve, self.resolved),
            response_breaches=int(self.response_breaches),
            status_update_breaches=int(self.status_update_breaches),
            still_open=int(self.still_open),
        )


def _mean(total: float, count: float) -> float | None:
    # To the millisecond: SQLite's julianday arithmetic is off by microseconds.
    return round(total / count, 3) if count else None


def _seconds_between(dialect: str) -> Callable[[Any, Any], ColumnElement[Any]]:
    """Return how this database says "seconds from a to b" for two timestamp columns."""
    if dialect == "postgresql":
        return lambda a, b: func.extract("epoch", b - a)
    # SQLite keeps timestamps as ISO text in UTC; julianday reads them in days.
    return lambda a, b: (func.julianday(b) - func.julianday(a)) * 86400.0
