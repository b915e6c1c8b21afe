"""Probes that read the store get it through probe_context: an llm_chain judged on the results its
providers left in a real store, and a backup check on the catalogue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.config.test_loader import problems, write
from watchkeeper.config.loader import load_config
from watchkeeper.engine.plan import plan_checks
from watchkeeper.engine.runner import Runner
from watchkeeper.readers import probe_context
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

CONFIG = """\
checks:
  - {name: primary, llm: {provider: openai, url: "http://127.0.0.1:9/v1"}}
  - {name: fallback, llm: {provider: ollama, url: "http://127.0.0.1:9"}}
  - {name: chain, llm_chain: {providers: [primary, fallback], window: 1h}}
"""


def _result(check: str, minutes_ago: float, status: Status, response_time: float) -> Result:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    measurements = {"available": status is Status.OK, "response_time": response_time}
    return Result(check, at, status, 5.0, "", measurements)


async def test_an_llm_chain_reads_its_providers_results_from_the_store(
    any_store: Store, tmp_path: Path
) -> None:
    loaded = load_config(write(tmp_path, CONFIG))
    any_store.insert_results(
        [
            _result("primary", 50, Status.OK, 0.9),
            _result("fallback", 50, Status.OK, 0.2),
            _result("primary", 2, Status.CRITICAL, 0.9),
            _result("fallback", 2, Status.OK, 0.3),
            _result("primary", 90, Status.OK, 0.1),  # outside the window
        ]
    )
    [plan] = [p for p in plan_checks(loaded.config) if p.name == "chain"]
    ctx = probe_context(any_store, lambda: loaded.config)
    try:
        result = await Runner(ctx).run(plan)
    finally:
        await ctx.close()

    assert result.status is Status.OK, result.message
    assert result.measurements["active_provider"] == "fallback"
    assert result.measurements["healthy_count"] == 1
    assert result.measurements["suggested_order"] == ["fallback", "primary"]


def test_a_chain_naming_no_llm_check_is_reported_at_its_line(tmp_path: Path) -> None:
    text = CONFIG.replace("providers: [primary, fallback]", "providers: [primary, fallbak]")
    [found] = problems(tmp_path, text)
    assert found.startswith("4:52: unknown llm check 'fallbak' (did you mean 'fallback'?)"), found
