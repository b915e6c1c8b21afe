"""The backup probe: a configured backup's figures from the catalogue in the store."""

from __future__ import annotations

import asyncio

from watchkeeper.config.specs import BackupSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements


async def probe_backup(spec: BackupSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Read the backup's figures (``age``, ``size``, ``last_failed`` …) from the store; a backup
    with no good copy yet cannot be judged, and says so."""
    if ctx.backup_figures is None:
        raise ProbeError("backup checks read the store; this run has none open")
    async with asyncio.timeout(timeout):
        figures = await asyncio.to_thread(ctx.backup_figures, spec.name)
    if "age" not in figures:
        why = (
            f": the last attempt failed: {figures['last_error']}"
            if figures.get("last_error")
            else ""
        )
        raise ProbeError(f"no good backup of {spec.name} yet{why}")
    return figures
