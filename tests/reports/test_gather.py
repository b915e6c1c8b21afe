"""A report gathered from a planted store: exact figures in every section."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.reports.planted import NOW, SECRET, WEEK, config, plant_results, planted_store
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents.stats import SeverityStats
from watchkeeper.reports.formats import percent
from watchkeeper.reports.gather import build_report
from watchkeeper.reports.model import Period, Report
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store


@pytest.fixture
async def weekly(tmp_path: Path) -> Report:
    store, found = await planted_store(tmp_path)
    try:
        return build_report(store, found, Period.WEEKLY, NOW, secrets=Secrets([SECRET]))
    finally:
        store.close()


def test_uptime_and_failures_per_check_and_service(weekly: Report) -> None:
    by_check = {c.check: c for c in weekly.checks}

    assert [s.service for s in weekly.services] == ["backend", "lonely", "backup.app"]
    assert (by_check["api"].count, by_check["api"].failures) == (200, 1)
    assert percent(by_check["api"].uptime) == "99.50%"
    assert by_check["api"].previous_uptime == 1.0
    assert by_check["db"].uptime == 1.0
    backend = weekly.services[0]
    assert [c.check for c in backend.checks] == ["api", "db", "app-log"]
    assert (backend.count, backend.failures) == (401, 2)  # app-log warned once
    # The judging kinds read other checks' data: their run time is nobody's latency.
    assert not {"api-trend", "disk-forecast", "api-slo"} & by_check.keys()


def test_latency_this_week_against_last_is_forty_percent_slower_for_api(weekly: Report) -> None:
    api = next(c for c in weekly.checks if c.check == "api").latency
    db = next(c for c in weekly.checks if c.check == "db").latency

    assert (api.avg_ms, api.previous_avg_ms) == (140.0, 100.0)
    assert (api.p95_ms, api.previous_p95_ms) == (140.0, 100.0)
    assert api.p95_change == pytest.approx(0.4)
    assert db.p95_change == 0.0


def test_the_chart_series_covers_this_period_only(weekly: Report) -> None:
    api = next(c for c in weekly.checks if c.check == "api")

    assert (api.chart.since, api.chart.until) == (NOW - WEEK, NOW)
    assert sum(p.count for p in api.chart.points) == 200
    assert all(p.start >= NOW - WEEK for p in api.chart.points)


def test_incidents_have_mtta_and_mttr_per_severity(weekly: Report) -> None:
    found = weekly.incidents

    assert found.by_severity == (
        SeverityStats("P1", 1, 300.0, 3900.0, 0, 0, 0),
        SeverityStats("P2", 1, 900.0, None, 0, 0, 1),
    )
    assert (found.overall.opened, found.overall.mtta, found.overall.mttr) == (2, 600.0, 3900.0)
    assert (found.resolved, found.previous_opened) == (1, 1)


def test_checklist_completion_counts_overdue_runs_against_it(weekly: Report) -> None:
    audit, overall = weekly.procedures

    assert (audit.procedure, audit.runs, audit.completed, audit.overdue_open) == (
        "weekly-audit",
        4,
        2,
        2,
    )
    assert audit.completion_rate == 0.5
    assert overall.procedure is None


def test_backups_show_the_last_good_copy_and_restore_tests(weekly: Report) -> None:
    (app,) = weekly.backups

    # Finished when the copy was written: a moment after it started.
    assert app.last_good_at is not None
    assert timedelta(0) <= app.last_good_at - (NOW - timedelta(days=1)) < timedelta(minutes=1)
    assert app.kept == 2 and app.last_size is not None and app.last_size > 0
    assert (app.tests_passed, app.tests_failed) == (0, 0)  # the only test is 40 days old
    assert app.last_passed_at == NOW - timedelta(days=40)


def test_analysis_results_are_read_by_their_measurement_names(weekly: Report) -> None:
    (errors,) = weekly.errors
    (trend,) = weekly.trends
    (forecast,) = weekly.forecasts
    (slo,) = weekly.slos

    assert (errors.check, errors.error_count, errors.verdict, errors.window) == (
        "app-log",
        40,
        "escalate",
        86400.0,
    )
    assert [(t.fingerprint, t.count) for t in errors.top] == [
        ("3f9a1c2b7d10", 34),
        ("8e4b0a6c2f91", 6),
    ]
    assert errors.new_types == ("cache miss",)
    assert (trend.change_percent, trend.flagged, trend.cv_percent) == (40.0, True, 3.25)
    assert (forecast.time_to_limit, forecast.model, forecast.accuracy_mae) == (
        12 * 86400.0,
        "linear",
        0.42,
    )
    assert (slo.sli, slo.budget_remaining, slo.slow_burn, slo.met) == (99.5, 12.0, True, False)


def test_echoed_error_texts_are_masked(weekly: Report) -> None:
    example = weekly.errors[0].top[0].example

    assert "hunter2" not in example
    assert SECRET not in example
    assert example.startswith("timeout: ")


def test_status_and_summary_say_what_changed_and_what_needs_action(weekly: Report) -> None:
    lines = weekly.summary.splitlines()
    # 601 results (api, db, lonely 200 each, app-log 1), 2 not ok: 99.667%, shown rounded down.

    assert weekly.status is Status.WARNING
    assert weekly.title == "Watchkeeper weekly report, 2026-11-23"
    assert lines[0].startswith("Status: WARNING; uptime 99.66% (previous period 100%)")
    assert "incidents opened 2 (previous period 1)" in lines[1]
    assert "api +40% week over week" in lines[1]
    assert lines[2].startswith(
        f"Needs action: {len(weekly.actions)}, first: Investigate “timeout connecting to <db>”"
    )


async def test_both_databases_gather_the_same_figures(any_store: Store, tmp_path: Path) -> None:
    _, found = await planted_store(tmp_path, any_store)

    report = build_report(any_store, found, Period.WEEKLY, NOW)
    api = next(c for c in report.checks if c.check == "api")

    assert (api.count, api.failures, api.latency.p95_ms, api.latency.previous_p95_ms) == (
        200,
        1,
        140.0,
        100.0,
    )
    assert (report.incidents.overall.mtta, report.incidents.resolved) == (600.0, 1)
    assert [a.text for a in report.actions][:2] == [
        "Investigate “timeout connecting to <db>”: 34 in 24h",
        "Investigate “cache miss”: 6 in 24h",
    ]


def test_a_result_older_than_the_period_is_not_reported(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "wk.db"))
    plant_results(store)

    daily = build_report(store, config(), Period.DAILY, NOW + timedelta(days=3))

    assert daily.errors == () and daily.slos == ()
    assert all(c.count == 0 for c in daily.checks)
    store.close()


def test_monthly_figures_come_from_day_rollups_and_the_raw_tail(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "wk.db"))
    plant_results(store)  # rolled up at NOW: the last day is still raw results

    monthly = build_report(store, config(), Period.MONTHLY, NOW)
    api = next(c for c in monthly.checks if c.check == "api")

    assert (api.count, api.failures) == (400, 1)
    assert api.chart.resolution == "day"
    store.close()


def test_an_hour_old_store_has_p95s_and_chart_points_from_minute_rollups(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "wk.db"))
    start = NOW - timedelta(hours=1)
    # A result every 10 s, one in ten at 1 s: an hour not yet settled into an hourly rollup.
    store.insert_results(
        [
            Result(
                "api",
                start + timedelta(seconds=10 * i),
                Status.OK,
                1000.0 if i % 10 == 9 else 100.0,
            )
            for i in range(360)
        ]
    )
    store.rollup(NOW)

    weekly = build_report(store, config(), Period.WEEKLY, NOW)
    api = next(c for c in weekly.checks if c.check == "api")

    assert api.count == 360
    assert api.latency.p95_ms is not None and api.latency.p95_ms > 100.0
    # Minute buckets up to the minute watermark (5 minutes ago), then the raw tail as one.
    assert len(api.chart.points) == 55 + 1
    store.close()


async def test_a_report_written_late_reads_each_checks_last_result_before_its_end(
    tmp_path: Path,
) -> None:
    store, found = await planted_store(tmp_path)
    # After the period: every analysis ran again, all quiet now.
    later = NOW + timedelta(hours=1)
    store.insert_results(
        [
            Result(name, later, Status.OK, 1.0, measurements={"error_count": 0})
            for name in ("app-log", "api-trend", "disk-forecast", "api-slo")
        ]
    )

    late = build_report(store, found, Period.WEEKLY, NOW)
    store.close()

    assert late.status is Status.WARNING
    (errors,) = late.errors
    assert (errors.at, errors.error_count) == (NOW - timedelta(minutes=10), 40)
    assert len(late.trends) == len(late.forecasts) == len(late.slos) == 1


async def test_the_title_is_dated_in_the_configured_timezone(tmp_path: Path) -> None:
    store, found = await planted_store(tmp_path)
    tokyo = found.model_copy(
        update={"defaults": found.defaults.model_copy(update={"timezone": "Asia/Tokyo"})}
    )

    # Sunday 23:00 UTC is Monday 08:00 in Tokyo: the weekly review of monday morning.
    report = build_report(store, tokyo, Period.WEEKLY, NOW - timedelta(hours=1))
    store.close()

    assert report.title == "Watchkeeper weekly report, 2026-11-23"
