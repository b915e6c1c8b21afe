"""The read side every interface shares: checks with their state, the executive summary, history."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from watchkeeper.alerting import queries
from watchkeeper.alerting.model import Labels, Severity
from watchkeeper.alerting.queries import AlertRow
from watchkeeper.alerting.silences import Silence, active_silence
from watchkeeper.config.schema import Check, Config
from watchkeeper.config.units import format_duration
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store
from watchkeeper.views.series import Series, read_series
from watchkeeper.views.uptime import WINDOWS, Tally, Uptime, read_day_bars, read_uptime

log = logging.getLogger("watchkeeper.views")


class Overall(StrEnum):
    """The one-word answer to "how are we?" at the top of the dashboard."""

    HEALTHY = "healthy"
    AT_RISK = "at_risk"
    CRITICAL = "critical"


OVERALL_RULE = (
    "critical: a check is critical or in error, or a critical alert is firing; "
    "at_risk: a check is warning or has no result yet, or a warning alert is firing; "
    "healthy: every enabled check is ok"
)


@dataclass
class CheckView:
    """A configured check with its newest result, uptime and whether a silence mutes it."""

    check: Check
    schedule: str
    latest: Result | None
    uptime: Uptime
    silenced_by: Silence | None = None

    @property
    def name(self) -> str:
        """Return the check's name."""
        return self.check.name

    @property
    def state(self) -> str:
        """Return the latest status, ``pending`` before the first result, ``disabled`` if off."""
        if not self.check.enabled:
            return "disabled"
        return self.latest.status.value if self.latest else "pending"


@dataclass
class ServiceCard:
    """One service's checks rolled into a card."""

    name: str
    overall: Overall
    checks: int
    failing: list[str]
    uptime: dict[str, float | None]


@dataclass
class Overview:
    """The executive summary."""

    overall: Overall
    reasons: list[str]
    counts: dict[str, int]
    firing: dict[str, int]
    errors_24h: int
    uptime: dict[str, float | None]
    services: list[ServiceCard] = field(default_factory=list)
    rule: str = OVERALL_RULE


STATUS_DAYS = 90
_T = TypeVar("_T")


