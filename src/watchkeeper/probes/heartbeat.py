"""The heartbeat probe: is a job that pings us (``/api/ping/<token>``) on time, running, or failed?"""

from __future__ import annotations

from typing import Any

from watchkeeper.config.specs.push import HeartbeatSpec, PingKind
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext
from watchkeeper.probes.push import read_push_figures
from watchkeeper.results import Measurements


async def probe_heartbeat(spec: HeartbeatSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Read the job's pings from the store → ``down``, ``last_ping_age``, ``last_ping_kind``,
    ``running``, ``last_duration``, ``pings_24h`` (and ``last_message``, the last ping's body)."""
    return judge_pings(spec, await read_push_figures(ctx, "heartbeat", spec.figures_key, timeout))


def judge_pings(spec: HeartbeatSpec, figures: dict[str, Any]) -> Measurements:
    """Given a heartbeat spec and its series' figures from the store, return its measurements.

    As Healthchecks.io judges a check: down after a ``/fail``, after a ``/start`` not ended within
    ``grace``, or with no ping for ``period + grace``. A series never pinged is "new" (not down)
    until ``period + grace`` after a check first read it; then it is down, with ``error`` saying
    "no ping yet".
    """
    late_after = spec.period + spec.grace
    age = figures.get("last_ping_age")
    if age is None:
        seen = figures.get("first_seen_age", 0.0)
        never: Measurements = {"down": False, "running": False, "pings_24h": 0}
        if seen > late_after:
            never["down"] = True
            never["error"] = (
                f"no ping yet: none in the {format_duration(seen)} since this check started "
                f"watching (period {format_duration(spec.period)} + grace "
                f"{format_duration(spec.grace)})"
            )
        return never
    kind = PingKind(figures["last_ping_kind"])
    running = kind is PingKind.START
    # A started run must end within grace; otherwise the last end must be a success, on time.
    down = (age > spec.grace) if running else (kind is PingKind.FAIL or age > late_after)
    measured: Measurements = {
        "down": down,
        "last_ping_age": age,
        "last_ping_kind": kind.value,
        "running": running,
        "pings_24h": figures.get("pings_24h", 0),
    }
    for name in ("last_duration", "last_message"):
        if name in figures:
            measured[name] = figures[name]
    return measured
