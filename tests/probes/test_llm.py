"""The llm probe against loopback imitations of an OpenAI-compatible API and of Ollama."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiohttp import web
from pydantic import ValidationError

from tests.probes.llm_servers import FakeOllama, FakeOpenAI, serving
from watchkeeper.config.specs.llm import LlmProvider, LlmSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.llm import (
    endpoints,
    key_expires_in,
    model_ids,
    probe_llm,
)
from watchkeeper.probes.ratelimits import ratelimit_figures
from watchkeeper.results import Status

KEY = "sk-test-5f2c9a7e1b3d4c6f8a0b2d4e"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

OPENAI_LIMITS = {
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-remaining-requests": "9990",
    "x-ratelimit-limit-tokens": "200000",
    "x-ratelimit-remaining-tokens": "40000",
    "x-ratelimit-reset-requests": "6m0s",
    "x-ratelimit-reset-tokens": "20ms",
}


@dataclass
class OpenAISite:
    fake: FakeOpenAI
    base: str


@pytest.fixture
async def openai() -> AsyncIterator[OpenAISite]:
    fake = FakeOpenAI(key=KEY, ratelimit_headers=dict(OPENAI_LIMITS))
    async with serving(fake.app()) as base:
        yield OpenAISite(fake, base)
        fake.release.set()


@pytest.fixture
async def ollama() -> AsyncIterator[tuple[FakeOllama, str]]:
    fake = FakeOllama()
    async with serving(fake.app()) as base:
        yield fake, base


def spec(**fields: Any) -> LlmSpec:
    return LlmSpec.model_validate(fields)


def leaks(value: object, secret: str = KEY) -> bool:
    """Return whether any part of the secret longer than 8 characters shows in ``value``."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return any(secret[i : i + 8] in text for i in range(len(secret) - 7))


async def test_lists_models_with_the_key_as_a_bearer_token(
    openai: OpenAISite, ctx: ProbeContext
) -> None:
    m = await probe_llm(spec(url=openai.base, key=KEY, model="gpt-4o"), ctx, timeout=5)

    assert m["available"] is True
    assert m["status"] == 200
    assert 0 < m["response_time"] < 1
    assert m["models"] == ["gpt-4o-mini", "gpt-4o"]
    assert m["model_count"] == 2
    assert m["model_available"] is True
    assert m["rate_limited"] is False
    assert m["key_refused"] is False
    assert "completion_time" not in m
    assert [(s.method, s.path, s.authorization) for s in openai.fake.seen] == [
        ("GET", "/v1/models", f"Bearer {KEY}")
    ]
    assert not leaks(m)


async def test_reads_rate_limits_and_quota_from_the_headers(
    openai: OpenAISite, ctx: ProbeContext
) -> None:
    m = await probe_llm(spec(url=openai.base, key=KEY), ctx, timeout=5)

    assert m["ratelimit_requests_limit"] == 10000
    assert m["ratelimit_requests_remaining"] == 9990
    assert m["ratelimit_tokens_limit"] == 200000
    assert m["ratelimit_tokens_remaining"] == 40000
    assert m["ratelimit_requests_reset_in"] == 360.0
    assert m["ratelimit_tokens_reset_in"] == pytest.approx(0.02)
    # Tokens are the tighter limit: 160k of 200k used.
    assert m["quota_used_percent"] == pytest.approx(80.0)


async def test_the_guides_quota_thresholds_apply(openai: OpenAISite, ctx: ProbeContext) -> None:
    # 000: "Quota warnings (>75% usage)", "quota near limit (>80%)" alerts.
    rules = Rules.parse(["available == true"], warn=["quota_used_percent > 75%"])
    m = await probe_llm(spec(url=openai.base, key=KEY), ctx, timeout=5)

    assert judge(rules, m) == (
        Status.WARNING,
        "quota_used_percent > 75% (quota_used_percent = 80.0%)",
    )

    openai.fake.ratelimit_headers["x-ratelimit-remaining-tokens"] = "190000"
    m = await probe_llm(spec(url=openai.base, key=KEY), ctx, timeout=5)
    assert judge(rules, m) == (Status.OK, "")


async def test_asks_for_one_token_when_complete(openai: OpenAISite, ctx: ProbeContext) -> None:
    m = await probe_llm(
        spec(url=openai.base, key=KEY, model="gpt-4o-mini", complete=True), ctx, timeout=5
    )

    assert m["available"] is True
    assert m["completion_status"] == 200
    assert 0 < m["completion_time"] < 1
    chat = openai.fake.seen[-1]
    assert (chat.method, chat.path, chat.authorization) == (
        "POST",
        "/v1/chat/completions",
        f"Bearer {KEY}",
    )
    assert chat.payload["model"] == "gpt-4o-mini"
    assert chat.payload["max_tokens"] == 1


