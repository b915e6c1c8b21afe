"""The slo probe: an objective over another check's results, with the SRE workbook's burn-rate
alerts (``analytics.slo``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from watchkeeper.analytics.slo import (
    Event,
    EventLog,
    Objective,
    Severity,
    SloKind,
    availability_events,
    burn_rate,
    evaluate,
    latency_events,
    rules_for,
)
from watchkeeper.config.specs.slo import SloSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements


async def probe_slo(spec: SloSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Read the watched checks' results over the window from the store (pooled) → ``sli``,
    ``budget_remaining``, ``burn_rate_1h``, ``burn_rate_6h``, ``fast_burn``, ``slow_burn``,
    ``met``, ``events``, ``bad``."""
    now = datetime.now(UTC)
    since = now - timedelta(seconds=spec.window)
    async with asyncio.timeout(timeout):
        if spec.latency is None:
            if ctx.status_events is None:
                raise ProbeError("slo checks read the store; this run has none open")
            read_statuses = ctx.status_events
            statuses = await asyncio.to_thread(
                lambda: [s for name in spec.watched for s in read_statuses(name, since, now)]
            )
            events = availability_events(sorted(statuses, key=lambda s: s[0]))
        else:
            if ctx.latency_points is None:
                raise ProbeError("slo checks read the store; this run has none open")
            read_points = ctx.latency_points
            points = await asyncio.to_thread(
                lambda: [p for name in spec.watched for p in read_points(name, since, now)]
            )
            events = latency_events(sorted(points, key=lambda p: p[0]), spec.latency)
    return await asyncio.to_thread(judge_slo, spec, events, now)


def judge_slo(spec: SloSpec, events: Sequence[Event], now: datetime) -> Measurements:
    """Given an slo spec, the watched check's good/bad events and the time, return its measurements.

    ``burn_rate_1h`` and ``burn_rate_6h`` are the burn over the two page rules' long windows
    (1h and 6h for a 30-day window, scaled to others); null, like ``sli``, without events in them.
    """
    kind = SloKind.AVAILABILITY if spec.latency is None else SloKind.LATENCY
    objective = Objective(spec.objective, timedelta(seconds=spec.window), kind)
    log = EventLog.of(events)
    status = evaluate(objective, log, now)
    fast, slow = (rule.long for rule in rules_for(objective.window)[:2])
    severities = {alert.severity for alert in status.alerts}
    return {
        "sli": _percent(status.sli),
        "budget_remaining": _percent(status.budget_remaining),
        "burn_rate_1h": burn_rate(objective, log, now, fast),
        "burn_rate_6h": burn_rate(objective, log, now, slow),
        "fast_burn": Severity.PAGE in severities,
        "slow_burn": Severity.TICKET in severities,
        "met": status.met,
        "events": status.events,
        "bad": status.bad,
    }


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share
