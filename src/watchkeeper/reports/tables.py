"""A report laid out as sections of paragraphs and tables of plain text, in order: what both the
Markdown and the HTML writers render (each escaping the text its own way)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from watchkeeper.engine.evaluator import format_value
from watchkeeper.reports.formats import (
    DASH,
    change,
    ms,
    number,
    percent,
    size,
    span_words,
    spark,
    when,
)
from watchkeeper.reports.model import EMPTY, CheckFigures, Report, Section, comparison
from watchkeeper.web.pages.charts import bins

SPARK_SLOTS = 24


@dataclass(frozen=True)
class Table:
    """Rows of cells under headers, with an optional caption above."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str | None = None


@dataclass(frozen=True)
class Part:
    """One section: its paragraphs, then its tables; ``charts`` names checks to draw (HTML)."""

    section: Section
    paragraphs: tuple[str, ...]
    tables: tuple[Table, ...] = ()
    charts: tuple[CheckFigures, ...] = ()


def parts(report: Report) -> list[Part]:
    """Given a report, return its sections in order; a section without data says so."""
    tz = ZoneInfo(report.timezone)
    found = [
        Part(Section.SUMMARY, tuple(report.summary.splitlines())),
        _uptime(report),
        _incidents(report),
        _checklists(report, tz),
        _backups(report, tz),
        _errors(report, tz),
        _trends(report),
        _forecasts(report, tz),
        _slos(report, tz),
        Part(
            Section.ACTIONS,
            tuple(f"{a.text} \N{EM DASH} {a.reason} ({a.urgency.value})" for a in report.actions),
        ),
    ]
    return [p if p.paragraphs or p.tables else Part(p.section, (EMPTY,)) for p in found]


def latency_spark(figures: CheckFigures) -> str:
    """Given a check's figures, return its mean latency over the period as a Unicode sparkline."""
    return spark([b.avg_ms if b.count else None for b in bins(figures.chart, SPARK_SLOTS)])


def _uptime(report: Report) -> Part:
    checked = [s for s in report.services if s.count or any(c.previous_count for c in s.checks)]
    if not checked:
        return Part(Section.UPTIME, ())
    services = Table(
        ("Service", "Uptime", "Previous period", "Failed results", "Results"),
        tuple(
            (
                s.service,
                percent(s.uptime),
                percent(s.previous_uptime),
                str(s.failures),
                str(s.count),
            )
            for s in checked
        ),
    )
    rows = tuple(
        (
            c.check,
            service.service,
            c.status.value if c.status else DASH,
            percent(c.uptime),
            str(c.failures),
            ms(c.latency.avg_ms),
            ms(c.latency.p95_ms),
            ms(c.latency.previous_p95_ms),
            change(c.latency.p95_change),
            latency_spark(c),
        )
        for service in checked
        for c in service.checks
    )
    checks = Table(
        (
            "Check",
            "Service",
            "Status",
            "Uptime",
            "Failed",
            "Mean latency",
            "p95",
            "Previous p95",
            "p95 change",
            "Latency",
        ),
        rows,
    )
    charts = tuple(c for s in checked for c in s.checks if c.chart.points)
    days = report.period.span.days
    span = f"{days} day{'' if days == 1 else 's'}"
    return Part(
        Section.UPTIME,
        (f"Each check over the last {span}, against the {span} before.",),
        (services, checks),
        charts,
    )


def _incidents(report: Report) -> Part:
    found = report.incidents
    overall = found.overall
    if not overall.opened and not found.resolved:
        return Part(Section.INCIDENTS, ())
    line = (
        f"Opened {overall.opened} (previous period {found.previous_opened}), "
        f"resolved {found.resolved}, still open {overall.still_open}."
    )
    rows = tuple(
        (
            s.severity or "all",
            str(s.opened),
            span_words(s.mtta),
            span_words(s.mttr),
            str(s.response_breaches),
            str(s.status_update_breaches),
            str(s.still_open),
        )
        for s in (*found.by_severity, overall)
    )
    headers = ("Severity", "Opened", "MTTA", "MTTR", "Response SLA breaches", "Update SLA breaches")
    return Part(Section.INCIDENTS, (line,), (Table((*headers, "Still open"), rows),))


def _checklists(report: Report, tz: ZoneInfo) -> Part:
    procedures = [p for p in report.procedures if p.procedure is not None and p.runs]
    if not procedures:
        return Part(Section.CHECKLISTS, ())
    overall = report.procedures[-1]
    rows = tuple(
        (
            p.title,
            str(p.runs),
            str(p.completed),
            percent(p.completion_rate),
            percent(p.on_time_rate),
            str(p.overdue_open),
            when(p.last_completed_at, tz),
            when(p.next_due_at, tz),
        )
        for p in procedures
    )
    headers = ("Procedure", "Runs", "Completed", "Completion", "On time", "Overdue")
    return Part(
        Section.CHECKLISTS,
        (f"Completion over all procedures: {percent(overall.completion_rate)} (target 99%).",),
        (Table((*headers, "Last completed", "Next due"), rows),),
    )