async def test_a_model_the_provider_does_not_have(openai: OpenAISite, ctx: ProbeContext) -> None:
    m = await probe_llm(
        spec(url=openai.base, key=KEY, model="gpt-9", complete=True), ctx, timeout=5
    )

    assert m["model_available"] is False
    assert m["available"] is False
    assert m["completion_status"] == 404
    assert m["error"] == (
        "HTTP 404 when asking gpt-9 for a completion: The model `gpt-9` does not exist"
    )


async def test_a_refused_key_is_said_without_repeating_it(
    openai: OpenAISite, ctx: ProbeContext
) -> None:
    wrong = "sk-wrong-0a9b8c7d6e5f4a3b2c1d0e9f"

    m = await probe_llm(spec(url=openai.base, key=wrong, complete=True, model="gpt-4o"), ctx, 5)

    assert m["available"] is False
    assert m["key_refused"] is True
    assert m["status"] == 401
    assert m["error"] == "the API key was refused (HTTP 401) when listing models"
    assert "completion_time" not in m  # no point asking with a refused key
    assert not leaks(m, wrong)
    rules = Rules.parse([], default_expect=LlmSpec.default_expect)
    status, message = judge(rules, m)
    assert status is Status.CRITICAL
    assert not leaks(message, wrong)


async def test_a_missing_key_is_named_as_missing(openai: OpenAISite, ctx: ProbeContext) -> None:
    m = await probe_llm(spec(url=openai.base), ctx, timeout=5)

    assert m["key_refused"] is True
    assert m["error"] == "the API wants a key (HTTP 401) and none is configured"
    assert openai.fake.seen[-1].authorization is None


async def test_rate_limited(openai: OpenAISite, ctx: ProbeContext) -> None:
    openai.fake.rate_limited = True

    m = await probe_llm(spec(url=openai.base, key=KEY), ctx, timeout=5)

    assert m["available"] is False
    assert m["rate_limited"] is True
    assert m["status"] == 429
    assert m["retry_after"] == 20.0
    assert (
        m["error"] == "rate limited (HTTP 429) when listing models: Rate limit reached for requests"
    )
    assert m["quota_used_percent"] == pytest.approx(80.0)


async def test_an_answer_past_the_timeout_is_an_error(
    openai: OpenAISite, ctx: ProbeContext
) -> None:
    openai.fake.hang = True

    with pytest.raises(ProbeError) as caught:
        await probe_llm(spec(url=openai.base, key=KEY), ctx, timeout=0.2)

    assert (
        str(caught.value)
        == "timed out after 200ms listing models at 127.0.0.1:" + (openai.base.rsplit(":", 1)[1])
    )
    assert not leaks(str(caught.value))


async def test_an_unreachable_provider_is_an_error(closed_port: int, ctx: ProbeContext) -> None:
    with pytest.raises(
        ProbeError, match=f"cannot connect to 127.0.0.1:{closed_port}: Connection refused"
    ):
        await probe_llm(spec(url=f"http://127.0.0.1:{closed_port}", key=KEY), ctx, timeout=5)


async def test_a_url_ending_in_a_path_is_the_api_base(
    openai: OpenAISite, ctx: ProbeContext
) -> None:
    m = await probe_llm(spec(url=f"{openai.base}/openai/v1/", key=KEY), ctx, timeout=5)

    assert m["available"] is True
    assert openai.fake.seen[-1].path == "/openai/v1/models"


def test_endpoints_follow_one_rule() -> None:
    assert endpoints(spec(url="https://api.openai.com")) == (
        "https://api.openai.com/v1/models",
        "https://api.openai.com/v1/chat/completions",
    )
    assert endpoints(spec(url="https://api.openai.com/v1"))[0] == "https://api.openai.com/v1/models"
    assert endpoints(spec(url="https://openrouter.ai/api/v1/"))[1] == (
        "https://openrouter.ai/api/v1/chat/completions"
    )
    assert endpoints(spec(provider="ollama", url="http://localhost:11434")) == (
        "http://localhost:11434/api/tags",
        "http://localhost:11434/api/generate",
    )


