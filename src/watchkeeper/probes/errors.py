"""The errors probe: the error events an app posted (``POST /api/errors``), judged as 003's guide
reviews its error log — recurring kinds, new kinds, bursts, floods and clusters."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from watchkeeper.analytics.errors import (
    ErrorEvent,
    ErrorLevel,
    PatternRules,
    PatternVerdict,
    clusters,
    overall,
    patterns,
)
from watchkeeper.config.specs.errors import ErrorsSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements

TOP = 10
"""Kinds listed in ``top_errors``, gravest first."""
MAX_LISTED = 50
"""Fingerprints listed in ``recurring`` and ``new_types``, as the log probe lists them."""

_RANK = {level: rank for rank, level in enumerate(ErrorLevel)}
_VERDICT_RANK = {verdict: rank for rank, verdict in enumerate(PatternVerdict)}


async def probe_errors(spec: ErrorsSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Read the app's error events from the store → ``error_count``, ``kinds``, ``top_errors``,
    ``recurring``, ``new_types``, ``burst``, ``burst_peak_per_hour``, ``clusters``, ``verdict``."""
    if ctx.error_events is None:
        raise ProbeError("errors checks read the store; this run has none open")
    now = datetime.now(UTC)
    since = now - timedelta(seconds=spec.window + spec.history)
    async with asyncio.timeout(timeout):
        events = await asyncio.to_thread(ctx.error_events, spec.series, since)
    # Grouping thousands of events takes a while: off the loop, as the read is.
    return await asyncio.to_thread(judge_errors, spec, events, now)


def rules_of(spec: ErrorsSpec) -> PatternRules:
    """Given an errors spec, return the escalation rules it applies."""
    return PatternRules(
        recurring_over=spec.recurring_over,
        escalate_over=spec.escalate_over,
        burst_over=spec.burst_over,
        critical_over=spec.critical_over,
    )


def judge_errors(spec: ErrorsSpec, events: Sequence[ErrorEvent], now: datetime) -> Measurements:
    """Given an errors spec, its series' events (window and history) and ``now``, return its
    measurements. ``verdict`` is the gravest of all errors together and of each kind."""
    wanted = counted(spec, events)
    window = timedelta(seconds=spec.window)
    rules = rules_of(spec)
    found = patterns(wanted, now, window, rules)
    total = overall(wanted, now, window, rules)
    inside = [e for e in wanted if now - window < e.time <= now]
    verdict = max((total.verdict, *(p.verdict for p in found)), key=_VERDICT_RANK.__getitem__)
    return {
        "error_count": total.count,
        "kinds": total.kinds,
        "top_errors": [
            {
                "fingerprint": p.fingerprint.key,
                "text": p.fingerprint.text,
                "count": p.count,
                "example": p.example,
                "level": p.level.value,
                "verdict": p.verdict.value,
            }
            for p in found[:TOP]
        ],
        "recurring": [p.fingerprint.key for p in found if p.recurring][:MAX_LISTED],
        "new_types": [p.fingerprint.key for p in found if p.new][:MAX_LISTED],
        "burst": total.peak > rules.burst_over,
        "burst_peak_per_hour": total.peak,
        "clusters": len(clusters(inside)),
        "verdict": verdict.value,
    }


def counted(spec: ErrorsSpec, events: Sequence[ErrorEvent]) -> list[ErrorEvent]:
    """Given an errors spec and events, return those it counts: at its ``level`` or graver, with
    all its ``tags``."""
    least = _RANK[ErrorLevel(spec.level)]
    wanted = set(spec.tags.items())
    return [e for e in events if _RANK[e.level] >= least and wanted <= set(e.tags)]