class Cached(Generic[_T]):
    """A value read once, then served while a background thread reads it again when stale.

    Pages never wait for a refresh, so the read's cost shows once at start, not in every p95.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._value: tuple[float, _T] | None = None
        self._refreshing = False

    def get(self, read: Callable[[], _T]) -> _T:
        """Return the value, reading it now if there is none yet (or always, with no ``ttl``)."""
        if self.ttl <= 0:
            return read()
        with self._lock:
            value = self._value
            if value is None:
                self._value = (time.monotonic(), read())
                return self._value[1]
            if time.monotonic() - value[0] >= self.ttl and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh, args=(read,), daemon=True).start()
            return value[1]

    def _refresh(self, read: Callable[[], _T]) -> None:
        try:
            fresh = read()
        except Exception:
            log.exception("cannot refresh the dashboard's figures; showing the last ones")
            fresh = None
        with self._lock:
            if fresh is not None:
                self._value = (time.monotonic(), fresh)
            self._refreshing = False


class Dashboard:
    """Reads for the pages, the API and /metrics; uptime is cached for ``ttl`` seconds."""

    def __init__(self, store: Store, config: Callable[[], Config], ttl: float = 10.0) -> None:
        self.store = store
        self._config = config
        self._uptime: Cached[dict[str, Uptime]] = Cached(ttl)
        self._bars: Cached[dict[str, list[Tally]]] = Cached(max(ttl, 60.0))

    @property
    def config(self) -> Config:
        """Return the config in force now (it changes on reload)."""
        return self._config()

    def uptime(self, now: datetime) -> dict[str, Uptime]:
        """Return every check's uptime: read once, then refreshed in the background when stale."""
        return self._uptime.get(lambda: self._read(read_uptime, now, self._names()))

    def day_bars(self, now: datetime) -> dict[str, list[Tally]]:
        """Return every check's per-day tallies over the status page's days, today last."""
        return self._bars.get(lambda: self._read(read_day_bars, now, STATUS_DAYS, self._names()))

    def checks(self, now: datetime) -> list[CheckView]:
        """Return every configured check with its state, in config order."""
        latest = self.store.latest()
        return self._views(self.config.checks, latest, now)

    def check(self, name: str, now: datetime) -> CheckView | None:
        """Return one check's view, or None if no check has that name."""
        check = next((c for c in self.config.checks if c.name == name), None)
        if check is None:
            return None
        return self._views([check], self.store.latest(name), now)[0]

    def _views(
        self, checks: Iterable[Check], latest: dict[str, Result], now: datetime
    ) -> list[CheckView]:
        config = self.config
        uptime = self.uptime(now)
        with self.store.engine.connect() as connection:
            silences = queries.active_silences(connection, now)
        views = []
        for check in checks:
            result = latest.get(check.name)
            severity = (result and Severity.of(result.status)) or Severity.CRITICAL
            labels = Labels(check.name, check.service, check.tags, severity, check.kind)
            views.append(
                CheckView(
                    check=check,
                    schedule=check.schedule
                    or f"every {format_duration(check.interval or config.defaults.interval)}",
                    latest=result,
                    uptime=uptime.get(check.name) or Uptime(),
                    silenced_by=active_silence(silences, labels, now) if silences else None,
                )
            )
        return views

    def _names(self) -> list[str]:
        return [c.name for c in self.config.checks]

    def _read(self, reader: Callable[..., _T], *args: Any) -> _T:
        with self.store.engine.connect() as connection:
            return reader(connection, *args)

    def overview(self, now: datetime, views: list[CheckView] | None = None) -> Overview:
        """Return the executive summary: the overall state, why, and a card per service."""
        views = self.checks(now) if views is None else views
        firing = self.firing()
        by_severity = {s.value: sum(1 for a in firing if a.severity is s) for s in Severity}
        overall, reasons = _judge([v for v in views if v.check.enabled], by_severity)
        counts = {s: 0 for s in ("ok", "warning", "critical", "error", "pending", "disabled")}
        for view in views:
            counts[view.state] += 1
        services: dict[str, list[CheckView]] = {}
        for view in views:
            services.setdefault(view.check.service or "other", []).append(view)
        cards = []
        for name, members in sorted(services.items()):
            enabled = [v for v in members if v.check.enabled]
            service_alerts = [a for a in firing if (a.service or "other") == name]
            state, _ = _judge(
                enabled,
                {s.value: sum(1 for a in service_alerts if a.severity is s) for s in Severity},
            )
            cards.append(
                ServiceCard(
                    name=name,
                    overall=state,
                    checks=len(members),
                    failing=[v.name for v in enabled if v.latest and v.latest.status.failing],
                    uptime=_combined(members),
                )
            )
        return Overview(
            overall=overall,
            reasons=reasons,
            counts=counts,
            firing=by_severity,
            errors_24h=sum(v.uptime.windows["24h"].failures for v in views),
            uptime=_combined(views),
            services=cards,
        )

    def firing(self) -> list[AlertRow]:
        """Return the alerts firing now."""
        with self.store.engine.connect() as connection:
            return queries.firing_alerts(connection)

    def recent_alerts(self, since: datetime) -> list[AlertRow]:
        """Return alerts firing now or fired or resolved since ``since``."""
        with self.store.engine.connect() as connection:
            return queries.recent_alerts(connection, since)

    def alert_history(self, check: str, limit: int = 20) -> list[AlertRow]:
        """Return the check's newest alerts."""
        with self.store.engine.connect() as connection:
            return queries.alerts_for_check(connection, check, limit)

    def silences(self, now: datetime) -> list[Silence]:
        """Return silences in force or still to come."""
        with self.store.engine.connect() as connection:
            return queries.all_silences(connection, now)

    def series(self, check: str, since: datetime, until: datetime) -> Series:
        """Return the check's chart points over a range."""
        with self.store.engine.connect() as connection:
            return read_series(connection, check, since, until)


def _judge(views: list[CheckView], firing: dict[str, int]) -> tuple[Overall, list[str]]:
    bad = [v.name for v in views if v.latest and v.latest.status in (Status.CRITICAL, Status.ERROR)]
    warn = [v.name for v in views if v.latest and v.latest.status is Status.WARNING]
    waiting = [v.name for v in views if v.latest is None]
    reasons = []
    if bad:
        reasons.append(f"{len(bad)} critical or in error: {', '.join(bad[:5])}")
    if firing.get("critical"):
        reasons.append(_firing(firing["critical"], "critical"))
    if bad or firing.get("critical"):
        return Overall.CRITICAL, reasons
    if warn:
        reasons.append(f"{len(warn)} warning: {', '.join(warn[:5])}")
    if waiting:
        reasons.append(f"{len(waiting)} without a result yet: {', '.join(waiting[:5])}")
    if firing.get("warning"):
        reasons.append(_firing(firing["warning"], "warning"))
    if reasons:
        return Overall.AT_RISK, reasons
    return Overall.HEALTHY, ["every enabled check is ok"]


def _combined(views: list[CheckView]) -> dict[str, float | None]:
    """Return the share of ok results of all these checks together, per window."""
    combined = {}
    for window in WINDOWS:
        total = Tally()
        for view in views:
            tally = view.uptime.windows[window]
            total.add(tally.count, tally.failures)
        combined[window] = total.ratio
    return combined


def _firing(count: int, severity: str) -> str:
    return f"{count} {severity} alert{'s' if count != 1 else ''} firing"
