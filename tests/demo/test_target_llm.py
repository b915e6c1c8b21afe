"""The demo target's LLM providers over real HTTP: OpenAI-compatible and Ollama-like APIs."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.demo.conftest import Served
from watchkeeper.demo.target_llm import DEMO_KEY

AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
ASK = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say OK"}], "max_tokens": 1}


async def get(target: Served, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
    async with target.http.get(target.url + path, **kw) as resp:
        return resp.status, await resp.json(content_type=None), dict(resp.headers)


async def post(target: Served, path: str, **kw: Any) -> tuple[int, str, dict[str, str]]:
    async with target.http.post(target.url + path, **kw) as resp:
        return resp.status, await resp.text(), dict(resp.headers)


def figure(headers: dict[str, str], name: str) -> int:
    return int(headers[f"x-ratelimit-{name}"])


@pytest.mark.parametrize(
    ("provider", "model", "limit"),
    [("openai", "gpt-4o-mini", 500), ("backup", "llama-3.1-8b-instant", 60)],
)
async def test_models_lists_the_providers_models_with_falling_rate_limits(
    target: Served, provider: str, model: str, limit: int
) -> None:
    status, body, headers = await get(target, f"/llm/{provider}/v1/models", headers=AUTH)
    assert status == 200
    assert body["object"] == "list" and model in [m["id"] for m in body["data"]]
    assert all(m["object"] == "model" for m in body["data"])
    assert figure(headers, "limit-requests") == limit
    assert 0 < figure(headers, "remaining-requests") < limit
    assert headers["x-ratelimit-reset-requests"].endswith("s")
    _, _, again = await get(target, f"/llm/{provider}/v1/models", headers=AUTH)
    assert figure(again, "remaining-requests") == figure(headers, "remaining-requests") - 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-real-looking-key-123"}, {"Authorization": DEMO_KEY}],
)
async def test_a_missing_or_wrong_key_is_refused_without_echoing_it(
    target: Served, headers: dict[str, str]
) -> None:
    status, body, sent = await get(target, "/llm/openai/v1/models", headers=headers)
    assert status == 401
    assert body["error"]["code"] == "invalid_api_key"
    assert "sk-real-looking-key-123" not in json.dumps(body)
    assert not any(h.startswith("x-ratelimit") for h in sent)


async def test_a_completion_answers_one_token_and_spends_tokens(target: Served) -> None:
    _, _, before = await get(target, "/llm/openai/v1/models", headers=AUTH)
    status, text, headers = await post(
        target, "/llm/openai/v1/chat/completions", json=ASK, headers=AUTH
    )
    assert status == 200
    answer = json.loads(text)
    assert answer["object"] == "chat.completion" and answer["model"] == "gpt-4o-mini"
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "OK"}
    usage = answer["usage"]
    assert usage["completion_tokens"] == 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + 1
    spent = figure(before, "remaining-tokens") - figure(headers, "remaining-tokens")
    assert spent == usage["total_tokens"]
    assert figure(headers, "remaining-requests") == figure(before, "remaining-requests") - 1


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({**ASK, "model": "gpt-9"}, 404, "model_not_found"),
        ({"model": "gpt-4o-mini"}, 400, "messages"),
        ({**ASK, "stream": True}, 400, "stream"),
    ],
)
async def test_a_bad_completion_request_is_refused(
    target: Served, body: dict[str, Any], status: int, says: str
) -> None:
    got, text, _ = await post(target, "/llm/openai/v1/chat/completions", json=body, headers=AUTH)
    assert got == status and says in text


async def test_a_completion_needs_the_key(target: Served) -> None:
    status, text, _ = await post(target, "/llm/backup/v1/chat/completions", json=ASK)
    assert status == 401 and "invalid_api_key" in text


async def test_a_quota_used_up_by_others_shows_in_headers_then_refuses(target: Served) -> None:
    await target.switch("quota", "backup", "?percent=95")  # 57 of 60 requests used by others
    seen = []
    for _ in range(3):
        _, _, headers = await get(target, "/llm/backup/v1/models", headers=AUTH)
        seen.append(figure(headers, "remaining-requests"))
    assert seen == [2, 1, 0]
    status, body, headers = await get(target, "/llm/backup/v1/models", headers=AUTH)
    assert status == 429 and body["error"]["code"] == "rate_limit_exceeded"
    assert figure(headers, "remaining-requests") == 0
    await target.switch("recover", "")
    status, _, _ = await get(target, "/llm/backup/v1/models", headers=AUTH)
    assert status == 200


async def test_a_quota_switch_refuses_a_part_that_has_no_quota(target: Served) -> None:
    async with target.http.post(f"{target.url}/_demo/quota/ollama?percent=90") as resp:
        assert resp.status == 404
    async with target.http.post(f"{target.url}/_demo/quota/openai?percent=101") as resp:
        assert resp.status == 400


@pytest.mark.parametrize(
    ("part", "path"),
    [
        ("openai", "/llm/openai/v1/models"),
        ("backup", "/llm/backup/v1/models"),
        ("ollama", "/llm/ollama/api/tags"),
    ],
)
async def test_a_failing_provider_answers_with_an_error(
    target: Served, part: str, path: str
) -> None:
    await target.switch("fail", part)
    status, body, _ = await get(target, path, headers=AUTH)
    assert status in (500, 503) and "error" in body
    other = "/llm/backup/v1/models" if part != "backup" else "/llm/openai/v1/models"
    assert (await get(target, other, headers=AUTH))[0] == 200  # only that provider
    await target.switch("recover", "")
    assert (await get(target, path, headers=AUTH))[0] == 200


async def test_a_slow_provider_answers_late(target: Served) -> None:
    await target.switch("slow", "openai", "?ms=300")
    started = time.perf_counter()
    status, _, _ = await get(target, "/llm/openai/v1/models", headers=AUTH)
    assert status == 200 and time.perf_counter() - started >= 0.3


async def test_ollama_lists_tags_and_generates(target: Served) -> None:
    status, tags, _ = await get(target, "/llm/ollama/api/tags")
    assert status == 200
    names = [m["name"] for m in tags["models"]]
    assert "llama3.2:1b" in names
    assert all(m["size"] > 0 and len(m["digest"]) == 64 for m in tags["models"])

    ask = {"model": "llama3.2:1b", "prompt": "Say OK", "stream": False}
    status, text, _ = await post(target, "/llm/ollama/api/generate", json=ask)
    answer = json.loads(text)
    assert status == 200 and answer["done"] is True and answer["response"] == "OK"

    # Streaming, Ollama's default: one JSON object a line, the last one done.
    status, text, headers = await post(
        target, "/llm/ollama/api/generate", json={"model": "llama3.2:1b", "prompt": "hi"}
    )
    lines = [json.loads(line) for line in text.splitlines()]
    assert status == 200 and "ndjson" in headers["Content-Type"]
    assert [line["done"] for line in lines] == [False, True]

    status, text, _ = await post(
        target, "/llm/ollama/api/generate", json={"model": "nope", "prompt": "hi"}
    )
    assert status == 404 and "not found" in text
    assert (await get(target, "/llm/ollama/api/version"))[1] == {"version": "0.5.7"}
