"""A report as one self-contained HTML page: inline CSS, inline SVG charts, no scripts, no
external assets, every user-supplied text escaped by Jinja2's autoescape."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from watchkeeper.reports.formats import when
from watchkeeper.reports.model import EMPTY, CheckFigures, Report
from watchkeeper.reports.tables import parts
from watchkeeper.store.rollups import Resolution
from watchkeeper.web.pages.charts import latency_chart, status_strip

CHART_SLICES = 90
"""Slices per chart: enough to see a day's shape in a week, small enough for 200 checks."""

_BUCKET = {Resolution.HOUR.value: timedelta(hours=1), Resolution.DAY.value: timedelta(days=1)}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("watchkeeper.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def to_html(report: Report) -> str:
    """Given a report, return it as one HTML page with its sections in order and latency charts."""
    tz = ZoneInfo(report.timezone)

    def chart(figures: CheckFigures) -> Markup:
        series = figures.chart
        if series.points and series.points[0].start > series.since:
            # Watched for less than the period (a new check, a new install): chart what there is,
            # not a week of blank with a dot at its end.
            series = dataclasses.replace(series, since=series.points[0].start)
        # No more slices than buckets: an empty slice between every two is a gap, not a chart.
        buckets = (series.until - series.since) / _BUCKET.get(series.resolution, timedelta(hours=1))
        slices = max(1, min(CHART_SLICES, max(int(buckets), len(series.points))))
        return latency_chart(series, tz, slices) + status_strip(series, tz, slices)

    return _ENV.get_template("report.html").render(
        report=report,
        parts=parts(report),
        empty=EMPTY,
        period=f"{when(report.since, tz)} to {when(report.until, tz)} ({report.timezone})",
        chart=chart,
    )
