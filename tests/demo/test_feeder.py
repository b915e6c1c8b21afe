"""The demo's feeder pings heartbeats and posts the demo agents' figures to a real serve."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from tests.alerting.test_serve_alerting import Serve, serve, until
from tests.demo.conftest import Served
from watchkeeper.config.loader import load_config
from watchkeeper.demo.feeder import agent_values, feed
from watchkeeper.store.push import push_reader
from watchkeeper.store.store import Store

__all__ = ["serve"]  # the fixture, used by name

TOKEN = "demo-agent-metrics-token"
JOB = "demo-media-backup-token"


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
