"""The system probe: CPU, memory, swap, load, disk and process figures of this host, from psutil."""

from __future__ import annotations

import asyncio

import psutil

from watchkeeper.config.specs import SystemSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements


async def probe_system(spec: SystemSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a system spec, return this host's figures; disk ones for the mount holding ``disk``.

    The CPU is sampled over ``cpu_sample`` seconds (at most half the timeout, so the sampling
    thread ends before the check is given up) while the other figures are read.
    """
    cpu_percent, figures = await asyncio.gather(
        asyncio.to_thread(psutil.cpu_percent, min(spec.cpu_sample, timeout / 2)),
        asyncio.to_thread(_snapshot, spec.disk),
    )
    return {"cpu_percent": float(cpu_percent), **figures}


def _snapshot(disk: str) -> Measurements:
    try:
        usage = psutil.disk_usage(disk)
    except OSError as exc:
        raise ProbeError(f"cannot read disk usage of {disk}: {exc.strerror or exc}") from None
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    load_1m, load_5m, load_15m = psutil.getloadavg()
    return {
        "memory_used_percent": float(memory.percent),
        "memory_available": int(memory.available),
        "swap_used_percent": float(swap.percent) if swap.total else 0.0,
        "load_1m": load_1m,
        "load_5m": load_5m,
        "load_15m": load_15m,
        "disk_used_percent": float(usage.percent),
        "disk_free": int(usage.free),
        "disk_total": int(usage.total),
        "process_count": len(psutil.pids()),
    }
