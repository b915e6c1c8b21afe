"""Loopback imitations of LLM provider APIs: an OpenAI-compatible one and an Ollama one.

Each is a real aiohttp server speaking the provider's wire format, with the knobs the tests turn:
the accepted key, the listed models, rate-limit headers, a 429, and an answer that never comes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    authorization: str | None
    payload: Any


@dataclass
class FakeOpenAI:
    """An OpenAI-compatible API at ``{base}/v1`` (and ``{base}/openai/v1``, Groq's layout)."""

    key: str
    models: list[str] = field(default_factory=lambda: ["gpt-4o-mini", "gpt-4o"])
    ratelimit_headers: dict[str, str] = field(default_factory=dict)
    rate_limited: bool = False
    hang: bool = False
    """Never answer (until the server stops): a provider past the probe's timeout."""
    seen: list[Seen] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        for prefix in ("/v1", "/openai/v1"):
            app.router.add_get(f"{prefix}/models", self._models)
            app.router.add_post(f"{prefix}/chat/completions", self._chat)
        return app

    async def _gate(self, request: web.Request) -> web.Response | None:
        """Record the request; return the error answer a real provider would give, if any."""
        payload = await request.json() if request.can_read_body else None
        auth = request.headers.get("Authorization")
        self.seen.append(Seen(request.method, request.path, auth, payload))
        if self.hang:
            await self.release.wait()
        if auth != f"Bearer {self.key}":
            given = (auth or "").removeprefix("Bearer ")
            # OpenAI quotes the refused key back; the probe must not pass it on.
            return _error(401, f"Incorrect API key provided: {given}.", "invalid_api_key")
        if self.rate_limited:
            return _error(
                429,
                "Rate limit reached for requests",
                "rate_limit_exceeded",
                {"Retry-After": "20", **self.ratelimit_headers},
            )
        return None

    async def _models(self, request: web.Request) -> web.Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in self.models]
        return web.json_response({"object": "list", "data": data}, headers=self.ratelimit_headers)

    async def _chat(self, request: web.Request) -> web.Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        body = self.seen[-1].payload
        if body.get("model") not in self.models:
            return _error(404, f"The model `{body.get('model')}` does not exist", "model_not_found")
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "OK"},
                        "finish_reason": "length",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            },
            headers=self.ratelimit_headers,
        )


def _error(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return web.json_response(body, status=status, headers=headers)


@dataclass
class FakeOllama:
    """An Ollama server: ``/api/tags`` and a non-streaming ``/api/generate``."""

    models: list[str] = field(default_factory=lambda: ["llama3.2:latest", "qwen2.5:7b"])
    seen: list[Seen] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/tags", self._tags)
        app.router.add_post("/api/generate", self._generate)
        return app

    async def _tags(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(request.method, request.path, None, None))
        entries = [
            {"name": m, "model": m, "size": 2_019_393_189, "digest": "a80c4f17acd5"}
            for m in self.models
        ]
        return web.json_response({"models": entries})

    async def _generate(self, request: web.Request) -> web.Response:
        payload = json.loads(await request.read())
        self.seen.append(Seen(request.method, request.path, None, payload))
        model = payload.get("model", "")
        if model not in self.models and f"{model}:latest" not in self.models:
            return web.json_response({"error": f"model '{model}' not found"}, status=404)
        return web.json_response(
            {"model": model, "response": "OK", "done": True, "done_reason": "length"}
        )


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its base URL, e.g. ``http://127.0.0.1:41234``."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
