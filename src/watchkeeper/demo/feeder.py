"""The demo's stand-ins for what reports in from elsewhere: a job that pings each heartbeat and an
agent that posts its figures to each metric, so that an example's push checks have data."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from watchkeeper.config.schema import Config

log = logging.getLogger("watchkeeper.demo")

EVERY = 30.0
"""Seconds between rounds: each heartbeat is pinged and each metric posted once a round."""
FIRST_AFTER = 3.0
"""Seconds before the first round."""


def agent_values(agents: Mapping[str, Mapping[str, Any]], names: set[str]) -> dict[str, float]:
    """Given the demo target's agents (by name, with their figures) and metric names, return the
    highest figure of each name an agent reports (``agent_memory_mb`` reads ``memory_mb``)."""
    values: dict[str, float] = {}
    for name in names:
        field = name.removeprefix("agent_")
        found = [float(a[field]) for a in agents.values() if isinstance(a.get(field), int | float)]
        if found:
            values[name] = max(found)
    return values


async def feed(config: Config, watchkeeper: str, target: str, every: float = EVERY) -> None:
    """Every ``every`` seconds until cancelled, ping the config's heartbeats and post the demo
    agents' figures to its metrics at ``watchkeeper`` (its base URL); failures are logged."""
    heartbeats = [c.heartbeat.token for c in config.checks if c.heartbeat is not None]
    metrics: dict[str, set[str]] = {}
    for check in config.checks:
        if check.metric is not None:
            metrics.setdefault(check.metric.token, set()).add(check.metric.name)
    if not heartbeats and not metrics:
        return
    await asyncio.sleep(min(every, FIRST_AFTER))  # Watchkeeper is still starting
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while True:
            try:
                await _round(session, heartbeats, metrics, watchkeeper, target)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("demo feeder: %s", exc or type(exc).__name__)
            await asyncio.sleep(every)


async def _round(
    session: aiohttp.ClientSession,
    heartbeats: list[str],
    metrics: dict[str, set[str]],
    watchkeeper: str,
    target: str,
) -> None:
    for token in heartbeats:
        async with session.post(f"{watchkeeper}/api/ping/{token}", data=b"demo job done"):
            pass
    if not metrics:
        return
    async with session.get(f"{target}/api/agents/status") as resp:
        agents: dict[str, Any] = {}
        with contextlib.suppress(aiohttp.ContentTypeError, ValueError):
            agents = (await resp.json()).get("agents", {})
    for token, names in metrics.items():
        values = agent_values(agents, names)
        if values:
            async with session.post(
                f"{watchkeeper}/api/metrics", json={"token": token, "values": values}
            ):
                pass
