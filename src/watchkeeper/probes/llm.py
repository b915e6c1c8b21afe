"""The ``llm`` probe: an LLM provider's model list (and optionally a one-token completion), its
rate-limit headers, and how long its key has left.

The key is sent only as a Bearer token: no measurement or message carries it, nor a provider's
answer to a refused key (OpenAI echoes part of the key there).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

import aiohttp
from yarl import URL

from watchkeeper.config.specs.llm import LlmProvider, LlmSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.http import read_at_most
from watchkeeper.probes.ratelimits import ratelimit_figures, seconds_until
from watchkeeper.probes.tcp import connect_error, timed_out
from watchkeeper.results import Measurements

MAX_BODY = 16_000_000
"""OpenRouter's model list with descriptions is a few MB; anything past this is not a model list."""

PROMPT = "Reply with OK."


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer: status, seconds taken, lowercased headers and the body."""

    status: int
    elapsed: float
    headers: dict[str, str]
    body: bytes


async def probe_llm(spec: LlmSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given an LLM provider's spec, list its models (and ask for one token when ``complete``),
    and return whether it is available with its timing, models and rate-limit figures."""
    key = spec.key.get_secret_value() if spec.key is not None else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    session = ctx.http_session()
    listing_url, completion_url = endpoints(spec)
    doing = f"listing models at {_address(listing_url)}"
    completion: Reply | None = None
    try:
        async with asyncio.timeout(timeout):
            listing = await _request(session, "GET", listing_url, headers, None, spec.verify_tls)
            if spec.complete and _ok(listing.status):
                doing = f"asking {spec.model} for a completion at {_address(completion_url)}"
                payload = _completion_payload(spec)
                completion = await _request(
                    session, "POST", completion_url, headers, payload, spec.verify_tls
                )
    except TimeoutError:
        raise timed_out(timeout, doing) from None
    except aiohttp.ClientError as exc:
        raise _unreachable(listing_url, exc) from exc

    m: Measurements = {
        "available": True,
        "status": listing.status,
        "response_time": listing.elapsed,
        "rate_limited": False,
        "key_refused": False,
    }
    if not _ok(listing.status):
        m.update(_failure(listing, key, "listing models"))
    else:
        models = model_ids(spec.provider, listing.body)
        if models is None:
            m.update(
                available=False, error=f"{URL(listing_url).path} did not answer with a model list"
            )
        else:
            m["models"] = models
            m["model_count"] = len(models)
            if spec.model is not None:
                m["model_available"] = model_listed(spec.provider, spec.model, models)
    if completion is not None:
        m["completion_status"] = completion.status
        m["completion_time"] = completion.elapsed
        if not _ok(completion.status):
            m.update(_failure(completion, key, f"asking {spec.model} for a completion"))
    seen = {**listing.headers, **(completion.headers if completion is not None else {})}
    m.update(ratelimit_figures(seen, datetime.now(UTC)))
    if spec.key_expires is not None:
        m["key_expires_in"] = key_expires_in(spec.key_expires, datetime.now(UTC))
    return m


def endpoints(spec: LlmSpec) -> tuple[str, str]:
    """Given a spec, return the URLs of its model list and of its completion endpoint.

    An OpenAI-compatible ``url`` with a path is the API base (``…/openai/v1`` → ``…/openai/v1/models``);
    a bare host gets ``/v1`` (``https://api.openai.com`` → ``https://api.openai.com/v1/models``).
    """
    if spec.provider is LlmProvider.OLLAMA:
        return f"{spec.url}/api/tags", f"{spec.url}/api/generate"
    base = spec.url if URL(spec.url).path not in ("", "/") else f"{spec.url}/v1"
    return f"{base}/models", f"{base}/chat/completions"


def _completion_payload(spec: LlmSpec) -> dict[str, Any]:
    if spec.provider is LlmProvider.OLLAMA:
        return {
            "model": spec.model,
            "prompt": PROMPT,
            "stream": False,
            "options": {"num_predict": 1},
        }
    return {
        "model": spec.model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 1,
    }


