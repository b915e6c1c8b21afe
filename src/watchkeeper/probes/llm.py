"""The ``llm`` probe: an LLM provider's model list (and optionally a one-token completion), its
rate-limit headers, and how long its key has left.

The key is sent only as a Bearer token: no measurement or message carries it, nor a provider's
answer to a refused key (OpenAI echoes part of the key there).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from yarl import URL

from watchkeeper.config.specs.llm import LlmSpec
from watchkeeper.config.units import UnitError, parse_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
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
    if spec.provider == "ollama":
        return f"{spec.url}/api/tags", f"{spec.url}/api/generate"
    base = spec.url if URL(spec.url).path not in ("", "/") else f"{spec.url}/v1"
    return f"{base}/models", f"{base}/chat/completions"


def _completion_payload(spec: LlmSpec) -> dict[str, Any]:
    if spec.provider == "ollama":
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
        body = await _read_at_most(response.content, MAX_BODY)
        elapsed = time.perf_counter() - started
        return Reply(
            response.status,
            elapsed,
            {name.lower(): value for name, value in response.headers.items()},
            body,
        )


async def _read_at_most(content: aiohttp.StreamReader, limit: int) -> bytes:
    chunks = []
    remaining = limit
    while remaining > 0:
        chunk = await content.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


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
        retry = _seconds_until(reply.headers.get("retry-after", ""), datetime.now(UTC))
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


def model_ids(provider: str, body: bytes) -> list[str] | None:
    """Given a model list's body, return the model ids in it, or None if it is not a model list.

    OpenAI-compatible: ``{"data": [{"id": …}]}`` (Together answers the bare list); Ollama:
    ``{"models": [{"name": …}]}``.
    """
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if provider == "ollama":
        field, entries = "name", doc.get("models") if isinstance(doc, dict) else None
    else:
        field, entries = "id", doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        return None
    return [e[field] for e in entries if isinstance(e, dict) and isinstance(e.get(field), str)]


def model_listed(provider: str, model: str, models: list[str]) -> bool:
    """Given a model's name and the listed ids, return whether it is among them (Ollama reads a
    name without a tag as ``:latest``)."""
    if model in models:
        return True
    return provider == "ollama" and ":" not in model and f"{model}:latest" in models


_FAMILIES: tuple[tuple[str, str], ...] = (
    # (measurement infix, header-name pattern with {field}), first match wins per figure.
    ("requests", "x-ratelimit-{field}-requests"),
    ("tokens", "x-ratelimit-{field}-tokens"),
    ("requests", "anthropic-ratelimit-requests-{field}"),
    ("tokens", "anthropic-ratelimit-tokens-{field}"),
    ("requests", "x-ratelimit-{field}"),
)


def ratelimit_figures(headers: Mapping[str, str], now: datetime) -> Measurements:
    """Given a response's headers (names lowercased) and the time, return the rate-limit figures
    they carry: ``ratelimit_{requests,tokens}_{limit,remaining,reset_in}`` and
    ``quota_used_percent``, the most used of the known limits.

    Understands OpenAI's ``x-ratelimit-limit-requests`` family (Groq, Together, Mistral …),
    Anthropic's ``anthropic-ratelimit-*`` and the generic ``x-ratelimit-limit`` (OpenRouter).
    """
    figures: Measurements = {}
    for kind, pattern in _FAMILIES:
        for field, parse in (("limit", _count), ("remaining", _count), ("reset", None)):
            name = f"ratelimit_{kind}_{field}" + ("_in" if field == "reset" else "")
            raw = headers.get(pattern.format(field=field))
            if name in figures or raw is None:
                continue
            value = parse(raw) if parse is not None else _seconds_until(raw, now)
            if value is not None:
                figures[name] = value
    used = [
        100.0 * (limit - figures[f"ratelimit_{kind}_remaining"]) / limit
        for kind in ("requests", "tokens")
        if (limit := figures.get(f"ratelimit_{kind}_limit"))
        and f"ratelimit_{kind}_remaining" in figures
    ]
    if used:
        figures["quota_used_percent"] = max(0.0, min(100.0, max(used)))
    return figures


def _count(text: str) -> int | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value >= 0 else None


def _seconds_until(text: str, now: datetime) -> float | None:
    """Given a reset or retry time as providers write it, return the seconds until then.

    ``6m0s`` / ``20ms`` (OpenAI, Groq), an RFC 3339 time (Anthropic), a number of seconds, or a
    Unix time in seconds or milliseconds (OpenRouter) when the number is too large to be a wait,
    or an HTTP date (``Retry-After``).
    """
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number) or number < 0:
            return None
        if number > 1e12:
            return max(0.0, number / 1000 - now.timestamp())
        if number > 1e9:
            return max(0.0, number - now.timestamp())
        return number
    try:
        return parse_duration(text)
    except UnitError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)  # Retry-After as an HTTP date
        except (ValueError, TypeError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


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
