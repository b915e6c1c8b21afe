"""The redis probe reads hit rate, memory and clients from a real ``redis-server``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pydantic
import pytest
import redis

from tests.probes.redis_server import redis_server
from watchkeeper.config.specs.redis import RedisSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.redis import probe_redis
from watchkeeper.results import Status

PASSWORD = "s3cret-redis-pw"


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A fresh redis-server without a password or memory limit."""
    with redis_server(tmp_path) as url:
        yield url


def with_password(url: str, password: str) -> str:
    return url.replace("redis://", f"redis://:{password}@", 1)


async def test_hit_rate_memory_and_clients(redis_url: str, ctx: ProbeContext) -> None:
    with redis.Redis.from_url(redis_url) as app:
        app.mset({"a": "1", "b": "2", "c": "3"})
        for key in ("a", "b", "c", "missing"):
            app.get(key)  # three hits, one miss

        measured = await probe_redis(RedisSpec(url=redis_url), ctx, timeout=10)

    assert measured["hit_rate"] == 75.0
    assert (measured["keyspace_hits"], measured["keyspace_misses"]) == (3, 1)
    assert measured["keys"] == 3
    assert measured["used_memory"] > 100_000
    assert measured["maxmemory"] == 0
    assert measured["used_memory_percent"] is None
    assert measured["connected_clients"] == 2  # the app and the probe
    assert measured["evicted_keys"] == 0
    assert 0 <= measured["uptime"] < 60
    assert 0 < measured["ping_time"] < 10
    assert measured["version"].startswith(("6.", "7.", "8."))


async def test_hit_rate_is_none_before_any_read(redis_url: str, ctx: ProbeContext) -> None:
    measured = await probe_redis(RedisSpec(url=redis_url), ctx, timeout=10)

    assert measured["hit_rate"] is None
    assert measured["keys"] == 0


async def test_a_full_cache_shows_memory_percent_and_evictions(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    with redis_server(tmp_path, maxmemory="4mb") as url, redis.Redis.from_url(url) as app:
        for i in range(100):
            app.set(f"page:{i}", "x" * 100_000)  # 10 MB into 4 MB: the oldest are evicted
        for i in range(100):
            app.get(f"page:{i}")

        measured = await probe_redis(RedisSpec(url=url), ctx, timeout=10)

    assert measured["maxmemory"] == 4 * 1024 * 1024
    assert measured["evicted_keys"] > 0
    assert 50 < measured["used_memory_percent"] <= 110
    assert measured["hit_rate"] is not None and measured["hit_rate"] < 70
    # The guides' thresholds: "cache hit rate > 70%", memory alert above 80%.
    rules = Rules.parse(
        expect=["hit_rate > 70%"], warn=["used_memory_percent > 80%"], critical=["evicted_keys > 0"]
    )
    status, message = judge(rules, measured)
    assert status is Status.CRITICAL
    assert "expected hit_rate > 70%" in message
    assert "evicted_keys > 0" in message


async def test_the_password_in_the_url_or_field_logs_in(tmp_path: Path, ctx: ProbeContext) -> None:
    with redis_server(tmp_path, password=PASSWORD) as url:
        in_url = await probe_redis(RedisSpec(url=with_password(url, PASSWORD)), ctx, timeout=10)
        in_field = await probe_redis(RedisSpec(url=url, password=PASSWORD), ctx, timeout=10)

    assert in_url["connected_clients"] == in_field["connected_clients"] == 1
    assert PASSWORD not in repr(in_url) + repr(in_field)


@pytest.mark.parametrize("where", ["url", "field"])
async def test_a_wrong_password_fails_clearly_without_showing_it(
    tmp_path: Path, ctx: ProbeContext, where: str
) -> None:
    wrong = "wrong-pa55word"
    with redis_server(tmp_path, password=PASSWORD) as url:
        spec = (
            RedisSpec(url=with_password(url, wrong))
            if where == "url"
            else RedisSpec(url=url, password=wrong)
        )
        with pytest.raises(ProbeError, match="authentication failed") as failed:
            await probe_redis(spec, ctx, timeout=10)

    assert wrong not in str(failed.value)
    assert PASSWORD not in str(failed.value)


async def test_a_missing_password_says_authentication_is_required(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    with (
        redis_server(tmp_path, password=PASSWORD) as url,
        pytest.raises(ProbeError, match="requires a password") as failed,
    ):
        await probe_redis(RedisSpec(url=url), ctx, timeout=10)

    assert PASSWORD not in str(failed.value)


async def test_a_refused_connection_fails_at_once(closed_port: int, ctx: ProbeContext) -> None:
    spec = RedisSpec(url=f"redis://:{PASSWORD}@127.0.0.1:{closed_port}/0")
    started = time.perf_counter()

    with pytest.raises(ProbeError, match="cannot connect to redis") as failed:
        await probe_redis(spec, ctx, timeout=10)

    assert time.perf_counter() - started < 2  # no retries with backoff
    assert PASSWORD not in str(failed.value)


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server on loopback that accepts and reads but never answers."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_a_server_that_never_answers_times_out(silent_server: int, ctx: ProbeContext) -> None:
    started = time.perf_counter()

    with pytest.raises(ProbeError, match="timed out after 500ms"):
        await probe_redis(RedisSpec(url=f"redis://127.0.0.1:{silent_server}"), ctx, timeout=0.5)

    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "http://127.0.0.1:6379"}, "must start with redis://"),
        (
            {"url": f"redis://:{PASSWORD}@127.0.0.1:6379", "password": "other"},
            "not both",
        ),
    ],
)
def test_the_spec_rejects_bad_urls_without_echoing_them(fields: dict[str, str], error: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=error) as failed:
        RedisSpec.model_validate(fields)

    assert PASSWORD not in failed.value.errors()[0]["msg"]


def test_the_password_field_is_never_shown() -> None:
    spec = RedisSpec(url="redis://127.0.0.1:6379", password=PASSWORD)
    assert PASSWORD not in repr(spec)
    assert PASSWORD not in spec.model_dump_json()
