"""The demo's stand-ins for what reports in from elsewhere: a job that pings each heartbeat, an
agent that posts its figures to each metric, and an app's error handler that posts the errors of
its log to each ``errors`` check, so that an example's push checks have data."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from watchkeeper.config.schema import Config

log = logging.getLogger("watchkeeper.demo")

EVERY = 30.0
"""Seconds between rounds: each heartbeat is pinged and each metric posted once a round."""
FIRST_AFTER = 3.0
"""Seconds before the first round."""
MAX_EVENTS = 100
"""Events per request, the most ``POST /api/errors`` takes."""

_ERROR_LINE = re.compile(r"^(\S+) (ERROR|CRITICAL|FATAL) \[([\w.-]+)\] (.+)$")
_LEVELS = {"ERROR": "error", "CRITICAL": "fatal", "FATAL": "fatal"}
_NEVER_ACCEPTED = {400, 413}
"""Answers to a batch that sending again cannot change: it is dropped, not retried."""


def error_event(line: str) -> dict[str, Any] | None:
    """Given a line of the demo app's log, return it as an error event for ``POST /api/errors``
    (None: not an error line)."""
    found = _ERROR_LINE.match(line.rstrip("\n"))
    if found is None:
        return None
    at, level, component, message = found.groups()
    return {
        "message": message,
        "level": _LEVELS[level],
        "timestamp": at,
        "tags": {"component": component},
    }


@dataclass
class LogShipper:
    """Reads the error lines added to log files since its last look (at first, what they hold),
    and keeps them until they are sent."""

    paths: list[Path]
    offsets: dict[Path, int] = field(default_factory=dict)
    unsent: list[dict[str, Any]] = field(default_factory=list)

    def new_events(self) -> list[dict[str, Any]]:
        """Return the error events of the lines written since the last call."""
        events = []
        for path in self.paths:
            with contextlib.suppress(OSError), path.open("rb") as log_file:
                offset = self.offsets.get(path, 0)
                # A file shorter than where reading stopped was truncated or replaced: from its start.
                log_file.seek(offset if offset <= os.fstat(log_file.fileno()).st_size else 0)
                chunk = log_file.read()
                # A line still being written is read whole next time.
                whole = chunk[: chunk.rfind(b"\n") + 1]
                self.offsets[path] = log_file.tell() - len(chunk) + len(whole)
                for line in whole.decode("utf-8", "replace").splitlines():
                    event = error_event(line)
                    if event is not None:
                        events.append(event)
        return events

    def read(self) -> list[dict[str, Any]]:
        """Add the error events written since the last look to those not sent yet; return all
        of them, oldest first (``sent`` takes them off once they are)."""
        self.unsent.extend(self.new_events())
        return self.unsent

    def sent(self, count: int) -> None:
        """Forget the oldest ``count`` unsent events: they were accepted."""
        del self.unsent[:count]


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
    error_tokens = sorted({c.errors.token for c in config.checks if c.errors is not None})
    logs = [Path(p) for c in config.checks if c.log is not None for p in c.log.paths]
    shipper = LogShipper(logs if error_tokens else [])
    if not heartbeats and not metrics and not error_tokens:
        return
    await asyncio.sleep(min(every, FIRST_AFTER))  # Watchkeeper is still starting
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while True:
            try:
                await _round(session, heartbeats, metrics, watchkeeper, target)
                await _post_errors(session, shipper, error_tokens, watchkeeper)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("demo feeder: %s", exc or type(exc).__name__)
            await asyncio.sleep(every)


async def _post_errors(
    session: aiohttp.ClientSession, shipper: LogShipper, tokens: list[str], watchkeeper: str
) -> None:
    # Sent in order, each batch to every token, and forgotten only once all took it: a
    # Watchkeeper that is down or restarting loses none of them.
    while batch := shipper.read()[:MAX_EVENTS]:
        for token in tokens:
            body = {"token": token, "events": batch}
            async with session.post(f"{watchkeeper}/api/errors", json=body) as resp:
                if resp.status in _NEVER_ACCEPTED:
                    log.warning("demo feeder: %d errors refused (%d)", len(batch), resp.status)
                elif resp.status >= 400:
                    log.warning("demo feeder: POST /api/errors answered %d", resp.status)
                    return
        shipper.sent(len(batch))


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
