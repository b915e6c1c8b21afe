"""Gathering a report: every section read from the store for one period, then the actions and
the summary derived from them."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from watchkeeper.analytics.series import aware
from watchkeeper.backups.status import backup_statuses
from watchkeeper.backups.verify import VerifyOutcome, recent_verifications
from watchkeeper.config.schema import Check, Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents.stats import incident_stats
from watchkeeper.procedures.stats import procedure_stats
from watchkeeper.reports.actions import recommend
from watchkeeper.reports.analyses import (
    analysis_kind,
    error_figures,
    forecast_figures,
    masker,
    slo_figures,
    trend_figures,
)
from watchkeeper.reports.checks import check_figures
from watchkeeper.reports.model import (
    AnalysisKind,
    BackupFigures,
    CheckFigures,
    Incidents,
    Period,
    Report,
    ServiceFigures,
)
from watchkeeper.reports.summary import overall_status, summarise, title_of
from watchkeeper.results import Result
from watchkeeper.store.store import Store
from watchkeeper.store.tables import incidents

_TESTS_READ = 10_000
"""Restore tests read per backup: far more than a quarter of daily tests."""

_MICROSECOND = timedelta(microseconds=1)

_JUDGES = {AnalysisKind.ERRORS, AnalysisKind.TREND, AnalysisKind.FORECAST, AnalysisKind.SLO}
"""Kinds that judge other checks' data: their own run time is no service's latency."""


def build_report(
    store: Store,
    config: Config,
    period: Period,
    now: datetime,
    *,
    secrets: Secrets | None = None,
) -> Report:
    """Given the store, the config, a period and the time now, return the report over the period
    ending now; ``secrets`` are redacted from every echoed text (errors' texts and examples)."""
    aware(now)
    since = now - period.span
    checks = config.checks
    # A report written late (after downtime) still describes its own period, not what came after.
    latest = _latest_as_of(store, now)
    mask = masker((secrets or Secrets()).redact)
    watched = [c for c in checks if analysis_kind(c) not in _JUDGES]
    with store.engine.connect() as connection:
        figures = check_figures(
            connection,
            [(c.name, c.kind) for c in watched],
            {name: result.status for name, result in latest.items()},
            since,
            now,
        )
        found_incidents = _incidents(connection, since, now, period)
        procedures = tuple(procedure_stats(connection, config, since, now, now))
        backups = _backups(connection, [b.name for b in config.backups], since)
    draft = Report(
        period=period,
        since=since,
        until=now,
        timezone=config.defaults.timezone,
        title=title_of(period, now.astimezone(ZoneInfo(config.defaults.timezone))),
        summary="",
        status=overall_status(latest, [c.name for c in checks if c.enabled]),
        services=_services(watched, figures),
        incidents=found_incidents,
        # The last row is every procedure together: the checklists section's overall completion.
        procedures=procedures,
        backups=backups,
        errors=tuple(
            error_figures(c, r, mask)
            for c, r in _latest_of(checks, latest, since, {AnalysisKind.LOG, AnalysisKind.ERRORS})
        ),
        trends=tuple(
            trend_figures(c, r) for c, r in _latest_of(checks, latest, since, {AnalysisKind.TREND})
        ),
        forecasts=tuple(
            forecast_figures(c, r)
            for c, r in _latest_of(checks, latest, since, {AnalysisKind.FORECAST})
        ),
        slos=tuple(
            slo_figures(c, r) for c, r in _latest_of(checks, latest, since, {AnalysisKind.SLO})
        ),
        actions=(),
    )
    with_actions = dataclasses.replace(draft, actions=recommend(draft, now))
    return dataclasses.replace(with_actions, summary=summarise(with_actions))


def _services(
    checks: Sequence[Check], figures: Sequence[CheckFigures]
) -> tuple[ServiceFigures, ...]:
    """Group the checks' figures by service (a check without one is its own), in config order."""
    by_name = {f.check: f for f in figures}
    grouped: dict[str, list[CheckFigures]] = {}
    for check in checks:
        grouped.setdefault(check.service or check.name, []).append(by_name[check.name])
    return tuple(ServiceFigures(service, tuple(found)) for service, found in grouped.items())


def _incidents(connection: Connection, since: datetime, now: datetime, period: Period) -> Incidents:
    stats = incident_stats(connection, since, now)
    resolved = connection.execute(
        select(func.count()).where(incidents.c.resolved_at >= since, incidents.c.resolved_at < now)
    ).scalar_one()
    previous = connection.execute(
        select(func.count()).where(
            incidents.c.opened_at >= since - period.span, incidents.c.opened_at < since
        )
    ).scalar_one()
    return Incidents(
        by_severity=tuple(stats[:-1]),
        overall=stats[-1],
        resolved=int(resolved),
        previous_opened=int(previous),
    )


def _backups(
    connection: Connection, names: Sequence[str], since: datetime
) -> tuple[BackupFigures, ...]:
    statuses = backup_statuses(connection, names)
    figures = []
    for name in names:
        status = statuses[name]
        tests = [t for t in recent_verifications(connection, name, _TESTS_READ) if t.at >= since]
        last_test = status.last_verification
        figures.append(
            BackupFigures(
                backup=name,
                last_good_at=status.newest.finished_at if status.newest else None,
                last_size=status.newest.size if status.newest else None,
                kept=status.kept,
                kept_bytes=status.kept_bytes,
                last_failed=status.last_failed,
                tests_passed=sum(t.outcome is VerifyOutcome.PASSED for t in tests),
                tests_failed=sum(t.outcome is VerifyOutcome.FAILED for t in tests),
                last_tested_at=last_test.at if last_test else None,
                last_passed_at=status.last_passed,
            )
        )
    return tuple(figures)


def _latest_of(
    checks: Sequence[Check],
    latest: dict[str, Result],
    since: datetime,
    kinds: set[AnalysisKind],
) -> list[tuple[Check, Result]]:
    """Return the checks of ``kinds`` with their latest result, when it is from the period."""
    return [
        (c, latest[c.name])
        for c in checks
        if analysis_kind(c) in kinds and c.name in latest and latest[c.name].started_at >= since
    ]


def _latest_as_of(store: Store, now: datetime) -> dict[str, Result]:
    """Return each check's newest result at or before ``now``: a report written late (a retry,
    a catch-up after downtime) describes its own period, not what came after it."""
    latest = {}
    for name, result in store.latest().items():
        if result.started_at <= now:
            latest[name] = result
            continue
        # Ran since: one index seek for its newest result before, where checks ran after `now`.
        before = store.history(name, until=now + _MICROSECOND, limit=1)
        if before:
            latest[name] = before[0]
    return latest
