"""Prometheus ``/metrics``: per-check status and latency, firing alerts, scheduler lag, outbox depth,
incidents, checklists and backups.

Figures are read from the store at scrape time by a custom collector, so they are always those
the dashboard shows, and nothing is kept twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from watchkeeper.alerting import outbox
from watchkeeper.alerting.model import Severity
from watchkeeper.auth.model import Role
from watchkeeper.backups.status import backup_statuses
from watchkeeper.backups.verify import VerifyOutcome
from watchkeeper.checklists.runs import overdue_count
from watchkeeper.incidents.records import active_by_severity
from watchkeeper.service import Watchkeeper
from watchkeeper.views.dashboard import Dashboard
from watchkeeper.web.security import require

router = APIRouter(include_in_schema=False)
STATUS_VALUE = {"ok": 0, "warning": 1, "critical": 2, "error": 3}


class WatchkeeperCollector(Collector):
    """Reads the figures of one running Watchkeeper on each scrape."""

    def __init__(self, wk: Watchkeeper, board: Dashboard) -> None:
        self.wk = wk
        self.board = board

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family."""
        labels = ["check", "service", "kind"]
        status = GaugeMetricFamily(
            "watchkeeper_check_status",
            "Latest result: 0 ok, 1 warning, 2 critical, 3 error",
            labels=labels,
        )
        up = GaugeMetricFamily(
            "watchkeeper_check_up", "1 if the latest result is ok", labels=labels
        )
        duration = GaugeMetricFamily(
            "watchkeeper_check_duration_seconds", "Duration of the latest run", labels=labels
        )
        last_run = GaugeMetricFamily(
            "watchkeeper_check_last_run_timestamp_seconds",
            "When the latest run started (Unix time)",
            labels=labels,
        )
        uptime = GaugeMetricFamily(
            "watchkeeper_check_uptime_ratio",
            "Share of ok results over the window",
            labels=[*labels, "window"],
        )
        for view in self.board.checks(datetime.now(UTC)):
            values = [view.name, view.check.service or "", view.check.kind]
            for window in view.uptime.windows:
                ratio = view.uptime.ratio(window)
                if ratio is not None:
                    uptime.add_metric([*values, window], ratio)
            if view.latest is None:
                continue
            status.add_metric(values, STATUS_VALUE[view.latest.status.value])
            up.add_metric(values, 0 if view.latest.status.failing else 1)
            duration.add_metric(values, view.latest.duration_ms / 1000)
            last_run.add_metric(values, view.latest.started_at.timestamp())
        yield from (status, up, duration, last_run, uptime)

        firing = GaugeMetricFamily(
            "watchkeeper_alerts_firing", "Alerts firing now", labels=["severity"]
        )
        alerts = self.board.firing()
        for severity in Severity:
            firing.add_metric([severity.value], sum(1 for a in alerts if a.severity is severity))
        yield firing
        yield from self._operations()
        yield from self._backups()

        lag = GaugeMetricFamily(
            "watchkeeper_scheduler_lag_seconds",
            "How late checks started, over recent starts",
            labels=["quantile"],
        )
        for q in (0.5, 0.99):
            lag.add_metric([str(q)], self.wk.scheduler.lag.percentile_ms(q * 100) / 1000)
        yield lag
        yield GaugeMetricFamily(
            "watchkeeper_outbox_pending",
            "Messages waiting to be delivered",
            value=outbox.waiting_count(self.board.store.engine),
        )
        yield GaugeMetricFamily(
            "watchkeeper_results_pending_writes",
            "Results taken but not yet written to the store",
            value=self.wk.writer.pending,
        )
        yield GaugeMetricFamily(
            "watchkeeper_checks", "Checks scheduled", value=len(self.wk.scheduler.plans)
        )

    def _operations(self) -> Iterator[Metric]:
        """Yield the incident and checklist figures: what needs people now."""
        with self.board.store.engine.connect() as connection:
            active = active_by_severity(connection)
            overdue = overdue_count(connection, datetime.now(UTC))
        incidents = GaugeMetricFamily(
            "watchkeeper_incidents_open", "Incidents not yet resolved", labels=["severity"]
        )
        for severity in dict.fromkeys([*self.wk.config.incidents.severities, *active]):
            incidents.add_metric([severity], active.get(severity, 0))
        yield incidents
        yield GaugeMetricFamily(
            "watchkeeper_checklist_runs_overdue",
            "Checklist runs still open past their due time",
            value=overdue,
        )

    def _backups(self) -> Iterator[Metric]:
        """Yield each configured backup's figures: its newest copy, last attempt and restore test."""
        label = ["backup"]
        families = {
            "success": GaugeMetricFamily(
                "watchkeeper_backup_last_success_timestamp_seconds",
                "When the newest good backup finished (Unix time)",
                labels=label,
            ),
            "size": GaugeMetricFamily(
                "watchkeeper_backup_size_bytes", "Size of the newest good backup", labels=label
            ),
            "kept": GaugeMetricFamily(
                "watchkeeper_backup_kept", "Good backups kept (not pruned)", labels=label
            ),
            "kept_bytes": GaugeMetricFamily(
                "watchkeeper_backup_kept_bytes", "Bytes of the good backups kept", labels=label
            ),
            "failed": GaugeMetricFamily(
                "watchkeeper_backup_last_attempt_failed",
                "1 if the latest attempt to take a backup failed",
                labels=label,
            ),
            "verified": GaugeMetricFamily(
                "watchkeeper_backup_last_verify_passed",
                "1 if the latest restore test passed, 0 if it failed",
                labels=label,
            ),
            "verified_at": GaugeMetricFamily(
                "watchkeeper_backup_last_verify_timestamp_seconds",
                "When the latest restore test ran (Unix time)",
                labels=label,
            ),
            "restore": GaugeMetricFamily(
                "watchkeeper_backup_restore_seconds",
                "How long the latest restore test's restore took",
                labels=label,
            ),
        }
        with self.board.store.engine.connect() as connection:
            statuses = backup_statuses(connection, [b.name for b in self.wk.config.backups])
        for status in statuses.values():
            name = [status.name]
            families["kept"].add_metric(name, status.kept)
            families["kept_bytes"].add_metric(name, status.kept_bytes)
            families["failed"].add_metric(name, 1 if status.last_failed else 0)
            if status.newest is not None:
                families["success"].add_metric(name, status.newest.finished_at.timestamp())
                families["size"].add_metric(name, status.newest.size or 0)
            verified = status.last_verification
            if verified is not None:
                passed = verified.outcome is VerifyOutcome.PASSED
                families["verified"].add_metric(name, 1 if passed else 0)
                families["verified_at"].add_metric(name, verified.at.timestamp())
                if verified.restore_seconds is not None:
                    families["restore"].add_metric(name, verified.restore_seconds)
        yield from families.values()


_viewer = require(Role.VIEWER)


async def _metrics_access(request: Request) -> None:
    if request.app.state.dashboard.config.server.public_metrics:
        return
    await _viewer(request)


@router.get("/metrics", dependencies=[Depends(_metrics_access)])
def metrics(request: Request) -> Response:
    """The Prometheus exposition of this Watchkeeper's figures."""
    return Response(
        generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST
    )


def registry_for(wk: Watchkeeper, board: Dashboard) -> CollectorRegistry:
    """Return a registry holding only this Watchkeeper's collector (not the process-wide default)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WatchkeeperCollector(wk, board))
    return registry
