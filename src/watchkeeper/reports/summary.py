"""A report's title and executive summary: overall status, what changed, what needs action, in a
few lines short enough for a chat message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from watchkeeper.reports.formats import change, percent
from watchkeeper.reports.model import Period, Report, comparison
from watchkeeper.results import Result, Status, worst


def title_of(period: Period, now: datetime) -> str:
    """Given a period and the time it ends, return the report's title."""
    return f"Watchkeeper {period.value} report, {now.strftime('%Y-%m-%d')}"


def overall_status(latest: dict[str, Result], checks: Sequence[str]) -> Status:
    """Given the latest results and the checks that count, return the worst of their statuses."""
    return worst([latest[name].status for name in checks if name in latest])


def summarise(report: Report) -> str:
    """Given a report with its actions, return its summary: three or four lines of plain text."""
    count = sum(s.count for s in report.services)
    failures = sum(s.failures for s in report.services)
    previous_count = sum(c.previous_count for c in report.checks)
    previous_failures = sum(c.previous_failures for c in report.checks)
    uptime = None if count == 0 else (count - failures) / count
    before = None if previous_count == 0 else (previous_count - previous_failures) / previous_count
    # With no result in the period, "OK" would claim what nothing measured.
    status = report.status.value.upper() if count else "NO RESULTS YET"
    lines = [
        f"Status: {status}; uptime {percent(uptime)} "
        f"(previous period {percent(before)}) over {len(report.checks)} checks."
    ]
    changed = [
        f"incidents opened {report.incidents.overall.opened} "
        f"(previous period {report.incidents.previous_opened})"
    ]
    moved = [c for c in report.checks if c.latency.p95_change is not None]
    if moved:
        biggest = max(moved, key=lambda c: abs(c.latency.p95_change or 0.0))
        changed.append(
            f"largest p95 change {biggest.check} {change(biggest.latency.p95_change)} "
            f"{comparison(report.period)}"
        )
    lines.append("Changed: " + "; ".join(changed) + ".")
    if report.actions:
        first = report.actions[0]
        lines.append(f"Needs action: {len(report.actions)}, first: {first.text} ({first.reason}).")
    else:
        lines.append("Needs action: nothing.")
    return "\n".join(lines)
