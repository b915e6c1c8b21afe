"""Recommended actions: what a report's data says to do, most urgent first, each with its reason.

The thresholds are the maintenance guides' (errors over 5 in the window investigated, over 10
escalated, a +25% trend raised, restore tests monthly, uptime 99.9%).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from watchkeeper.analytics.series import DAY
from watchkeeper.analytics.trends import DEFAULT_THRESHOLD
from watchkeeper.reports.formats import percent, span_words
from watchkeeper.reports.model import Action, Report, Urgency, comparison

CAPACITY_HORIZON = 30 * DAY
"""A forecast reaching its limit within this many seconds asks for capacity planning."""
CAPACITY_URGENT = 7 * DAY
RESTORE_TEST_EVERY = timedelta(days=30)
"""The guides test a restore monthly."""
BUDGET_LOW = 25.0
"""Less of an SLO's error budget left than this many percent is worth an action."""
UPTIME_TARGET = 0.999

_ORDER = {urgency: rank for rank, urgency in enumerate(Urgency)}


def recommend(report: Report, now: datetime) -> tuple[Action, ...]:
    """Given a report's data and the time now, return the actions it calls for, most urgent first
    (in section order within an urgency); a healthy, empty period calls for none."""
    found = [
        *_errors(report),
        *_forecasts(report),
        *_slos(report),
        *_backups(report, now),
        *_uptime(report),
        *_latency(report),
        *_trends(report),
        *_incidents(report),
        *_procedures(report),
    ]
    return tuple(sorted(found, key=lambda a: _ORDER[a.urgency]))


def _errors(report: Report) -> Iterator[Action]:
    for figures in report.errors:
        rules = figures.rules
        window = f"in {span_words(figures.window)}" if figures.window else "in its window"
        if figures.burst:
            yield Action(
                Urgency.NOW,
                f"Investigate the error burst in {figures.check}",
                f"more than {rules.burst_over} errors within an hour",
            )
        for error in figures.top:
            if error.count > rules.escalate_over:
                reason = f"recurring, > {rules.escalate_over}: escalate"
                urgency = Urgency.NOW
            elif error.count > rules.recurring_over:
                reason = f"recurring, > {rules.recurring_over}: investigate"
                urgency = Urgency.SOON
            else:
                continue
            yield Action(
                urgency,
                f"Investigate “{_short(error.text or error.fingerprint)}”: {error.count} {window}",
                reason,
            )
        for kind in figures.new_types:
            yield Action(
                Urgency.SOON,
                f"Look into the new error “{_short(kind)}” in {figures.check}",
                "a kind of error not seen before",
            )


def _forecasts(report: Report) -> Iterator[Action]:
    for forecast in report.forecasts:
        left = forecast.time_to_limit
        if left is None or left > CAPACITY_HORIZON:
            continue
        yield Action(
            Urgency.NOW if left <= CAPACITY_URGENT else Urgency.SOON,
            f"Plan capacity for {forecast.check}: full in ~{_days(left)}",
            "forecast from its growth"
            + (f" (earliest ~{_days(forecast.earliest)})" if forecast.earliest is not None else ""),
        )


def _slos(report: Report) -> Iterator[Action]:
    for slo in report.slos:
        left = slo.budget_remaining
        if slo.fast_burn:
            reason = "burning its error budget fast"
        elif left is not None and left < BUDGET_LOW:
            reason = f"less than {BUDGET_LOW:.0f}% of the error budget left"
        elif slo.met is False:
            reason = "objective not met"
        else:
            continue
        budget = f": budget {max(left, 0.0):.0f}% left" if left is not None else ""
        yield Action(
            Urgency.NOW if slo.fast_burn or (left is not None and left <= 0) else Urgency.SOON,
            f"SLO {slo.check}{budget}",
            reason,
        )


def _backups(report: Report, now: datetime) -> Iterator[Action]:
    for backup in report.backups:
        if backup.last_good_at is None:
            yield Action(
                Urgency.NOW, f"Take backup {backup.backup}", "no good copy in the catalogue"
            )
            continue
        if backup.last_failed:
            yield Action(Urgency.NOW, f"Fix backup {backup.backup}", "its last attempt failed")
        if backup.tests_failed:
            yield Action(
                Urgency.NOW,
                f"Fix the restore of backup {backup.backup}",
                f"{backup.tests_failed} restore test(s) failed this period",
            )
        tested = backup.last_passed_at
        if tested is None:
            yield Action(
                Urgency.SOON, f"Restore-test backup {backup.backup}", "never restore-tested"
            )
        elif now - tested > RESTORE_TEST_EVERY:
            yield Action(
                Urgency.SOON,
                f"Restore-test backup {backup.backup}: last test {(now - tested).days} days ago",
                f"restore tests are due every {RESTORE_TEST_EVERY.days} days",
            )


def _uptime(report: Report) -> Iterator[Action]:
    for service in report.services:
        uptime = service.uptime
        if uptime is not None and uptime < UPTIME_TARGET:
            yield Action(
                Urgency.SOON,
                f"Review {service.service}: uptime {percent(uptime)}",
                f"below the {UPTIME_TARGET:.1%} target ({service.failures} failed "
                f"result{'' if service.failures == 1 else 's'})",
            )


def _latency(report: Report) -> Iterator[Action]:
    for check in report.checks:
        change = check.latency.p95_change
        if change is not None and change > DEFAULT_THRESHOLD:
            yield Action(
                Urgency.PLAN,
                f"{check.check} p95 up {change:.0%} {comparison(report.period)}",
                f"more than +{DEFAULT_THRESHOLD:.0%}",
            )


def _trends(report: Report) -> Iterator[Action]:
    for trend in report.trends:
        if trend.flagged:
            change = f" {trend.change_percent:+.0f}%" if trend.change_percent is not None else ""
            yield Action(Urgency.PLAN, f"Look into the trend of {trend.check}{change}", "flagged")


def _incidents(report: Report) -> Iterator[Action]:
    overall = report.incidents.overall
    breaches = overall.response_breaches + overall.status_update_breaches
    if breaches:
        yield Action(
            Urgency.SOON,
            f"Review {breaches} incident SLA breach(es)",
            "responses or status updates came late",
        )
    if overall.still_open:
        yield Action(
            Urgency.SOON,
            f"Close out {overall.still_open} open incident(s)",
            "opened this period and not resolved",
        )


def _procedures(report: Report) -> Iterator[Action]:
    for stats in report.procedures:
        if stats.procedure is not None and stats.overdue_open:
            yield Action(
                Urgency.SOON,
                f"Complete {stats.title}: {stats.overdue_open} of {stats.runs} runs overdue",
                "checklist runs past their due time",
            )


def _short(text: str, limit: int = 80) -> str:
    """Given an error's text, return it cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _days(seconds: float) -> str:
    days = seconds / DAY
    return f"{days:.0f} days" if days >= 1.5 else f"{span_words(seconds)}"
