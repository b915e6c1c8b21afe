"""The ``llm_chain`` probe: a fallback chain of ``llm`` checks judged from their recent results,
with the order the measured error rates and latencies suggest (the guides reorder it monthly)."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from watchkeeper.config.specs.llm import LlmChainSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements, Result, Status


@dataclass(frozen=True, slots=True)
class ProviderStats:
    """One provider's standing over the window."""

    name: str
    healthy: bool
    """Its latest result is ok or a warning (a quota warning still serves requests)."""
    error_rate: float
    """Percent of its results that were critical or errors."""
    latency_p50: float | None
    """Median ``response_time`` of the runs it answered in; None if it never answered."""


async def probe_llm_chain(spec: LlmChainSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a chain of llm checks, read their results over the window and return which provider
    is active, how many are healthy, their error rates and latencies, and a suggested order."""
    reader = ctx.recent_results
    if reader is None:
        raise ProbeError(
            "llm_chain checks read their providers' results; this run has no store open"
        )

    def read_all() -> list[Sequence[Result]]:
        return [reader(name, spec.window) for name in spec.providers]

    async with asyncio.timeout(timeout):
        histories = await asyncio.to_thread(read_all)
    silent = [name for name, results in zip(spec.providers, histories, strict=True) if not results]
    if silent:
        raise ProbeError(
            f"no results from {', '.join(silent)} in the last {format_duration(spec.window)}:"
            " each provider must be an llm check that has run"
        )
    return chain_measurements(
        [
            provider_stats(name, results)
            for name, results in zip(spec.providers, histories, strict=True)
        ]
    )


def provider_stats(name: str, results: Sequence[Result]) -> ProviderStats:
    """Given a provider's name and its results (oldest first, at least one), return its standing."""
    errors = sum(1 for r in results if r.status.rank >= Status.CRITICAL.rank)
    latencies = [
        float(r.measurements["response_time"])
        for r in results
        if _answered(r) and isinstance(r.measurements.get("response_time"), int | float)
    ]
    return ProviderStats(
        name=name,
        healthy=results[-1].status.rank < Status.CRITICAL.rank,
        error_rate=100.0 * errors / len(results),
        latency_p50=statistics.median(latencies) if latencies else None,
    )


def _answered(result: Result) -> bool:
    # An llm result says so itself; a probe error carries no measurements and did not answer.
    return bool(result.measurements.get("available", not result.status.failing))


def suggest_order(providers: Sequence[ProviderStats]) -> list[str]:
    """Given providers' standings in their configured order, return the order to fall back through
    them: healthy ones by error rate, then median latency (unknown latency last, configured order
    breaking ties), then the failing ones in their configured order."""
    never = float("inf")
    healthy = sorted(
        (p for p in providers if p.healthy),
        key=lambda p: (p.error_rate, never if p.latency_p50 is None else p.latency_p50),
    )
    return [p.name for p in healthy] + [p.name for p in providers if not p.healthy]


def chain_measurements(providers: Sequence[ProviderStats]) -> Measurements:
    """Given providers' standings in their configured order, return the chain's measurements."""
    configured = [p.name for p in providers]
    suggested = suggest_order(providers)
    healthy = [p.name for p in providers if p.healthy]
    return {
        "active_provider": healthy[0] if healthy else None,
        "healthy_count": len(healthy),
        "failing": [p.name for p in providers if not p.healthy],
        "all_failing": not healthy,
        "latency_p50": {p.name: p.latency_p50 for p in providers if p.latency_p50 is not None},
        "error_rate": {p.name: p.error_rate for p in providers},
        "suggested_order": suggested,
        "order_changed": suggested != configured,
    }
