"""The llm_chain probe over fixed results, given through the store reader it is handed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from watchkeeper.config.specs.llm import LlmChainSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.llm_chain import (
    ProviderStats,
    probe_llm_chain,
    provider_stats,
    suggest_order,
)
from watchkeeper.results import Measurements, Result, Status

START = datetime(2026, 11, 1, tzinfo=UTC)


def run(check: str, i: int, status: Status, response_time: float | None = None) -> Result:
    """One stored result of an llm check, as the runner records it."""
    if status is Status.ERROR:
        return Result(check, START + timedelta(hours=i), status, 5000.0, "timed out after 5s")
    measurements: Measurements = {"available": status is not Status.CRITICAL, "status": 200}
    if response_time is not None:
        measurements["response_time"] = response_time
    return Result(check, START + timedelta(hours=i), status, 10.0, "", measurements)


def history(check: str, *runs: tuple[Status, float | None]) -> list[Result]:
    return [run(check, i, status, rt) for i, (status, rt) in enumerate(runs)]


OK, WARN, CRIT, ERR = Status.OK, Status.WARNING, Status.CRITICAL, Status.ERROR

# The 000 guide's chain: ollama, then groq, then openai.
RESULTS: dict[str, list[Result]] = {
    # Failing now: its latest run timed out.
    "ollama": history("ollama", (OK, 0.8), (OK, 0.8), (OK, 0.8), (ERR, None)),
    # Healthy, but one run in four failed.
    "groq": history("groq", (OK, 1.0), (CRIT, 0.3), (OK, 1.4), (OK, 1.2)),
    # Healthy, never failed, slower; its latest is a quota warning, which still serves.
    "openai": history("openai", (OK, 2.0), (OK, 2.2), (OK, 2.1), (WARN, 2.1)),
}


def reader(
    results: dict[str, list[Result]], asked: list[tuple[str, float]] | None = None
) -> Callable[[str, float], Sequence[Result]]:
    """Return a store reader over fixed results, noting what it was asked for in ``asked``."""

    def recent_results(name: str, seconds: float) -> Sequence[Result]:
        if asked is not None:
            asked.append((name, seconds))
        return results.get(name, [])

    return recent_results


async def test_the_chain_falls_back_and_suggests_a_new_order() -> None:
    asked: list[tuple[str, float]] = []
    ctx = ProbeContext(recent_results=reader(RESULTS, asked))
    spec = LlmChainSpec(providers=("ollama", "groq", "openai"))

    m = await probe_llm_chain(spec, ctx, timeout=5)

    assert asked == [("ollama", 30 * 86400.0), ("groq", 30 * 86400.0), ("openai", 30 * 86400.0)]
    assert m["active_provider"] == "groq"
    assert m["healthy_count"] == 2
    assert m["failing"] == ["ollama"]
    assert m["all_failing"] is False
    # Latency counts the runs a provider answered in: groq's critical run was available false.
    assert m["latency_p50"] == {"ollama": 0.8, "groq": 1.2, "openai": 2.1}
    assert m["error_rate"] == {"ollama": 25.0, "groq": 25.0, "openai": 0.0}
    assert m["suggested_order"] == ["openai", "groq", "ollama"]
    assert m["order_changed"] is True


async def test_every_provider_failing_is_critical_by_default() -> None:
    failing = {
        "groq": history("groq", (OK, 1.0), (ERR, None)),
        "openai": history("openai", (CRIT, 0.4)),
    }
    ctx = ProbeContext(recent_results=reader(failing))
    spec = LlmChainSpec(providers=("groq", "openai"), window="7d")

    m = await probe_llm_chain(spec, ctx, timeout=5)

    assert m["active_provider"] is None
    assert m["healthy_count"] == 0
    assert m["all_failing"] is True
    assert m["latency_p50"] == {"groq": 1.0}
    assert m["suggested_order"] == ["groq", "openai"]
    assert m["order_changed"] is False
    rules = Rules.parse([], default_expect=LlmChainSpec.default_expect)
    assert judge(rules, m) == (
        Status.CRITICAL,
        "expected all_failing == false (all_failing = true)",
    )


async def test_the_guides_alerts_apply() -> None:
    # 000: "Single LLM provider failure" is a warning; "High error rates (>2%)".
    rules = Rules.parse(
        [],
        warn=["healthy_count < 3", "error_rate.groq > 2%"],
        default_expect=LlmChainSpec.default_expect,
    )
    ctx = ProbeContext(recent_results=reader(RESULTS))

    m = await probe_llm_chain(LlmChainSpec(providers=("ollama", "groq", "openai")), ctx, 5)

    status, message = judge(rules, m)
    assert status is Status.WARNING
    assert (
        message
        == "healthy_count < 3 (healthy_count = 2); error_rate.groq > 2% (error_rate.groq = 25)"
    )


async def test_a_provider_without_results_is_named() -> None:
    ctx = ProbeContext(recent_results=reader(RESULTS))
    spec = LlmChainSpec(providers=("groq", "mistral"), window="30d")

    with pytest.raises(ProbeError) as caught:
        await probe_llm_chain(spec, ctx, timeout=5)

    assert str(caught.value) == (
        "no results from mistral in the last 30d: each provider must be an llm check that has run"
    )


async def test_without_a_store_it_says_so() -> None:
    with pytest.raises(ProbeError, match="no store open"):
        await probe_llm_chain(LlmChainSpec(providers=("groq",)), ProbeContext(), timeout=5)


def test_provider_stats_on_known_results() -> None:
    stats = provider_stats("groq", RESULTS["groq"])

    assert stats == ProviderStats("groq", healthy=True, error_rate=25.0, latency_p50=1.2)
    assert provider_stats("ollama", RESULTS["ollama"]).healthy is False


def test_suggest_order_ranks_healthy_by_error_rate_then_latency() -> None:
    providers = [
        ProviderStats("a", healthy=False, error_rate=0.0, latency_p50=0.1),
        ProviderStats("b", healthy=True, error_rate=5.0, latency_p50=0.2),
        ProviderStats("c", healthy=True, error_rate=1.0, latency_p50=3.0),
        ProviderStats("d", healthy=True, error_rate=1.0, latency_p50=0.5),
        ProviderStats("e", healthy=True, error_rate=1.0, latency_p50=None),
        ProviderStats("f", healthy=False, error_rate=90.0, latency_p50=None),
    ]

    assert suggest_order(providers) == ["d", "c", "e", "b", "a", "f"]


def test_suggest_order_keeps_the_configured_order_on_ties() -> None:
    providers = [
        ProviderStats("x", healthy=True, error_rate=0.0, latency_p50=1.0),
        ProviderStats("y", healthy=True, error_rate=0.0, latency_p50=1.0),
    ]

    assert suggest_order(providers) == ["x", "y"]


def test_spec_rules() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        LlmChainSpec(providers=())
    with pytest.raises(ValidationError, match="repeated: groq"):
        LlmChainSpec(providers=("groq", "openai", "groq"))
    with pytest.raises(ValidationError, match="longer than zero"):
        LlmChainSpec(providers=("groq",), window="0s")
    assert LlmChainSpec(providers=("groq",), window="7d").window == 7 * 86400.0
