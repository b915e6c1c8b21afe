"""The demo target's application endpoints: what the five guides' checks call, as one table.

A FastAPI-like backend (``/api/health``, ``/health``), AI agents and their model router
(``/api/agents/…``, ``/api/models/status``), Supabase (``/rest/v1/``, ``/auth/v1/health`` behind an
``apikey`` header), Frappe (``/api/method/…``, ``/monitoring_dashboard``) and contribux's search
and auth. Each row says which part it belongs to, what it answers, and what it answers failing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web

from watchkeeper.demo.target_core import Target

SUPABASE_KEY = "demo-anon-key"
FALLBACK_CHAIN = ("openai", "backup", "ollama")

Reply = tuple[int, object]  # a status and a body: JSON data, or a str served as HTML
Answer = Callable[[Target, web.Request], Reply]


@dataclass(frozen=True)
class Endpoint:
    """One GET endpoint: its path, its part, its answers, and the header it requires if any."""

    path: str
    part: str
    ok: Answer
    failing: Answer
    key: tuple[str, str] | None = None  # header and value; 401 without them


def _const(status: int, body: object) -> Answer:
    return lambda target, request: (status, body)


def _now() -> str:
    return datetime.now(UTC).isoformat()


# Agents: figures when healthy, and the content agent's when the "agents" part fails.
_AGENTS: dict[str, dict[str, object]] = {
    "content": {"state": "idle", "execution_time": 42.0, "memory_mb": 212.0,
                "qa_rejection_rate": 0.12, "self_critique_iterations": 2, "queue_depth": 3},
    "financial": {"state": "idle", "execution_time": 8.5, "memory_mb": 148.0,
                  "qa_rejection_rate": 0.03, "self_critique_iterations": 1, "queue_depth": 0},
    "market": {"state": "running", "execution_time": 23.1, "memory_mb": 176.0,
               "qa_rejection_rate": 0.05, "self_critique_iterations": 1, "queue_depth": 1},
    "compliance": {"state": "idle", "execution_time": 15.7, "memory_mb": 131.0,
                   "qa_rejection_rate": 0.08, "self_critique_iterations": 1, "queue_depth": 2},
}  # fmt: skip
_STUCK = {"state": "running", "execution_time": 412.0, "memory_mb": 688.0,
          "qa_rejection_rate": 0.41, "self_critique_iterations": 5, "queue_depth": 57}  # fmt: skip


def _agents(target: Target) -> dict[str, dict[str, object]]:
    stuck = "agents" in target.state.failing
    last_run = (datetime.now(UTC) - timedelta(minutes=4)).isoformat()
    return {
        name: {**figures, **(_STUCK if stuck and name == "content" else {}), "last_run": last_run}
        for name, figures in _AGENTS.items()
    }


def _agents_status(target: Target, request: web.Request) -> Reply:
    status = "degraded" if "agents" in target.state.failing else "healthy"
    return 200, {"status": status, "agents": _agents(target), "timestamp": _now()}


def _agent_status(target: Target, request: web.Request) -> Reply:
    name = request.match_info["name"]
    agents = _agents(target)
    if name not in agents:
        return 404, {"detail": f"Agent '{name}' not found"}
    return 200, {"name": name, **agents[name]}


def _agents_memory(target: Target, request: web.Request) -> Reply:
    memory = {name: figures["memory_mb"] for name, figures in _agents(target).items()}
    total = sum(float(str(mb)) for mb in memory.values())
    return 200, {"total_mb": total, "limit_mb": 2048, "agents": memory}


def _agent_logs(target: Target, request: web.Request) -> Reply:
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        return 422, {"detail": "limit must be an integer"}
    level = request.query.get("level", "error").upper()
    return 200, {"logs": target.log.tail(level, limit)}


def _models_status(target: Target, request: web.Request) -> Reply:
    available = {p: p not in target.state.failing for p in FALLBACK_CHAIN}
    active = next((p for p in FALLBACK_CHAIN if available[p]), None)
    status = "exhausted" if active is None else "healthy" if all(available.values()) else "degraded"
    return 200, {
        "status": status,
        "fallback_chain": list(FALLBACK_CHAIN),
        "active_provider": active,
        "providers": {p: {"available": up} for p, up in available.items()},
    }


def _frappe_figures(target: Target) -> dict[str, object]:
    errors = target.log.count("ERROR", datetime.now(UTC) - timedelta(hours=24))
    return {
        "system_status": "healthy" if errors <= 50 else "at_risk",
        "critical_issues": 0,
        "errors_24h": errors,
        "compliance_score": 94.2,
        "active_members": 1287,
        "cache_hit_rate": 81.5,
        "db_response_ms": 12.4,
        "api_response_ms": 148.0,
        "forecast_confidence": 0.78,
        "generated_at": _now(),
    }


def _frappe_summary(target: Target, request: web.Request) -> Reply:
    return 200, {"message": _frappe_figures(target)}


def _frappe_dashboard(target: Target, request: web.Request) -> Reply:
    cards = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in _frappe_figures(target).items())
    page = (
        "<!doctype html><html><head><title>Monitoring Dashboard</title></head><body>"
        f"<h1>Monitoring Dashboard</h1><h2>Executive Summary</h2><dl>{cards}</dl></body></html>"
    )
    return 200, page


_FRAPPE_DOWN = _const(
    503,
    {
        "exc_type": "OperationalError",
        "exception": 'pymysql.err.OperationalError: (2003, "Can\'t connect to MySQL server")',
    },
)
_SUPABASE_DOWN = _const(
    503,
    {
        "code": "PGRST000",
        "details": 'connection to server at "db", port 5432 failed: Connection refused',
        "hint": None,
        "message": "Database client error. Retrying the connection.",
    },
)
_SUPABASE_KEY = ("apikey", SUPABASE_KEY)

ENDPOINTS = (
    Endpoint(
        "/api/health",
        "health",
        lambda t, r: (
            200,
            {"status": "healthy", "timestamp": _now(), "version": "1.4.2", "database": "ok"},
        ),
        _const(503, {"status": "unhealthy", "error": "database unreachable"}),
    ),
    Endpoint(
        "/health",
        "backend",
        lambda t, r: (
            200,
            {
                "status": "healthy",
                "version": "2.3.0",
                "timestamp": _now(),
                "database": {
                    "status": "connected",
                    "connections": 12,
                    "max_connections": 100,
                    "latency_ms": 3.8,
                },
                "queue": {"status": "ok", "depth": 3, "workers": 4, "failed_jobs": 0},
            },
        ),
        lambda t, r: (
            503,
            {
                "status": "unhealthy",
                "version": "2.3.0",
                "timestamp": _now(),
                "database": {
                    "status": "error",
                    "error": "connection pool exhausted",
                    "connections": 100,
                    "max_connections": 100,
                },
                "queue": {"status": "backlogged", "depth": 1842, "workers": 4, "failed_jobs": 37},
            },
        ),
    ),
    Endpoint("/api/agents/status", "agents", _agents_status, _agents_status),
    Endpoint("/api/agents/memory/stats", "agents", _agents_memory, _agents_memory),
    Endpoint("/api/agents/logs", "agents", _agent_logs, _agent_logs),
    Endpoint("/api/agents/{name}/status", "agents", _agent_status, _agent_status),
    Endpoint("/api/models/status", "agents", _models_status, _models_status),
    Endpoint(
        "/rest/v1/",
        "supabase",
        _const(
            200,
            {
                "swagger": "2.0",
                "info": {"title": "standard public schema", "version": "12.2.3"},
                "paths": {"/": {}, "/profiles": {}, "/orders": {}},
            },
        ),
        _SUPABASE_DOWN,
        _SUPABASE_KEY,
    ),
    Endpoint(
        "/auth/v1/health",
        "supabase",
        _const(
            200,
            {
                "version": "v2.164.0",
                "name": "GoTrue",
                "description": "GoTrue is a user registration and authentication API",
            },
        ),
        _SUPABASE_DOWN,
        _SUPABASE_KEY,
    ),
    Endpoint("/api/method/ping", "frappe", _const(200, {"message": "pong"}), _FRAPPE_DOWN),
    Endpoint(
        "/api/method/verenigingen.www.monitoring_dashboard.get_analytics_summary",
        "frappe",
        _frappe_summary,
        _FRAPPE_DOWN,
    ),
    Endpoint("/monitoring_dashboard", "frappe", _frappe_dashboard, _FRAPPE_DOWN),
    Endpoint(
        "/api/search/health",
        "contribux",
        _const(
            200,
            {
                "status": "healthy",
                "p95_ms": 38.0,
                "recall_at_10": 0.96,
                "vector_index": {"type": "hnsw", "vectors": 48213, "dimensions": 1536},
            },
        ),
        _const(
            503, {"status": "unhealthy", "error": "vector index unavailable: HNSW index rebuilding"}
        ),
    ),
    Endpoint(
        "/api/auth/providers",
        "contribux",
        _const(
            200,
            {
                "github": {
                    "id": "github",
                    "name": "GitHub",
                    "type": "oauth",
                    "signinUrl": "/api/auth/signin/github",
                    "callbackUrl": "/api/auth/callback/github",
                }
            },
        ),
        _const(500, {"message": "There is a problem with the server configuration."}),
    ),
)


def add_app_routes(app: web.Application, target: Target) -> None:
    """Add every row of ENDPOINTS to ``app`` as a GET route."""
    for endpoint in ENDPOINTS:
        app.router.add_get(endpoint.path, _handler(target, endpoint))


def _handler(
    target: Target, endpoint: Endpoint
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        failing = await target.enter(endpoint.part, request)
        if endpoint.key:
            header, value = endpoint.key
            sent = request.headers.get(header)
            if sent != value:
                message = "No API key found in request" if sent is None else "Invalid API key"
                return web.json_response({"message": message}, status=401)
        status, body = (endpoint.failing if failing else endpoint.ok)(target, request)
        if isinstance(body, str):
            return web.Response(text=body, status=status, content_type="text/html")
        return web.json_response(body, status=status)

    return handle
