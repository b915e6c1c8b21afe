"""Charts drawn on the server as inline SVG: sparklines, the latency chart, status strips, day bars.

Points are first gathered into a fixed number of bins, so an SVG stays small however many results
a range holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from watchkeeper.views.series import Series
from watchkeeper.views.uptime import Tally
from watchkeeper.web.pages.formats import percent

WIDTH, HEIGHT = 900, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 24
SPARK_WIDTH, SPARK_HEIGHT = 100, 22
_SPARK_BOX_W, _SPARK_BOX_H = 400, 88


@dataclass
class Bin:
    """Results gathered into one slice of a chart's range."""

    start: datetime
    count: int = 0
    failures: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0

    @property
    def avg_ms(self) -> float:
        """Return the mean latency of the bin's results."""
        return self.total_ms / self.count if self.count else 0.0


def bins(series: Series, count: int) -> list[Bin]:
    """Gather a series' points into ``count`` equal slices of its range, oldest first."""
    width = (series.until - series.since) / count
    found = [Bin(series.since + width * i) for i in range(count)]
    for point in series.points:
        index = min(max(int((point.start - series.since) / width), 0), count - 1)
        slot = found[index]
        slot.count += point.count
        slot.failures += point.failures
        slot.total_ms += point.avg_ms * point.count
        slot.max_ms = max(slot.max_ms, point.max_ms)
    return found


def sparkline(values: list[float | None]) -> Markup:
    """Return a small latency line: one polyline, gaps skipped, scaled to its own maximum."""
    return _sparkline(tuple(values))


@lru_cache(maxsize=4096)
def _sparkline(values: tuple[float | None, ...]) -> Markup:
    # Cached: a check's hourly means change only when the uptime cache is read again.
    known = [v for v in values if v is not None]
    if not known:
        return Markup('<span class="spark-none">no data</span>')
    # Whole numbers in a larger viewBox: formatting floats would be most of a table row's cost.
    scale = (_SPARK_BOX_H - 8) / (max(known) or 1.0)
    bottom = _SPARK_BOX_H - 4
    xs = _spark_xs(len(values))
    coords = [(xs[i], bottom - round(v * scale)) for i, v in enumerate(values) if v is not None]
    points = " ".join(f"{x},{y}" for x, y in coords)
    end_x, end_y = coords[-1]
    return _svg(
        [
            f'<svg class="spark" viewBox="0 0 {_SPARK_BOX_W} {_SPARK_BOX_H}" width="{SPARK_WIDTH}" '
            f'height="{SPARK_HEIGHT}" role="img" aria-label="latency, 24 h">'
            f'<polyline points="{points}"/><circle cx="{end_x}" cy="{end_y}" r="4"/></svg>'
        ]
    )


@lru_cache(maxsize=8)
def _spark_xs(count: int) -> tuple[int, ...]:
    step = (_SPARK_BOX_W - 8) / max(count - 1, 1)
    return tuple(4 + round(i * step) for i in range(count))


def latency_chart(series: Series, tz: ZoneInfo, slices: int = 180) -> Markup:
    """Return the check page's chart: mean latency as a line, failures as red marks, with axes."""
    gathered = bins(series, slices)
    filled = [b for b in gathered if b.count]
    if not filled:
        return Markup('<p class="empty">No results in this range.</p>')
    top = _nice(max(b.avg_ms for b in filled) * 1.1 or 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (series.until - series.since).total_seconds()

    def x(moment: datetime) -> float:
        return LEFT + (moment - series.since).total_seconds() / span * plot_w

    def y(ms: float) -> float:
        return TOP + plot_h - ms / top * plot_h

    half = (series.until - series.since) / slices / 2
    parts = [
        f'<svg class="chart" id="latency-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="mean latency of {escape(series.check)}">'
    ]
    for tick in _ticks(top):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{_ms(tick)}</text>'
        )
    labels = _time_labels(series.since, series.until, tz)
    for i, (moment, label) in enumerate(labels):
        anchor = "start" if i == 0 else "end" if i == len(labels) - 1 else "middle"
        parts.append(
            f'<text class="axis" x="{x(moment):.1f}" y="{HEIGHT - 6}" '
            f'text-anchor="{anchor}">{label}</text>'
        )
    line = " ".join(f"{x(b.start + half):.1f},{y(b.avg_ms):.1f}" for b in filled)
    parts.append(f'<polyline class="avg" points="{line}"/>')
    if len(filled) == 1:
        only = filled[0]
        parts.append(
            f'<circle class="avg-dot" cx="{x(only.start + half):.1f}" '
            f'cy="{y(only.avg_ms):.1f}" r="3"/>'
        )
    for b in filled:
        if b.failures:
            when = b.start.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            parts.append(
                f'<circle class="fail" cx="{x(b.start + half):.1f}" cy="{y(b.avg_ms):.1f}" r="4">'
                f"<title>{when}: {b.failures} of {b.count} failed</title></circle>"
            )
    parts.append("</svg>")
    return _svg(parts)


