"""The demo target's LLM providers: two OpenAI-compatible APIs and an Ollama-like server.

``/llm/openai/v1`` and ``/llm/backup/v1`` speak the OpenAI API (``GET /models``,
``POST /chat/completions`` answering with one token) behind ``Authorization: Bearer demo-key``,
with per-minute ``x-ratelimit-*`` headers that fall as they are used. ``/llm/ollama`` speaks
Ollama's ``/api/tags``, ``/api/generate`` and ``/api/version``.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from watchkeeper.demo.target_core import Target

DEMO_KEY = "demo-key"
WINDOW_SECONDS = 60.0  # rate limits are per minute, as OpenAI's are


@dataclass(frozen=True)
class Provider:
    """An OpenAI-compatible provider: its part (and URL segment), models and per-minute limits."""

    part: str
    owner: str
    models: tuple[str, ...]
    request_limit: int
    token_limit: int


PROVIDERS = (
    Provider("openai", "openai", ("gpt-4o-mini", "gpt-4o"), 500, 200_000),
    Provider("backup", "groq", ("llama-3.1-8b-instant", "llama-3.3-70b-versatile"), 60, 30_000),
)
OLLAMA_MODELS = (("llama3.2:1b", 1_321_098_329), ("nomic-embed-text:latest", 274_302_450))


@dataclass
class _Window:
    """What this minute's requests used of a provider's limits."""

    start: float = 0.0
    requests: int = 0
    tokens: int = 0


def _error(status: int, message: str, kind: str, code: str | None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status)


def add_llm_routes(app: web.Application, target: Target) -> None:
    """Add the OpenAI-compatible providers and the Ollama-like server to ``app``."""
    for provider in PROVIDERS:
        _add_provider(app, target, provider)
    _add_ollama(app, target)


def _add_provider(app: web.Application, target: Target, provider: Provider) -> None:
    window = _Window()

    def limits(requests: int, tokens: int) -> tuple[bool, dict[str, str]]:
        # Spend from this minute's window (others' share from /_demo/quota comes first);
        # return whether it was allowed, and the headers that say what is left.
        now = time.monotonic()
        if now - window.start >= WINDOW_SECONDS:
            window.start, window.requests, window.tokens = now, 0, 0
        used = target.state.quota_used.get(provider.part, 0) / 100
        left_requests = provider.request_limit - math.ceil(provider.request_limit * used)
        left_tokens = provider.token_limit - math.ceil(provider.token_limit * used)
        allowed = window.requests + requests <= left_requests
        if allowed:
            window.requests += requests
            window.tokens += tokens
        reset = f"{max(1, math.ceil(window.start + WINDOW_SECONDS - now))}s"
        return allowed, {
            "x-ratelimit-limit-requests": str(provider.request_limit),
            "x-ratelimit-limit-tokens": str(provider.token_limit),
            "x-ratelimit-remaining-requests": str(max(0, left_requests - window.requests)),
            "x-ratelimit-remaining-tokens": str(max(0, left_tokens - window.tokens)),
            "x-ratelimit-reset-requests": reset,
            "x-ratelimit-reset-tokens": reset,
        }

    async def refused(request: web.Request) -> web.Response | None:
        # What stops a call before it is read, in the order a real API checks.
        if await target.enter(provider.part, request):
            return _error(503, "The server is overloaded or not ready yet.", "server_error", None)
        if request.headers.get("Authorization") != f"Bearer {DEMO_KEY}":
            # Never echo the key that was sent: it may be a real one, sent here by mistake.
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        return None

    def spend(tokens: int) -> web.Response | dict[str, str]:
        allowed, headers = limits(1, tokens)
        if allowed:
            return headers
        response = _error(429, "Rate limit reached for requests", "requests", "rate_limit_exceeded")
        response.headers.update(headers)
        return response

    async def models(request: web.Request) -> web.Response:
        passed = await refused(request) or spend(0)
        if isinstance(passed, web.Response):
            return passed
        data = [
            {"id": m, "object": "model", "created": 1_715_367_049, "owned_by": provider.owner}
            for m in provider.models
        ]
        return web.json_response({"object": "list", "data": data}, headers=passed)

    async def complete(request: web.Request) -> web.Response:
        stopped = await refused(request)
        if stopped:
            return stopped
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "We could not parse the JSON body.", "invalid_request_error", None)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "'messages' is a required property", "invalid_request_error", None)
        if body.get("stream"):
            return _error(400, "The demo target does not stream.", "invalid_request_error", None)
        model = str(body.get("model", ""))
        if model not in provider.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return _error(404, message, "invalid_request_error", "model_not_found")
        words = sum(
            len(str(m.get("content", "")).split()) for m in body["messages"] if isinstance(m, dict)
        )
        prompt = max(1, math.ceil(1.3 * words))  # roughly tokens per English word
        passed = spend(prompt + 1)
        if isinstance(passed, web.Response):
            return passed
        answer = {
            "id": f"chatcmpl-{secrets.token_hex(12)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "OK"},
                    "finish_reason": "length",
                }
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": 1, "total_tokens": prompt + 1},
        }
        return web.json_response(answer, headers=passed)

    base = f"/llm/{provider.part}/v1"
    app.router.add_get(f"{base}/models", models)
    app.router.add_post(f"{base}/chat/completions", complete)


def _add_ollama(app: web.Application, target: Target) -> None:
    def stopped() -> web.Response:
        return web.json_response({"error": "model runner has unexpectedly stopped"}, status=500)

    async def tags(request: web.Request) -> web.Response:
        if await target.enter("ollama", request):
            return stopped()
        models = [
            {
                "name": name,
                "model": name,
                "modified_at": "2026-10-02T14:03:11.512Z",
                "size": size,
                "digest": hashlib.sha256(name.encode()).hexdigest(),
                "details": {"format": "gguf", "family": name.split(":")[0]},
            }
            for name, size in OLLAMA_MODELS
        ]
        return web.json_response({"models": models})

    async def generate(request: web.Request) -> web.StreamResponse:
        if await target.enter("ollama", request):
            return stopped()
        try:
            body: Any = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": "invalid JSON body"}, status=400)
        model = str(body.get("model", "")) if isinstance(body, dict) else ""
        if model not in {name for name, _ in OLLAMA_MODELS}:
            return web.json_response({"error": f"model '{model}' not found"}, status=404)
        created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        done = {
            "model": model,
            "created_at": created,
            "response": "OK",
            "done": True,
            "done_reason": "length",
            "total_duration": 48_211_000,
            "prompt_eval_count": 8,
            "eval_count": 1,
        }
        if body.get("stream") is False:
            return web.json_response(done)
        # Ollama streams by default: one JSON object a line, the last one saying done.
        token = {"model": model, "created_at": created, "response": "OK", "done": False}
        lines = [token, {**done, "response": ""}]
        return web.Response(
            text="".join(json.dumps(line) + "\n" for line in lines),
            content_type="application/x-ndjson",
        )

    async def version(request: web.Request) -> web.Response:
        if await target.enter("ollama", request):
            return stopped()
        return web.json_response({"version": "0.5.7"})

    app.router.add_get("/llm/ollama/api/tags", tags)
    app.router.add_post("/llm/ollama/api/generate", generate)
    app.router.add_get("/llm/ollama/api/version", version)
