"""Analytics and reports at scale: what a report costs with a year of history, and what the
analysis checks cost on a month of results.

1. A SQLite store with 200 checks and a year of rollups (hourly for 400 days' retention, daily
   for the year: 1.8 million rows), then ``build_report`` and both renderings for each period.
2. An ``slo`` check's reading: a month of one result every 30 s (86,400 statuses) from raw results.
3. A ``forecast`` check's fit over the same month of a measurement (``disk_used_percent``).
4. An ``errors`` check's verdict over 20,000 events in a day, 200 kinds, one burst.

Prints one JSON line of figures (milliseconds, bytes). Run: ``python bench/analytics.py``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from watchkeeper.analytics.errors import ErrorEvent
from watchkeeper.analytics.slo import availability_events
from watchkeeper.config.loader import parse_config_text
from watchkeeper.config.reports import ReportPeriod
from watchkeeper.config.specs.errors import ErrorsSpec
from watchkeeper.config.specs.forecast import ForecastSpec
from watchkeeper.config.specs.slo import SloSpec
from watchkeeper.probes.errors import judge_errors
from watchkeeper.probes.forecast import judge_forecast
from watchkeeper.probes.slo import judge_slo
from watchkeeper.reports.gather import build_report
from watchkeeper.reports.html import to_html
from watchkeeper.reports.markdown import to_markdown
from watchkeeper.results import Result, Status
from watchkeeper.store.history import HistoryReader
from watchkeeper.store.store import Store
from watchkeeper.store.tables import rollup_watermarks, rollups

CHECKS = 200
NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
RUNS = 3


def timed(do: Callable[[], Any], runs: int = RUNS) -> tuple[float, Any]:
    """Return the median milliseconds of ``runs`` calls of ``do`` and its last answer."""
    spent, answer = [], None
    for _ in range(runs):
        start = time.perf_counter()
        answer = do()
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent), answer


def year_of_rollups(store: Store) -> int:
    """Write hourly rollups for 400 days and daily ones for 365 for each check; return rows."""
    rng = random.Random(8)
    written = 0
    with store.engine.begin() as connection:
        for resolution, step, buckets in (
            ("hour", timedelta(hours=1), 400 * 24),
            ("day", timedelta(days=1), 365),
        ):
            for check in range(CHECKS):
                start = (NOW - step * buckets).replace(minute=0)
                rows = []
                for k in range(buckets):
                    avg = 80 + 20 * rng.random()
                    rows.append(
                        {
                            "check_name": f"check-{check:03d}",
                            "resolution": resolution,
                            "bucket_start": start + k * step,
                            "count": 60 if resolution == "hour" else 1440,
                            "failures": 1 if rng.random() < 0.01 else 0,
                            "min_ms": avg / 2,
                            "avg_ms": avg,
                            "max_ms": avg * 3,
                            "p95_ms": avg * 2,
                        }
                    )
                connection.execute(rollups.insert(), rows)
                written += len(rows)
        # As the rollup pass leaves them: everything before the current hour is rolled up.
        connection.execute(
            rollup_watermarks.insert(),
            [{"resolution": r, "rolled_up_to": NOW} for r in ("minute", "hour", "day")],
        )
    return written


def reports(directory: Path) -> dict[str, Any]:
    """Measure building and rendering a report of each period over a year of rollups."""
    checks = "".join(
        f"  - name: check-{i:03d}\n    service: svc-{i % 20}\n    tcp: {{host: 127.0.0.1, port: 9}}\n"
        for i in range(CHECKS)
    )
    config, secrets = parse_config_text(f"checks:\n{checks}", "bench.yaml", {})
    store = Store.open(str(directory / "report.db"))
    start = time.perf_counter()
    rows = year_of_rollups(store)
    figures: dict[str, Any] = {"rollup_rows": rows, "fill_s": round(time.perf_counter() - start, 1)}
    for period in ReportPeriod:
        build_ms, report = timed(partial(build_report, store, config, period, NOW, secrets=secrets))
        html_ms, html = timed(partial(to_html, report))
        md_ms, markdown = timed(partial(to_markdown, report))
        figures[period.value] = {
            "build_ms": round(build_ms),
            "html_ms": round(html_ms),
            "markdown_ms": round(md_ms),
            "html_bytes": len(html.encode()),
            "markdown_bytes": len(markdown.encode()),
        }
    store.close()
    return figures


def month_of_results(store: Store) -> None:
    """Write a month of results every 30 s for ``api`` and ``disk``: one failure a day, a disk
    filling by about 1% a day with noise."""
    rng = random.Random(30)
    start = NOW - timedelta(days=30)
    batch: list[Result] = []
    for k in range(30 * 2880):
        at = start + timedelta(seconds=30 * k)
        failed = k % 2880 == 1000
        batch.append(Result("api", at, Status.CRITICAL if failed else Status.OK, 40.0))
        if k % 10 == 0:
            used = 40 + k / 2880 + rng.gauss(0, 0.3)
            batch.append(
                Result("disk", at, Status.OK, 5.0, measurements={"disk_used_percent": used})
            )
        if len(batch) >= 5000:
            store.insert_results(batch)
            batch = []
    store.insert_results(batch)


def checks(directory: Path) -> dict[str, Any]:
    """Measure the slo, forecast and errors checks' reading and judging."""
    store = Store.open(str(directory / "checks.db"))
    month_of_results(store)
    reader = HistoryReader(store.engine)
    since = NOW - timedelta(days=30)
    slo = SloSpec(check="api", objective=0.999)
    read_ms, events = timed(lambda: reader.status_events("api", since, NOW))
    judge_ms, _ = timed(lambda: judge_slo(slo, availability_events(events), NOW))
    forecast = ForecastSpec(check="disk", measurement="disk_used_percent", limit=95)
    points_ms, points = timed(
        lambda: reader.measurement_points("disk", "disk_used_percent", since, NOW)
    )
    fit_ms, measured = timed(lambda: judge_forecast(forecast, points, NOW))
    store.close()
    rng = random.Random(24)
    day = NOW - timedelta(days=1)
    errors = [
        ErrorEvent(
            day + timedelta(seconds=rng.uniform(0, 86400)),
            f"error kind {rng.randrange(200)} in request {k}",
        )
        for k in range(19_970)
    ] + [
        ErrorEvent(NOW - timedelta(minutes=30, seconds=k), "burst: pool exhausted")
        for k in range(30)
    ]
    errors.sort(key=lambda e: e.time)
    spec = ErrorsSpec(token="bench-errors-token-0123456789")
    errors_ms, verdict = timed(lambda: judge_errors(spec, errors, NOW))
    return {
        "slo_events": len(events),
        "slo_read_ms": round(read_ms),
        "slo_judge_ms": round(judge_ms),
        "forecast_points": len(points),
        "forecast_read_ms": round(points_ms),
        "forecast_fit_ms": round(fit_ms),
        "forecast_days_to_limit": round((measured.get("time_to_limit") or 0) / 86400, 1),
        "errors_events": len(errors),
        "errors_judge_ms": round(errors_ms),
        "errors_verdict": verdict["verdict"],
    }


def main() -> None:
    """Run both parts in a scratch directory and print their figures as one JSON line."""
    with tempfile.TemporaryDirectory(prefix="wk-bench-analytics-") as scratch:
        directory = Path(scratch)
        figures = {"reports": reports(directory), "checks": checks(directory)}
    print(json.dumps(figures), file=sys.stdout)


if __name__ == "__main__":
    main()