def status_strip(series: Series, tz: ZoneInfo, slices: int = 180) -> Markup:
    """Return a strip under the chart: green where every result passed, red where some failed."""
    gathered = bins(series, slices)
    width = (series.until - series.since) / slices
    step = (WIDTH - LEFT - RIGHT) / slices
    parts = [
        f'<svg class="strip" viewBox="0 0 {WIDTH} 14" role="img" '
        f'aria-label="passing and failing results over the range">'
    ]
    # Neighbouring slices of one colour are drawn as one rectangle.
    first = 0
    for end in range(1, slices + 1):
        kind = _strip_class(gathered[first])
        if end < slices and _strip_class(gathered[end]) == kind:
            continue
        run = gathered[first:end]
        count, failures = sum(b.count for b in run), sum(b.failures for b in run)
        label = f"{failures} of {count} failed" if count else "no results"
        span = f"{_short(run[0].start, tz)} \N{EN DASH} {_short(run[-1].start + width, tz)}"
        parts.append(
            f'<rect class="{kind}" x="{LEFT + first * step:.1f}" y="0" '
            f'width="{(end - first) * step:.1f}" height="14"><title>{span}: {label}</title></rect>'
        )
        first = end
    parts.append("</svg>")
    return _svg(parts)


def day_bars(bars: list[Tally], last_day: date) -> Markup:
    """Return one bar per day, coloured by the share of failed results, with the date on hover."""
    width, gap, height = 6, 2, 30
    first_day = last_day - timedelta(days=len(bars) - 1)
    parts = [
        f'<svg class="days" viewBox="0 0 {len(bars) * (width + gap) - gap} {height}" '
        f'preserveAspectRatio="none" role="img" aria-label="uptime per day">'
    ]
    for i, tally in enumerate(bars):
        day = first_day + timedelta(days=i)
        ratio = tally.ratio
        shown = "no data" if ratio is None else f"{percent(ratio)} uptime"
        parts.append(
            f'<rect class="{_day_class(tally)}" x="{i * (width + gap)}" y="0" width="{width}" '
            f'height="{height}" rx="1"><title>{day.isoformat()}: {shown}</title></rect>'
        )
    parts.append("</svg>")
    return _svg(parts)


def _svg(parts: list[str]) -> Markup:
    # Every value put into these strings is a number, a constant or escape()d text.
    return Markup("".join(parts))  # noqa: S704


def _day_class(tally: Tally) -> str:
    if tally.count == 0:
        return "none"
    share = tally.failures / tally.count
    if share == 0:
        return "ok"
    if share < 0.01:
        return "minor"
    if share < 0.05:
        return "major"
    return "down"


def _strip_class(b: Bin) -> str:
    if b.count == 0:
        return "none"
    if b.failures == 0:
        return "ok"
    return "down" if b.failures == b.count else "minor"


def _nice(value: float) -> float:
    """Return the smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    magnitude = 10.0 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= value)


def _ticks(top: float) -> list[float]:
    return [top * i / 4 for i in range(5)]


def _ms(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g}s"
    return f"{value:g}ms" if value >= 1 else f"{value:.2g}ms"


def _time_labels(since: datetime, until: datetime, tz: ZoneInfo) -> list[tuple[datetime, str]]:
    span = until - since
    fmt = "%H:%M" if span <= timedelta(days=1) else "%b %d"
    return [
        (moment, moment.astimezone(tz).strftime(fmt))
        for moment in (since + span * i / 6 for i in range(7))
    ]


def _short(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%b %d %H:%M")
