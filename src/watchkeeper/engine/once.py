"""Run a config's checks once, concurrently: what ``watchkeeper check`` does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from watchkeeper.config.loader import LoadedConfig
from watchkeeper.engine.plan import plan_checks
from watchkeeper.engine.runner import Runner
from watchkeeper.probes import ProbeContext
from watchkeeper.results import Measurements, Result


async def run_once(
    loaded: LoadedConfig,
    only: set[str] | None = None,
    backup_figures: Callable[[str], Measurements] | None = None,
) -> list[Result]:
    """Given a loaded config, run its enabled checks (or only those named) once; return results
    in config order. ``backup_figures`` reads the store for backup checks."""
    plans = [p for p in plan_checks(loaded.config) if only is None or p.name in only]
    ctx = ProbeContext(backup_figures=backup_figures)
    try:
        runner = Runner(ctx, loaded.secrets)
        return list(await asyncio.gather(*(runner.run(p) for p in plans)))
    finally:
        await ctx.close()
