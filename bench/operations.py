"""Operations benchmark (issue 5): what one pass of ``serve``'s incident and procedure loops costs.

Both loops run every 2 s; a pass that took a good part of that would delay escalations and pile up.
On a SQLite store (the embedded default) in a temporary directory:

1. **Incident pass** (``IncidentWorker.step``): N open incidents, none acknowledged, each with the
   three escalation levels of the guides (at once, 30 min, 2 h) snapshotted, opened over the last
   three hours, and ``alerts`` firing alerts (half matching an ``open_when`` rule, so the first pass
   opens incidents for them). Timed: the first pass (opens incidents, notifies overdue levels),
   then passes with the clock moved on by 2 s (steady: nothing or little due), and passes after
   every incident was acknowledged.
2. **Procedure pass** (``ProcedureWorker.step``): P procedures with manual steps, each due every
   minute, with runs piling up; timed as the clock moves a minute at a time: the pass that creates
   P runs and marks the previous ones overdue (with a message each), and the idle pass 2 s later.
3. **Incident figures** (``incident_stats`` over 30 days) with the N incidents above plus 10,000
   closed ones spread over the month.

Usage: ``python bench/operations.py [--incidents N] [--procedures P] [--passes K]``. Prints one line
of JSON with the figures (milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from watchkeeper.alerting import queries
from watchkeeper.alerting.model import AlertStatus
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents import lifecycle
from watchkeeper.incidents.records import list_incidents
from watchkeeper.incidents.stats import incident_stats
from watchkeeper.incidents.worker import IncidentWorker
from watchkeeper.procedures.worker import ProcedureWorker
from watchkeeper.results import Result
from watchkeeper.store.store import Store
from watchkeeper.store.tables import incidents as incidents_table

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def config(checks: int, procedures: int) -> Config:
    """Return a config with ``checks`` HTTP checks, three channels and ``procedures`` procedures."""
    return Config.model_validate(
        {
            "notifications": {
                "channels": {
                    name: ["json://127.0.0.1:9/hook"] for name in ("oncall", "lead", "cto")
                }
            },
            "incidents": {
                "escalation": [
                    {"level": 1, "notify": "oncall"},
                    {"level": 2, "after": "30m", "notify": "lead"},
                    {"level": 3, "after": "2h", "notify": "cto"},
                ],
                "open_when": [{"match": {"tag": "user-facing"}, "severity": "P1"}],
            },
            "checks": [
                {
                    "name": f"check-{i}",
                    "http": {"url": "http://127.0.0.1:9/"},
                    "tags": ["user-facing"] if i % 2 else [],
                }
                for i in range(checks)
            ],
            "procedures": [
                {
                    "name": f"routine-{i}",
                    "schedule": "1m",
                    "window": "1m",
                    "notify": "oncall",
                    "steps": [{"manual": "Look at the dashboard"}, {"manual": "Tick the box"}],
                }
                for i in range(procedures)
            ],
        }
    )


def ms(seconds: float) -> float:
    """Return seconds as milliseconds, rounded to 0.1."""
    return round(seconds * 1000, 1)


def summary(times: list[float]) -> dict[str, float]:
    """Return p50 and max of pass times, in ms."""
    return {"p50": ms(statistics.median(times)), "max": ms(max(times))}


def seed_incidents(store: Store, cfg: Config, count: int, alerts: int) -> None:
    """Open ``count`` incidents over the last 3 hours and fire ``alerts`` unattached alerts."""
    with store.engine.begin() as connection:
        for i in range(count):
            opened = NOW - timedelta(seconds=10_800 * i / max(count, 1))
            lifecycle.open_incident(
                connection,
                cfg.incidents,
                title=f"incident {i}",
                severity="P1" if i % 3 else "P2",
                actor="bench",
                now=opened,
            )
        for i in range(alerts):
            queries.insert_alert(
                connection,
                dedup_key=f"check-{i}@bench",
                check_name=f"check-{i}",
                service=None,
                severity="critical",
                state=AlertStatus.FIRING,
                since=NOW,
                fired_at=NOW,
                message="HTTP 503",
                measurements={},
                caused_by=None,
            )


def seed_history(store: Store, count: int) -> None:
    """Write ``count`` closed incidents spread over the last 30 days, straight into the table."""
    rows = []
    for i in range(count):
        opened = NOW - timedelta(days=30) + timedelta(seconds=2_592_000 * i / count)
        rows.append(
            {
                "title": f"past {i}",
                "severity": ("P0", "P1", "P2", "P3")[i % 4],
                "state": "closed",
                "summary": "",
                "opened_at": opened,
                "opened_by": "bench",
                "acknowledged_at": opened + timedelta(minutes=5 + i % 40),
                "acknowledged_by": "bench",
                "resolved_at": opened + timedelta(minutes=50 + i % 200),
                "resolved_by": "bench",
                "closed_at": opened + timedelta(hours=6),
                "closed_by": "bench",
                "policy": {
                    "severity": "P1",
                    "respond_within": 3600,
                    "update_status_page_within": None,
                    "postmortem_required": False,
                    "levels": [],
                },
                "level": 1,
                "respond_by": opened + timedelta(hours=1),
            }
        )
    with store.engine.begin() as connection:
        connection.execute(insert(incidents_table), rows)


def incident_passes(store: Store, cfg: Config, passes: int) -> dict[str, Any]:
    """Time the incident worker's first pass, steady passes, and passes once all are acknowledged."""
    worker = IncidentWorker(store.engine, cfg)
    started = time.perf_counter()
    queued_first = worker.step(NOW)
    first = time.perf_counter() - started
    steady = []
    for k in range(1, passes + 1):
        started = time.perf_counter()
        worker.step(NOW + timedelta(seconds=2 * k))
        steady.append(time.perf_counter() - started)
    with store.engine.begin() as connection:
        for incident in list_incidents(connection, active_only=True, limit=100_000):
            lifecycle.acknowledge(connection, incident.id, "bench", NOW + timedelta(minutes=1))
    acked = []
    for k in range(1, passes + 1):
        started = time.perf_counter()
        worker.step(NOW + timedelta(minutes=2, seconds=2 * k))
        acked.append(time.perf_counter() - started)
    return {
        "first_pass_ms": ms(first),
        "first_pass_messages": queued_first,
        "steady": summary(steady),
        "acknowledged": summary(acked),
    }


