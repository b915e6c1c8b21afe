"""The demo target's application endpoints over real HTTP, and the guides' thresholds on them."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.demo.conftest import Served
from watchkeeper.config.specs import HttpSpec
from watchkeeper.demo.target_apps import ENDPOINTS, SUPABASE_KEY, Endpoint
from watchkeeper.demo.target_core import PARTS
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext
from watchkeeper.probes.http import probe_http
from watchkeeper.results import Status

KEY = {"apikey": SUPABASE_KEY}
CONCRETE = {"/api/agents/{name}/status": "/api/agents/content/status"}


async def get(target: Served, path: str, **kw: Any) -> tuple[int, Any]:
    async with target.http.get(target.url + path, **kw) as resp:
        if resp.content_type == "text/html":
            return resp.status, await resp.text()
        return resp.status, await resp.json()


# What each endpoint answers while its part fails: an error, or (agents) degraded figures.
FAILING_STATUS = {
    "/api/health": 503,
    "/health": 503,
    "/api/agents/status": 200,
    "/api/agents/memory/stats": 200,
    "/api/agents/logs": 200,
    "/api/agents/content/status": 200,
    "/api/models/status": 200,
    "/rest/v1/": 503,
    "/auth/v1/health": 503,
    "/api/method/ping": 503,
    "/api/method/verenigingen.www.monitoring_dashboard.get_analytics_summary": 503,
    "/monitoring_dashboard": 503,
    "/api/search/health": 503,
    "/api/auth/providers": 500,
}


def test_the_table_and_the_expectations_name_the_same_endpoints() -> None:
    assert {CONCRETE.get(e.path, e.path) for e in ENDPOINTS} == set(FAILING_STATUS)
    assert {e.part for e in ENDPOINTS} <= set(PARTS)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
async def test_every_endpoint_answers_then_answers_as_its_part_fails_and_recovers(
    target: Served, endpoint: Endpoint
) -> None:
    path = CONCRETE.get(endpoint.path, endpoint.path)
    status, healthy = await get(target, path, headers=KEY)
    assert status == 200, healthy
    await target.switch("fail", endpoint.part)
    status, _ = await get(target, path, headers=KEY)
    assert status == FAILING_STATUS[path]
    await target.switch("recover", "")
    assert (await get(target, path, headers=KEY))[0] == 200


@pytest.mark.parametrize("part", sorted({e.part for e in ENDPOINTS}))
async def test_every_part_can_be_slowed(target: Served, part: str) -> None:
    endpoint = next(e for e in ENDPOINTS if e.part == part)
    await target.switch("slow", part, "?ms=250")
    started = time.perf_counter()
    status, _ = await get(target, CONCRETE.get(endpoint.path, endpoint.path), headers=KEY)
    assert status == 200 and time.perf_counter() - started >= 0.25


async def test_the_backend_health_has_database_and_queue(target: Served) -> None:
    status, body = await get(target, "/health")
    assert status == 200 and body["status"] == "healthy"
    assert set(body["database"]) >= {"status", "connections", "max_connections"}
    assert set(body["queue"]) >= {"status", "depth", "workers"}
    await target.switch("fail", "backend")
    status, body = await get(target, "/health")
    assert status == 503 and body["status"] == "unhealthy"
    assert body["database"]["connections"] > 80  # 001's "Database Connections: alert if >80"


AGENT_FIELDS = {
    "state",
    "last_run",
    "execution_time",
    "memory_mb",
    "qa_rejection_rate",
    "self_critique_iterations",
    "queue_depth",
}
# 001's alert conditions for agents, written as Watchkeeper conditions on /api/agents/status.
AGENT_RULES = Rules.parse(
    expect=["status == 200", 'json.status == "healthy"'],
    critical=[
        "json.agents.content.execution_time > 300",
        "json.agents.content.memory_mb > 500",
        "json.agents.content.qa_rejection_rate > 0.3",
        "json.agents.content.self_critique_iterations > 3",
    ],
)


async def test_agents_report_their_figures_and_a_stuck_agent_breaks_001s_thresholds(
    target: Served,
) -> None:
    status, body = await get(target, "/api/agents/status")
    assert status == 200 and body["status"] == "healthy"
    assert set(body["agents"]) == {"content", "financial", "market", "compliance"}
    assert all(set(agent) == AGENT_FIELDS for agent in body["agents"].values())
    status, one = await get(target, "/api/agents/market/status")
    assert status == 200 and one["name"] == "market" and set(one) == AGENT_FIELDS | {"name"}
    status, missing = await get(target, "/api/agents/nobody/status")
    assert status == 404 and "nobody" in missing["detail"]

    ctx = ProbeContext()
    try:
        spec = HttpSpec(url=f"{target.url}/api/agents/status")
        assert judge(AGENT_RULES, await probe_http(spec, ctx, timeout=5))[0] == Status.OK
        await target.switch("fail", "agents")
        verdict, message = judge(AGENT_RULES, await probe_http(spec, ctx, timeout=5))
    finally:
        await ctx.close()
    assert verdict == Status.CRITICAL
    for figure in ("execution_time", "memory_mb", "qa_rejection_rate", "self_critique_iterations"):
        assert figure in message


async def test_agent_memory_and_error_logs(target: Served) -> None:
    status, memory = await get(target, "/api/agents/memory/stats")
    assert status == 200 and memory["total_mb"] == sum(memory["agents"].values())
    status, logs = await get(target, "/api/agents/logs?level=error&limit=2")
    assert status == 200 and len(logs["logs"]) == 2
    assert all(entry["level"] == "ERROR" for entry in logs["logs"])
    assert (await get(target, "/api/agents/logs?limit=x"))[0] == 422


async def test_the_model_router_follows_the_providers_down_the_fallback_chain(
    target: Served,
) -> None:
    async def router() -> Any:
        return (await get(target, "/api/models/status"))[1]

    first = await router()
    assert first["fallback_chain"] == ["openai", "backup", "ollama"]
    assert (first["status"], first["active_provider"]) == ("healthy", "openai")
    await target.switch("fail", "openai")
    second = await router()
    assert (second["status"], second["active_provider"]) == ("degraded", "backup")
    for part in ("backup", "ollama"):
        await target.switch("fail", part)
    last = await router()
    assert (last["status"], last["active_provider"]) == ("exhausted", None)
    assert not any(p["available"] for p in last["providers"].values())


async def test_the_admin_page_shows_each_provider_available_or_not(target: Served) -> None:
    _, page = await get(target, "/admin")
    assert page.count("Available") == 3 and "Unavailable" not in page
    await target.switch("fail", "backup")
    _, page = await get(target, "/admin")
    assert "Backup (OpenAI-compatible): <b>Unavailable</b>" in page


@pytest.mark.parametrize("path", ["/rest/v1/", "/auth/v1/health"])
async def test_supabase_needs_its_apikey(target: Served, path: str) -> None:
    status, body = await get(target, path)
    assert status == 401 and body["message"] == "No API key found in request"
    status, body = await get(target, path, headers={"apikey": "wrong"})
    assert status == 401 and body["message"] == "Invalid API key"
    assert "wrong" not in str(body)
    status, body = await get(target, path, headers=KEY)
    assert status == 200
    await target.switch("fail", "supabase")
    status, body = await get(target, path, headers=KEY)
    assert status == 503 and body["code"] == "PGRST000"


async def test_frappe_pings_and_summarises_from_the_log(target: Served) -> None:
    assert await get(target, "/api/method/ping") == (200, {"message": "pong"})
    path = "/api/method/verenigingen.www.monitoring_dashboard.get_analytics_summary"
    status, body = await get(target, path)
    summary = body["message"]
    assert status == 200 and summary["system_status"] == "healthy"
    # 003's targets: errors (24h) under 10 on a quiet day, cache hit rate over 70%.
    assert summary["errors_24h"] < 10 and summary["cache_hit_rate"] > 70
    await target.switch("fail", "health")  # a burst of errors lands in the log
    await target.switch("recover", "")
    _, body = await get(target, path)
    assert body["message"]["errors_24h"] >= summary["errors_24h"] + 25
    status, page = await get(target, "/monitoring_dashboard")
    assert status == 200 and "Executive Summary" in page and "healthy" in page
    await target.switch("fail", "frappe")
    assert (await get(target, "/api/method/ping"))[0] == 503


async def test_contribux_search_and_auth(target: Served) -> None:
    status, search = await get(target, "/api/search/health")
    assert status == 200 and search["status"] == "healthy" and search["p95_ms"] < 100
    status, providers = await get(target, "/api/auth/providers")
    assert status == 200 and providers["github"]["type"] == "oauth"
    await target.switch("fail", "contribux")
    assert (await get(target, "/api/search/health"))[0] == 503
