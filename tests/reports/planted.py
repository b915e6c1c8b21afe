"""A store planted with a known fortnight: results and rollups, incidents, checklist runs,
backups and restore tests, and the latest results of the analysis kinds."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.procedures.checklist_support import config_of
from watchkeeper.backups.runner import run_backup
from watchkeeper.backups.verify import verify_latest
from watchkeeper.checklists.decisions import complete, decide
from watchkeeper.checklists.model import ItemState
from watchkeeper.checklists.runs import NewItem, create_run
from watchkeeper.config.procedures import StepKind
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents import lifecycle
from watchkeeper.incidents.model import MACHINE
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
"""When the reports are written: a Monday midnight, so a week is seven whole days."""
WEEK = timedelta(days=7)
SPACING = WEEK / 200
"""200 results a week for each check: one failure in them is 99.50% uptime."""
SECRET = "s3cr3t-from-env"

CONFIG = """
checks:
  - name: api
    service: backend
    http: {url: "http://127.0.0.1:9/"}
  - name: db
    service: backend
    tcp: {host: 127.0.0.1, port: 9}
  - name: lonely
    tcp: {host: 127.0.0.1, port: 9}
  - name: app-log
    service: backend
    log: {paths: [app.log], window: 24h}
  - name: api-trend
    trend: {check: api, measurement: response_time}
  - name: disk-forecast
    forecast: {check: db, measurement: disk_used_percent, limit: 95}
  - name: api-slo
    slo: {check: api, objective: 99.9%}
procedures:
  - name: weekly-audit
    title: Weekly audit
    schedule: weekly on monday at 10:00
    steps: [{manual: Review npm audit}]
backups:
  - name: app
    source: {sqlite: app.sqlite}
    to: backups
    verify: {smoke: ["SELECT count(*) FROM users"]}
"""


def config() -> Config:
    """Return the planted store's config."""
    return config_of(CONFIG)


def results_of(check: str, start: datetime, ms: float, failing: int = -1) -> list[Result]:
    """Return 200 results of ``check`` a week from ``start``, the ``failing``-th one critical."""
    return [
        Result(
            check,
            start + SPACING * i,
            Status.CRITICAL if i == failing else Status.OK,
            ms,
        )
        for i in range(200)
    ]


def plant_results(store: Store) -> None:
    """Plant two weeks of api (100 ms, then 140 ms with one failure), db (10 ms) and lonely
    (last week only), then roll them up as the service would at NOW."""
    since = NOW - WEEK
    store.insert_results(
        [
            *results_of("api", since - WEEK, 100.0),
            *results_of("api", since, 140.0, failing=7),
            *results_of("db", since - WEEK, 10.0),
            *results_of("db", since, 10.0),
            *results_of("lonely", since, 5.0),
        ]
    )
    store.rollup(NOW)


def plant_analyses(store: Store) -> None:
    """Plant the latest results of the log, trend, forecast and slo checks, ten minutes ago."""
    at = NOW - timedelta(minutes=10)
    store.insert_results(
        [
            Result(
                "app-log",
                at,
                Status.WARNING,
                3.0,
                measurements={
                    "error_count": 40,
                    "top_errors": [
                        {
                            "fingerprint": "3f9a1c2b7d10",
                            "text": "timeout connecting to <db>",
                            "count": 34,
                            "example": f"timeout: password=hunter2 token {SECRET}",
                        },
                        {"fingerprint": "8e4b0a6c2f91", "text": "cache miss", "count": 6},
                    ],
                    "new_types": ["8e4b0a6c2f91"],
                    "burst": False,
                    "verdict": "escalate",
                },
            ),
            Result(
                "api-trend",
                at,
                Status.WARNING,
                1.0,
                measurements={
                    "change_percent": 40.0,
                    "current": 0.14,
                    "previous": 0.10,
                    "flagged": True,
                    "cv_percent": 3.25,
                },
            ),
            Result(
                "disk-forecast",
                at,
                Status.WARNING,
                1.0,
                measurements={
                    "time_to_limit": 12 * 86400.0,
                    "earliest": 10 * 86400.0,
                    "latest": 15 * 86400.0,
                    "outlook": "will_cross",
                    "model": "linear",
                    "accuracy_mae": 0.42,
                },
            ),
            Result(
                "api-slo",
                at,
                Status.WARNING,
                1.0,
                measurements={
                    "sli": 99.5,
                    "budget_remaining": 12.0,
                    "fast_burn": False,
                    "slow_burn": True,
                    "met": False,
                },
            ),
        ]
    )


def plant_incidents(store: Store, config: Config) -> None:
    """Open a P1 two days ago (acknowledged after 5m, resolved after 65m) and a P2 yesterday
    (acknowledged after 15m, still open); one P1 the week before."""
    with store.engine.begin() as connection:

        def open_(severity: str, at: datetime) -> int:
            return lifecycle.open_incident(
                connection,
                config.incidents,
                title="api slow",
                severity=severity,
                actor="ana",
                now=at,
            )

        first = NOW - timedelta(days=2)
        p1 = open_("P1", first)
        lifecycle.acknowledge(connection, p1, "ana", first + timedelta(minutes=5))
        lifecycle.resolve(connection, p1, "ana", first + timedelta(minutes=65))
        second = NOW - timedelta(days=1)
        p2 = open_("P2", second)
        lifecycle.acknowledge(connection, p2, "ana", second + timedelta(minutes=15))
        open_("P1", NOW - WEEK - timedelta(days=1))


def plant_runs(store: Store) -> None:
    """Four weekly-audit runs in the period, due two hours after they start: two completed on
    time, two left open past due."""
    with store.engine.begin() as connection:
        for day, completed in ((1, True), (2, True), (3, False), (4, False)):
            scheduled = NOW - WEEK + timedelta(days=day, hours=10)
            run_id = create_run(
                connection,
                title="Weekly audit",
                items=[NewItem(StepKind.MANUAL, "Review npm audit")],
                scheduled_for=scheduled,
                created_by=MACHINE,
                now=scheduled,
                procedure="weekly-audit",
                due_at=scheduled + timedelta(hours=2),
            )
            assert run_id is not None
            if completed:
                decide(connection, run_id, 1, ItemState.PASSED, "ana", scheduled)
                complete(connection, run_id, "ana", scheduled + timedelta(minutes=30))


async def plant_backups(store: Store, config: Config, directory: Path) -> None:
    """Take the app backup 40 days ago and restore-test it then; take it again yesterday."""
    with sqlite3.connect(directory / "app.sqlite") as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO users DEFAULT VALUES")
    (backup,) = config.backups
    long_ago = NOW - timedelta(days=40)
    await run_backup(store.engine, backup, directory, Secrets(), long_ago)
    await verify_latest(store.engine, backup, directory, Secrets(), long_ago)
    await run_backup(store.engine, backup, directory, Secrets(), NOW - timedelta(days=1))


async def planted_store(directory: Path, store: Store | None = None) -> tuple[Store, Config]:
    """Return ``store`` (default: a SQLite file in ``directory``) planted with everything above,
    and its config; the backup's files go in ``directory``."""
    store = store or Store.open(str(directory / "wk.db"))
    found = config()
    # Before the results, whose planting rolls up: a result after its bucket's rollup is late.
    plant_analyses(store)
    plant_results(store)
    plant_incidents(store, found)
    plant_runs(store)
    await plant_backups(store, found, directory)
    return store, found
