"""The demo's feeder pings heartbeats, posts the demo agents' figures and ships the demo app's
logged errors to a real serve."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.alerting.test_serve_alerting import Serve, serve, until
from tests.demo.conftest import Served
from watchkeeper.config.loader import load_config
from watchkeeper.demo.feeder import LogShipper, agent_values, error_event, feed
from watchkeeper.store.errors import error_reader
from watchkeeper.store.push import push_reader
from watchkeeper.store.store import Store

__all__ = ["serve"]  # the fixture, used by name

TOKEN = "demo-agent-metrics-token"
JOB = "demo-media-backup-token"
ERRORS = "demo-app-errors-token"


def test_each_metric_takes_the_highest_figure_an_agent_reports() -> None:
    agents = {
        "content": {"execution_time": 42.0, "memory_mb": 212.0, "state": "idle"},
        "market": {"execution_time": 23.1, "memory_mb": 376.0},
    }
    values = agent_values(agents, {"agent_execution_time", "agent_memory_mb", "state", "nope"})
    assert values == {"agent_execution_time": 42.0, "agent_memory_mb": 376.0}


async def test_the_feeder_pings_and_posts_to_a_running_serve(
    target: Served, serve: Callable[[str], Serve], tmp_path: Path
) -> None:
    server = serve(f"""
checks:
  - name: media-backup-job
    heartbeat: {{token: "{JOB}", period: 1d, grace: 2h}}
  - name: agent-memory
    metric: {{token: "{TOKEN}", name: agent_memory_mb, window: 1h}}
""")
    loaded = load_config(server.config)
    store = Store.open(loaded.store_url)
    await server.start()
    feeding = asyncio.create_task(
        feed(loaded.config, f"http://127.0.0.1:{server.port}", target.url, every=0.5)
    )
    try:
        read = push_reader(store.engine)
        heartbeat, metric = (c.heartbeat or c.metric for c in loaded.config.checks)
        assert heartbeat is not None and metric is not None
        await until(lambda: read(heartbeat.figures_key).get("last_ping_kind") == "success")
        await until(lambda: read(metric.figures_key).get("agent_memory_mb") == 212.0)
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
        store.close()
    assert "Traceback" not in await server.stop()


def test_an_error_line_of_the_demo_log_becomes_an_event_and_other_lines_do_not() -> None:
    line = "2026-11-22T09:00:00.123Z ERROR [payments] card declined for order 1234\n"
    assert error_event(line) == {
        "message": "card declined for order 1234",
        "level": "error",
        "timestamp": "2026-11-22T09:00:00.123Z",
        "tags": {"component": "payments"},
    }
    assert error_event("2026-11-22T09:00:00.123Z CRITICAL [db] pool gone")["level"] == "fatal"
    assert error_event("2026-11-22T09:00:00.123Z INFO [http] GET / 200") is None


def test_the_shipper_reads_each_error_once_and_a_half_written_line_when_it_is_whole(
    tmp_path: Path,
) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "2026-11-22T09:00:00Z ERROR [a] first\n2026-11-22T09:00:01Z INFO [a] fine\n"
        "2026-11-22T09:00:02Z ERROR [a] sec"
    )
    shipper = LogShipper([log, tmp_path / "missing.log"])
    assert [e["message"] for e in shipper.new_events()] == ["first"]
    with log.open("a") as f:
        f.write("ond\n2026-11-22T09:00:03Z ERROR [b] third\n")
    assert [e["message"] for e in shipper.new_events()] == ["second", "third"]
    assert shipper.new_events() == []
    # Rotated: a new, shorter file in its place is read from its start.
    log.write_text("2026-11-22T10:00:00Z ERROR [c] fourth\n")
    assert [e["message"] for e in shipper.new_events()] == ["fourth"]


async def test_the_feeder_ships_logged_errors_to_an_errors_check(
    target: Served, serve: Callable[[str], Serve], tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "".join(f"2026-11-22T09:00:0{i}Z ERROR [jobs] job {i} failed\n" for i in range(3))
    )
    server = serve(f"""
checks:
  - name: app-errors
    errors: {{token: "{ERRORS}"}}
  - name: app-log
    log: {{paths: ["{log}"]}}
""")
    loaded = load_config(server.config)
    store = Store.open(loaded.store_url)
    await server.start()
    feeding = asyncio.create_task(
        feed(loaded.config, f"http://127.0.0.1:{server.port}", target.url, every=0.5)
    )
    try:
        spec = loaded.config.checks[0].errors
        assert spec is not None
        read = error_reader(store.engine)
        since = datetime(2026, 11, 22, tzinfo=UTC)
        await until(lambda: len(read(spec.series, since)) == 3)
        assert sorted(e.message for e in read(spec.series, since)) == [
            f"job {i} failed" for i in range(3)
        ]
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
        store.close()
    assert "Traceback" not in await server.stop()
