"""Incident figures over a period, per severity: how many, how fast answered and fixed, SLA breaches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

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
    """Return figures per severity for incidents opened in [since, until), then every severity's."""
    query = select(
        incidents.c.severity,
        incidents.c.state,
        incidents.c.opened_at,
        incidents.c.acknowledged_at,
        incidents.c.mitigated_at,
        incidents.c.resolved_at,
        incidents.c.response_breached_at,
        incidents.c.status_update_breached_at,
    ).where(incidents.c.opened_at >= since, incidents.c.opened_at < until)
    rows = list(connection.execute(query))
    by_severity: dict[str, list[Any]] = {}
    for row in rows:
        by_severity.setdefault(row.severity, []).append(row)
    figures = [_figures(name, by_severity[name]) for name in sorted(by_severity)]
    return [*figures, _figures(None, rows)]


def _figures(severity: str | None, rows: Sequence[Any]) -> SeverityStats:
    to_respond: list[float] = []
    to_resolve: list[float] = []
    for row in rows:
        responded = row.acknowledged_at or row.mitigated_at or row.resolved_at
        if responded is not None:
            to_respond.append((responded - row.opened_at).total_seconds())
        if row.resolved_at is not None:
            to_resolve.append((row.resolved_at - row.opened_at).total_seconds())
    return SeverityStats(
        severity=severity,
        opened=len(rows),
        mtta=_mean(to_respond),
        mttr=_mean(to_resolve),
        response_breaches=sum(r.response_breached_at is not None for r in rows),
        status_update_breaches=sum(r.status_update_breached_at is not None for r in rows),
        still_open=sum(IncidentState(r.state).active for r in rows),
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