async def procedure_passes(store: Store, cfg: Config, passes: int) -> dict[str, Any]:
    """Time procedure passes as the clock moves a minute at a time: the pass at each minute creates
    a run per procedure and marks the last minute's overdue ("due"); the one 2 s later has nothing
    to do ("idle")."""

    async def no_check(name: str) -> Result | None:
        return None

    worker = ProcedureWorker(store.engine, cfg, no_check, Secrets())
    await worker.step(NOW)  # learns the schedules: no run yet
    due, idle = [], []
    for k in range(1, passes + 1):
        for seconds, times in ((1, due), (3, idle)):
            started = time.perf_counter()
            await worker.step(NOW + timedelta(minutes=k, seconds=seconds))
            times.append(time.perf_counter() - started)
    return {"due": summary(due), "idle": summary(idle)}


def stats_read(store: Store, repeat: int = 5) -> dict[str, float]:
    """Time incident_stats over 30 days."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with store.engine.connect() as connection:
            incident_stats(connection, NOW - timedelta(days=30), NOW)
        times.append(time.perf_counter() - started)
    return summary(times)


def main() -> None:
    """Build the stores, time the passes, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--procedures", type=int, default=200)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--history", type=int, default=10_000)
    opts = parser.parse_args()
    # Overdue runs and escalations log a warning each: thousands here, none of them news.
    logging.basicConfig(level=logging.ERROR)
    cfg = config(max(opts.alerts, 1), opts.procedures)
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite:///{Path(directory) / 'ops.db'}")
        print("seeding incidents …", file=sys.stderr)
        seed_incidents(store, cfg, opts.incidents, opts.alerts)
        figures: dict[str, Any] = {"incidents": opts.incidents, "alerts": opts.alerts}
        figures["incident_pass"] = incident_passes(store, cfg, opts.passes)
        print("procedures …", file=sys.stderr)
        figures["procedures"] = opts.procedures
        figures["procedure_pass"] = asyncio.run(procedure_passes(store, cfg, opts.passes))
        seed_history(store, opts.history)
        figures["history"] = opts.history
        figures["incident_stats_30d"] = stats_read(store)
        store.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
