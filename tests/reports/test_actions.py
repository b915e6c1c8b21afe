"""Recommended actions derived from planted data, most urgent first; none from a healthy store."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from tests.reports.planted import NOW, WEEK, planted_store, results_of
from watchkeeper.config.schema import Config
from watchkeeper.reports.actions import recommend
from watchkeeper.reports.gather import build_report
from watchkeeper.reports.model import Period, SloFigures, Urgency
from watchkeeper.store.store import Store


async def test_planted_problems_become_actions_most_urgent_first(tmp_path: Path) -> None:
    store, config = await planted_store(tmp_path)
    report = build_report(store, config, Period.WEEKLY, NOW)
    store.close()

    assert [(a.urgency, a.text, a.reason) for a in report.actions] == [
        (
            Urgency.NOW,
            "Investigate “timeout connecting to <db>”: 34 in 24h",
            "recurring, > 10: escalate",
        ),
        (Urgency.SOON, "Investigate “cache miss”: 6 in 24h", "recurring, > 5: investigate"),
        (
            Urgency.SOON,
            "Look into the new error “cache miss” in app-log",
            "a kind of error not seen before",
        ),
        (
            Urgency.SOON,
            "Plan capacity for disk-forecast: full in ~12 days",
            "forecast from its growth (earliest ~10 days)",
        ),
        (Urgency.SOON, "SLO api-slo: budget 12% left", "less than 25% of the error budget left"),
        (
            Urgency.SOON,
            "Restore-test backup app: last test 40 days ago",
            "restore tests are due every 30 days",
        ),
        (
            Urgency.SOON,
            "Review backend: uptime 99.50%",
            "below the 99.9% target (2 failed results)",
        ),
        (Urgency.SOON, "Close out 1 open incident(s)", "opened this period and not resolved"),
        (
            Urgency.SOON,
            "Complete Weekly audit: 2 of 4 runs overdue",
            "checklist runs past their due time",
        ),
        (Urgency.PLAN, "api p95 up 40% week over week", "more than +25%"),
        (Urgency.PLAN, "Look into the trend of api-trend +40%", "flagged"),
    ]


async def test_a_fast_burning_slo_goes_to_the_top(tmp_path: Path) -> None:
    store, config = await planted_store(tmp_path)
    report = build_report(store, config, Period.WEEKLY, NOW)
    store.close()
    burning = SloFigures("api-slo", NOW, 98.0, -20.0, True, True, False)

    actions = recommend(dataclasses.replace(report, slos=(burning,)), NOW)

    assert [(a.urgency, a.text) for a in actions[:2]] == [
        (Urgency.NOW, "Investigate “timeout connecting to <db>”: 34 in 24h"),
        (Urgency.NOW, "SLO api-slo: budget 0% left"),
    ]
    assert actions[1].reason == "burning its error budget fast"


def test_a_healthy_store_calls_for_nothing(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "wk.db"))
    config = Config.model_validate(
        {
            "checks": [
                {"name": "api", "service": "backend", "http": {"url": "http://127.0.0.1:9/"}},
                {"name": "db", "tcp": {"host": "127.0.0.1", "port": 9}},
            ]
        }
    )
    for check in ("api", "db"):
        store.insert_results(
            [*results_of(check, NOW - 2 * WEEK, 50.0), *results_of(check, NOW - WEEK, 52.0)]
        )
    store.rollup(NOW)

    report = build_report(store, config, Period.WEEKLY, NOW)
    store.close()

    assert report.actions == ()
    assert report.summary.splitlines()[-1] == "Needs action: nothing."
    assert report.checks[0].uptime == 1.0


def test_an_empty_period_calls_for_nothing(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "wk.db"))

    report = build_report(store, Config(), Period.DAILY, NOW + timedelta(days=1))
    store.close()

    assert report.actions == ()
    assert report.services == () and report.backups == ()
