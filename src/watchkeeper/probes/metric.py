"""The metric probe: the values an app posted (``POST /api/metrics``) under one name."""

from __future__ import annotations

from typing import Any

from watchkeeper.config.specs.push import MetricSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext
from watchkeeper.probes.push import read_push_figures
from watchkeeper.results import Measurements


async def probe_metric(spec: MetricSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Read the posted values from the store → ``<name>`` (the latest), its ``age``, ``count``,
    ``mean``, ``min``, ``max``, ``p95`` over the window, and ``silent``."""
    return judge_values(spec, await read_push_figures(ctx, "metric", spec.figures_key, timeout))


def judge_values(spec: MetricSpec, figures: dict[str, Any]) -> Measurements:
    """Given a metric spec and its series' figures from the store, return its measurements.

    A name never posted is ``silent``, with ``error`` saying "no value yet", once a ``window`` has
    passed since a check first read it; before that its only figures are ``count`` (0) and
    ``silent`` (false), so thresholds cannot fire.
    """
    measured = {k: v for k, v in figures.items() if k != "first_seen_age"}
    measured["silent"] = False
    seen = figures.get("first_seen_age", 0.0)
    if spec.name not in measured and seen > spec.window:
        measured["silent"] = True
        measured["error"] = (
            f"no {spec.name} posted yet: none in the {format_duration(seen)} since this "
            "check started watching"
        )
    return measured
