"""What a report holds: its period and one frozen section per subject, gathered by ``gather.py``
and written out by ``markdown.py`` and ``html.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from watchkeeper.analytics.errors import DEFAULT_RULES, PatternRules
from watchkeeper.config.reports import ReportPeriod
from watchkeeper.incidents.stats import SeverityStats
from watchkeeper.procedures.stats import ProcedureStats
from watchkeeper.results import Status
from watchkeeper.views.series import Series

Period = ReportPeriod
"""How far back a report looks (daily 1d, weekly 7d, monthly 30d, quarterly 91d): a rolling window
ending now, compared with the one before. The config's enum, so schedules and reports share it."""


def comparison(period: Period) -> str:
    """Given a period, return how a change against the previous window reads: ``week over week``."""
    return _COMPARISONS[period]


_COMPARISONS = {
    Period.DAILY: "day over day",
    Period.WEEKLY: "week over week",
    Period.MONTHLY: "month over month",
    Period.QUARTERLY: "quarter over quarter",
}


class AnalysisKind(StrEnum):
    """The check kinds whose latest results a report reads by their measurement names."""

    LOG = "log"
    ERRORS = "errors"
    TREND = "trend"
    FORECAST = "forecast"
    SLO = "slo"


class Section(StrEnum):
    """A report's sections, in the order they are written."""

    SUMMARY = "Executive summary"
    UPTIME = "Uptime & latency per service"
    INCIDENTS = "Incidents"
    CHECKLISTS = "Checklists"
    BACKUPS = "Backups & restore tests"
    ERRORS = "Errors"
    TRENDS = "Trends"
    FORECASTS = "Forecasts"
    SLOS = "SLOs"
    ACTIONS = "Recommended actions"


EMPTY = "Nothing in this period."
"""What a section with no data says, rather than staying blank."""


class Urgency(StrEnum):
    """How soon a recommended action needs doing, most urgent first."""

    NOW = "now"
    SOON = "soon"
    PLAN = "plan"


@dataclass(frozen=True)
class Latency:
    """Mean and p95 latency in ms this period and the one before; changes are fractions (0.4 = +40%).

    Both are means of the rollup buckets' figures (their hourly or daily mean and p95).
    """

    avg_ms: float | None
    previous_avg_ms: float | None
    avg_change: float | None
    p95_ms: float | None
    previous_p95_ms: float | None
    p95_change: float | None


@dataclass(frozen=True)
class CheckFigures:
    """One check over the period: results, failures, uptime, latency and its chart series."""

    check: str
    kind: str
    status: Status | None
    count: int
    failures: int
    previous_count: int
    previous_failures: int
    latency: Latency
    chart: Series

    @property
    def uptime(self) -> float | None:
        """Return the share of results that were ok this period (None without results)."""
        return _ratio(self.count, self.failures)

    @property
    def previous_uptime(self) -> float | None:
        """Return the share of results that were ok the period before (None without results)."""
        return _ratio(self.previous_count, self.previous_failures)


@dataclass(frozen=True)
class ServiceFigures:
    """A service (a check without one is its own) and its checks' figures together."""

    service: str
    checks: tuple[CheckFigures, ...]

    @property
    def count(self) -> int:
        """Return how many results its checks had this period."""
        return sum(c.count for c in self.checks)

    @property
    def failures(self) -> int:
        """Return how many of them were not ok."""
        return sum(c.failures for c in self.checks)

    @property
    def uptime(self) -> float | None:
        """Return the share of its checks' results that were ok (None without results)."""
        return _ratio(self.count, self.failures)

    @property
    def previous_uptime(self) -> float | None:
        """Return the same share over the period before."""
        return _ratio(
            sum(c.previous_count for c in self.checks),
            sum(c.previous_failures for c in self.checks),
        )


@dataclass(frozen=True)
class Incidents:
    """Incidents opened in the period per severity (then overall), resolved in it, and before."""

    by_severity: tuple[SeverityStats, ...]
    overall: SeverityStats
    resolved: int
    previous_opened: int


@dataclass(frozen=True)
class BackupFigures:
    """One configured backup: its newest good copy, attempts and restore tests in the period."""

    backup: str
    last_good_at: datetime | None
    last_size: int | None
    kept: int
    kept_bytes: int
    last_failed: bool
    tests_passed: int
    tests_failed: int
    last_tested_at: datetime | None
    last_passed_at: datetime | None


@dataclass(frozen=True)
class TopError:
    """One kind of error a ``log`` or ``errors`` check counted (text and example masked)."""

    fingerprint: str
    text: str
    count: int
    example: str


@dataclass(frozen=True)
class ErrorFigures:
    """The latest result of a ``log`` or ``errors`` check."""

    check: str
    at: datetime
    error_count: int | None
    top: tuple[TopError, ...]
    new_types: tuple[str, ...]
    burst: bool
    verdict: str | None
    window: float | None
    """Seconds the check counted errors over, when its config says."""
    rules: PatternRules = DEFAULT_RULES
    """The check's own thresholds: recurring, escalate and burst counts."""


@dataclass(frozen=True)
class TrendFigures:
    """The latest result of a ``trend`` check; ``change_percent`` 40.0 is +40%."""

    check: str
    at: datetime
    change_percent: float | None
    current: float | None
    previous: float | None
    flagged: bool
    cv_percent: float | None
    measurement: str = ""
    """What the trend follows (``response_time``, ``failure_rate`` …), so its values read in
    their unit."""


@dataclass(frozen=True)
class ForecastFigures:
    """The latest result of a ``forecast`` check; times to the limit are seconds from its run."""

    check: str
    at: datetime
    time_to_limit: float | None
    earliest: float | None
    latest: float | None
    outlook: str | None
    model: str | None
    accuracy_mae: float | None


@dataclass(frozen=True)
class SloFigures:
    """The latest result of an ``slo`` check; ``sli`` and ``budget_remaining`` are percentages
    (99.95, 12.0), as the ``slo`` probe measures them."""

    check: str
    at: datetime
    sli: float | None
    budget_remaining: float | None
    fast_burn: bool
    slow_burn: bool
    met: bool | None


@dataclass(frozen=True)
class Action:
    """Something the data says to do, why, and how soon."""

    urgency: Urgency
    text: str
    reason: str


@dataclass(frozen=True)
class Report:
    """A report over [``since``, ``until``) (the previous window is as long and ends at ``since``)."""

    period: Period
    since: datetime
    until: datetime
    timezone: str
    title: str
    summary: str
    status: Status
    services: tuple[ServiceFigures, ...]
    incidents: Incidents
    procedures: tuple[ProcedureStats, ...]
    backups: tuple[BackupFigures, ...]
    errors: tuple[ErrorFigures, ...]
    trends: tuple[TrendFigures, ...]
    forecasts: tuple[ForecastFigures, ...]
    slos: tuple[SloFigures, ...]
    actions: tuple[Action, ...]

    @property
    def checks(self) -> tuple[CheckFigures, ...]:
        """Return every check's figures, service by service."""
        return tuple(c for s in self.services for c in s.checks)


def _ratio(count: int, failures: int) -> float | None:
    return None if count == 0 else (count - failures) / count
