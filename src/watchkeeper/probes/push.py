"""What the push probes (``heartbeat``, ``metric``) share: reading their series' figures."""

from __future__ import annotations

import asyncio
from typing import Any

from watchkeeper.probes.base import ProbeContext, ProbeError


async def read_push_figures(
    ctx: ProbeContext, kind: str, key: str, timeout: float
) -> dict[str, Any]:
    """Return the figures the store holds under a push spec's ``figures_key``, within ``timeout``;
    raise ProbeError when this run has no store open."""
    if ctx.push_figures is None:
        raise ProbeError(f"{kind} checks read the store; this run has none open")
    async with asyncio.timeout(timeout):
        return dict(await asyncio.to_thread(ctx.push_figures, key))
