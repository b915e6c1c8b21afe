"""The metric probe: the values an app posted (``POST /api/metrics``) under one name."""

from __future__ import annotations

import asyncio
from typing import Any

from watchkeeper.config.specs.push import MetricSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements


async def probe_metric(spec: MetricSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Read the posted values from the store → ``<name>`` (the latest), its ``age``, and
    ``count``, ``mean``, ``min``, ``max``, ``p95`` over the window."""
    if ctx.push_figures is None:
        raise ProbeError("metric checks read the store; this run has none open")
    async with asyncio.timeout(timeout):
        figures = await asyncio.to_thread(ctx.push_figures, spec.figures_key)
    return judge_values(spec, figures)


def judge_values(spec: MetricSpec, figures: dict[str, Any]) -> Measurements:
    """Given a metric spec and its series' figures from the store, return its measurements.

    A name never posted is an error, "no value yet", once a ``window`` has passed since a check
    first read it; before that its only figure is ``count`` (0), so thresholds cannot fire.
    """
    measured = {k: v for k, v in figures.items() if k != "first_seen_age"}
    if spec.name not in measured:
        seen = figures.get("first_seen_age", 0.0)
        if seen > spec.window:
            raise ProbeError(
                f"no {spec.name} posted yet: none in the {format_duration(seen)} since this "
                "check started watching"
            )
    return measured