async def _request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload: dict[str, Any] | None,
    verify_tls: bool,
) -> Reply:
    started = time.perf_counter()
    # Redirects are not followed: the key would go wherever they point, an http:// URL too.
    async with session.request(
        method,
        url,
        headers=headers,
        json=payload,
        ssl=verify_tls,
        allow_redirects=False,
    ) as response:
        body = await read_at_most(response.content, MAX_BODY)
        elapsed = time.perf_counter() - started
        return Reply(
            response.status,
            elapsed,
            {name.lower(): value for name, value in response.headers.items()},
            body,
        )


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _failure(reply: Reply, key: str | None, doing: str) -> Measurements:
    """Given a provider's error answer, return the measurements saying why it is not available."""
    if reply.status in (401, 403):
        # The body is never read here: providers quote the refused key back in it.
        why = (
            f"the API key was refused (HTTP {reply.status}) when {doing}"
            if key
            else f"the API wants a key (HTTP {reply.status}) and none is configured"
        )
        return {"available": False, "key_refused": True, "error": why}
    location = reply.headers.get("location")
    detail = f"redirected to {location}" if location else _provider_message(reply.body, key)
    suffix = f": {detail}" if detail else ""
    if reply.status == 429:
        failure: Measurements = {
            "available": False,
            "rate_limited": True,
            "error": f"rate limited (HTTP 429) when {doing}{suffix}",
        }
        retry = seconds_until(reply.headers.get("retry-after", ""), datetime.now(UTC))
        if retry is not None:
            failure["retry_after"] = retry
        return failure
    return {"available": False, "error": f"HTTP {reply.status} when {doing}{suffix}"}


def _provider_message(body: bytes, key: str | None) -> str:
    """Given an error body, return the provider's own message (OpenAI's or Ollama's shape), short."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    error = doc.get("error", doc) if isinstance(doc, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str):
        return ""
    if key:
        message = message.replace(key, "***")
    return message if len(message) <= 200 else message[:199] + "…"


def model_ids(provider: LlmProvider, body: bytes) -> list[str] | None:
    """Given a model list's body, return the model ids in it, or None if it is not a model list.

    OpenAI-compatible: ``{"data": [{"id": …}]}`` (Together answers the bare list); Ollama:
    ``{"models": [{"name": …}]}``.
    """
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if provider is LlmProvider.OLLAMA:
        field, entries = "name", doc.get("models") if isinstance(doc, dict) else None
    else:
        field, entries = "id", doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        return None
    return [e[field] for e in entries if isinstance(e, dict) and isinstance(e.get(field), str)]


def model_listed(provider: LlmProvider, model: str, models: list[str]) -> bool:
    """Given a model's name and the listed ids, return whether it is among them (Ollama reads a
    name without a tag as ``:latest``)."""
    if model in models:
        return True
    return provider is LlmProvider.OLLAMA and ":" not in model and f"{model}:latest" in models


def key_expires_in(expires: date, now: datetime) -> float:
    """Given the day a key expires and the time now, return the seconds until the start of that
    day in UTC (negative once it has passed)."""
    return (datetime.combine(expires, clock_time(0), tzinfo=UTC) - now).total_seconds()


def _address(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.host}:{parsed.port}"


def _unreachable(url: str, exc: aiohttp.ClientError) -> ProbeError:
    """Given the error of a request that got no answer, return a ProbeError in a user's words."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return ProbeError(f"certificate verify failed for {_address(url)}")
    if isinstance(exc, aiohttp.ClientSSLError):
        return ProbeError(f"TLS handshake with {_address(url)} failed: {exc.os_error}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return connect_error(f"{exc.host}:{exc.port}", exc.os_error)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ProbeError(f"{_address(url)} closed the connection without an answer")
    return ProbeError(f"request to {_address(url)} failed: {type(exc).__name__}")
