"""Run a config's checks once, concurrently: what ``watchkeeper check`` does."""

from __future__ import annotations

import asyncio

from watchkeeper.config.loader import LoadedConfig
from watchkeeper.engine.plan import plan_checks
from watchkeeper.engine.runner import Runner
from watchkeeper.probes import ProbeContext
from watchkeeper.results import Result


async def run_once(
    loaded: LoadedConfig, only: set[str] | None = None, ctx: ProbeContext | None = None
) -> list[Result]:
    """Given a loaded config, run its enabled checks (or only those named) once, with ``ctx`` (its
    store readers set, for checks that read the store; closed after); return results in config
    order."""
    plans = [p for p in plan_checks(loaded.config) if only is None or p.name in only]
    ctx = ctx or ProbeContext()
    try:
        runner = Runner(ctx, loaded.secrets)
        return list(await asyncio.gather(*(runner.run(p) for p in plans)))
    finally:
        await ctx.close()