def _backups(report: Report, tz: ZoneInfo) -> Part:
    if not report.backups:
        return Part(Section.BACKUPS, ())
    rows = tuple(
        (
            b.backup,
            when(b.last_good_at, tz),
            size(b.last_size),
            f"{b.kept} ({size(b.kept_bytes)})",
            "failed" if b.last_failed else "ok",
            str(b.tests_passed),
            str(b.tests_failed),
            when(b.last_passed_at, tz),
        )
        for b in report.backups
    )
    headers = ("Backup", "Last good copy", "Size", "Kept", "Last attempt", "Restore tests passed")
    return Part(
        Section.BACKUPS,
        (),
        (Table((*headers, "Restore tests failed", "Last passed test"), rows),),
    )


def _errors(report: Report, tz: ZoneInfo) -> Part:
    tables = []
    for e in report.errors:
        flags = [f"verdict {e.verdict}"] if e.verdict else []
        flags += ["burst"] if e.burst else []
        flags += [f"new: {', '.join(e.new_types)}"] if e.new_types else []
        total = DASH if e.error_count is None else str(e.error_count)
        caption = f"{e.check} at {when(e.at, tz)}: {total} errors" + "".join(
            f"; {flag}" for flag in flags
        )
        rows = tuple((t.fingerprint, str(t.count), t.text, t.example) for t in e.top)
        tables.append(Table(("Fingerprint", "Count", "Error", "Example"), rows, caption))
    return Part(Section.ERRORS, (), tuple(tables))


def _trends(report: Report) -> Part:
    tables = []
    if report.trends:
        rows = tuple(
            (
                t.check,
                _value(t.measurement, t.current),
                _value(t.measurement, t.previous),
                DASH if t.change_percent is None else f"{t.change_percent:+.0f}%",
                DASH if t.cv_percent is None else f"{t.cv_percent:.1f}%",
                "yes" if t.flagged else "no",
            )
            for t in report.trends
        )
        headers = ("Trend", "Current", "Previous", "Change", "Variation (CV)", "Flagged")
        tables.append(Table(headers, rows))
    latency = tuple(_latency_rows(report))
    if latency:
        columns = ("Check", "Mean", "Previous mean", "Change", "p95", "Previous p95", "Change")
        tables.append(Table(columns, latency, f"Latency {comparison(report.period)}"))
    return Part(Section.TRENDS, (), tuple(tables))


def _value(measurement: str, value: float | None) -> str:
    """Given a trend's measurement and one of its values, return the value in its unit."""
    return DASH if value is None else format_value(measurement, value)


def _budget(left: float | None) -> str:
    """Given the percent of an error budget left, return it; below zero it is overspent."""
    if left is None:
        return DASH
    return f"{left:.0f}%" if left >= 0 else f"none: spent {1 - left / 100:,.0f} times over"


def _latency_rows(report: Report) -> Iterator[tuple[str, ...]]:
    for c in report.checks:
        lat = c.latency
        if lat.avg_change is not None or lat.p95_change is not None:
            yield (
                c.check,
                ms(lat.avg_ms),
                ms(lat.previous_avg_ms),
                change(lat.avg_change),
                ms(lat.p95_ms),
                ms(lat.previous_p95_ms),
                change(lat.p95_change),
            )


def _forecasts(report: Report, tz: ZoneInfo) -> Part:
    if not report.forecasts:
        return Part(Section.FORECASTS, ())
    rows = tuple(
        (
            f.check,
            span_words(f.time_to_limit) if f.time_to_limit is not None else "not in sight",
            span_words(f.earliest),
            span_words(f.latest),
            f.outlook or DASH,
            f.model or DASH,
            number(f.accuracy_mae),
            when(f.at, tz),
        )
        for f in report.forecasts
    )
    headers = ("Forecast", "Limit in", "Earliest", "Latest", "Outlook", "Model", "Last MAE")
    return Part(Section.FORECASTS, (), (Table((*headers, "As of"), rows),))


def _slos(report: Report, tz: ZoneInfo) -> Part:
    if not report.slos:
        return Part(Section.SLOS, ())
    rows = tuple(
        (
            s.check,
            DASH if s.sli is None else f"{s.sli:.3f}%",
            _budget(s.budget_remaining),
            "yes" if s.fast_burn else "no",
            "yes" if s.slow_burn else "no",
            DASH if s.met is None else ("yes" if s.met else "no"),
            when(s.at, tz),
        )
        for s in report.slos
    )
    headers = ("SLO", "SLI", "Budget left", "Fast burn", "Slow burn", "Met", "As of")
    return Part(Section.SLOS, (), (Table(headers, rows),))