async def test_an_html_page_is_not_a_model_list(ctx: ProbeContext) -> None:
    async def login_page(request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/v1/models", login_page)
    async with serving(app) as base:
        m = await probe_llm(spec(url=base, key=KEY), ctx, timeout=5)

    assert m["available"] is False
    assert m["error"] == "/v1/models did not answer with a model list"


async def test_a_redirect_is_reported_not_followed_with_the_key(ctx: ProbeContext) -> None:
    elsewhere: list[str | None] = []

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/elsewhere/v1/models")

    async def other(request: web.Request) -> web.Response:
        elsewhere.append(request.headers.get("Authorization"))
        return web.json_response({"data": []})

    app = web.Application()
    app.router.add_get("/v1/models", moved)
    app.router.add_get("/elsewhere/v1/models", other)
    async with serving(app) as base:
        m = await probe_llm(spec(url=base, key=KEY), ctx, timeout=5)

    assert m["available"] is False
    assert m["status"] == 301
    assert m["error"] == "HTTP 301 when listing models: redirected to /elsewhere/v1/models"
    assert elsewhere == []


async def test_ollama_tags_and_a_one_token_generate(
    ollama: tuple[FakeOllama, str], ctx: ProbeContext
) -> None:
    fake, base = ollama

    m = await probe_llm(
        spec(provider="ollama", url=base, model="llama3.2", complete=True), ctx, timeout=5
    )

    assert m["available"] is True
    assert m["models"] == ["llama3.2:latest", "qwen2.5:7b"]
    assert m["model_available"] is True  # a name without a tag is :latest
    assert m["completion_status"] == 200
    assert 0 < m["completion_time"] < 1
    assert "quota_used_percent" not in m
    generate = fake.seen[-1]
    assert generate.path == "/api/generate"
    assert generate.payload["options"] == {"num_predict": 1}
    assert generate.payload["stream"] is False


async def test_ollama_without_the_model(ollama: tuple[FakeOllama, str], ctx: ProbeContext) -> None:
    _, base = ollama

    m = await probe_llm(
        spec(provider="ollama", url=base, model="mistral", complete=True), ctx, timeout=5
    )

    assert m["model_available"] is False
    assert m["available"] is False
    assert m["error"] == "HTTP 404 when asking mistral for a completion: model 'mistral' not found"


async def test_key_expiry_is_measured(openai: OpenAISite, ctx: ProbeContext) -> None:
    m = await probe_llm(spec(url=openai.base, key=KEY, key_expires="2027-03-01"), ctx, timeout=5)

    expected = key_expires_in(date(2027, 3, 1), datetime.now(UTC))
    assert m["key_expires_in"] == pytest.approx(expected, abs=5)


def test_key_expires_in_counts_to_the_start_of_the_day_in_utc() -> None:
    assert key_expires_in(date(2026, 12, 6), NOW) == 13.5 * 86400
    assert key_expires_in(date(2026, 11, 22), NOW) == -12 * 3600
    rules = Rules.parse([], warn=["key_expires_in < 14d"])
    assert judge(rules, {"key_expires_in": 13.5 * 86400})[0] is Status.WARNING


def test_ratelimit_figures_from_anthropic_headers() -> None:
    headers = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": "2026-11-22T12:00:30Z",
        "anthropic-ratelimit-tokens-limit": "40000",
        "anthropic-ratelimit-tokens-remaining": "10000",
        "anthropic-ratelimit-tokens-reset": "2026-11-22T12:01:00+00:00",
    }

    assert ratelimit_figures(headers, NOW) == {
        "ratelimit_requests_limit": 50,
        "ratelimit_requests_remaining": 49,
        "ratelimit_requests_reset_in": 30.0,
        "ratelimit_tokens_limit": 40000,
        "ratelimit_tokens_remaining": 10000,
        "ratelimit_tokens_reset_in": 60.0,
        "quota_used_percent": 75.0,
    }


def test_ratelimit_figures_from_generic_headers_with_a_unix_reset() -> None:
    # OpenRouter: X-RateLimit-Limit / -Remaining, and -Reset as Unix milliseconds.
    reset_ms = str(int((NOW.timestamp() + 45) * 1000))
    headers = {
        "x-ratelimit-limit": "200",
        "x-ratelimit-remaining": "150",
        "x-ratelimit-reset": reset_ms,
    }

    assert ratelimit_figures(headers, NOW) == {
        "ratelimit_requests_limit": 200,
        "ratelimit_requests_remaining": 150,
        "ratelimit_requests_reset_in": 45.0,
        "quota_used_percent": 25.0,
    }


def test_ratelimit_figures_skip_what_cannot_be_read() -> None:
    headers = {
        "x-ratelimit-limit-requests": "lots",
        "x-ratelimit-remaining-requests": "5",
        "x-ratelimit-reset-requests": "soon",
    }

    assert ratelimit_figures(headers, NOW) == {"ratelimit_requests_remaining": 5}


def test_model_ids_in_each_shape() -> None:
    assert model_ids(LlmProvider.OPENAI, b'{"data": [{"id": "a"}, {"id": "b"}]}') == ["a", "b"]
    assert model_ids(LlmProvider.OPENAI, b'[{"id": "together-model"}]') == ["together-model"]
    assert model_ids(LlmProvider.OLLAMA, b'{"models": [{"name": "llama3.2:latest"}]}') == [
        "llama3.2:latest"
    ]
    assert model_ids(LlmProvider.OLLAMA, b"[]") is None
    assert model_ids(LlmProvider.OPENAI, b"\xff") is None


def test_spec_rules() -> None:
    with pytest.raises(ValidationError, match="complete: true needs a model"):
        spec(url="https://api.openai.com", complete=True)
    with pytest.raises(ValidationError, match="url must start with http"):
        spec(url="api.openai.com")
    with pytest.raises(ValidationError):
        spec(url="http://x", provider="anthropic")
    s = spec(url="https://api.openai.com/", key=KEY)
    assert s.url == "https://api.openai.com"
    assert KEY not in repr(s)
