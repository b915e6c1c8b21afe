"""The redis probe: one PING and one INFO, read into cache and memory figures."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from watchkeeper.config.secrets import REDACTED, Secrets
from watchkeeper.config.specs.redis import RedisSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements


async def probe_redis(spec: RedisSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a redis spec, return ``hit_rate``, ``used_memory``, ``used_memory_percent``,
    ``connected_clients``, ``evicted_keys``, ``uptime``, ``ping_time`` and a few more."""
    import redis.asyncio as aioredis  # only processes that check Redis pay for it
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import AuthenticationError, RedisError
    from redis.exceptions import ConnectionError as RedisConnectionError

    try:
        client = aioredis.Redis.from_url(
            spec.url,
            password=_password(spec) or None,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # A check measures the server as it is: a retry would hide a refusal behind backoff.
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError as exc:
        raise ProbeError(_without_secrets(f"bad redis url: {exc}", spec)) from None
    try:
        async with asyncio.timeout(timeout):
            started = time.perf_counter()
            await client.ping()
            ping_time = time.perf_counter() - started
            info = await client.info()
    except TimeoutError:
        raise ProbeError(f"timed out after {format_duration(timeout)}") from None
    except AuthenticationError as exc:
        # Without a password, redis-py's HELLO fails with a message about HELLO, not the password.
        reason = exc if _has_password(spec) else "the server requires a password"
        raise ProbeError(_without_secrets(f"authentication failed: {reason}", spec)) from None
    except RedisConnectionError as exc:
        raise ProbeError(_without_secrets(f"cannot connect to redis: {exc}", spec)) from None
    except RedisError as exc:
        raise ProbeError(_without_secrets(f"redis: {exc}", spec)) from None
    finally:
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            async with asyncio.timeout(timeout):
                await client.aclose()
    return _figures(info) | {"ping_time": ping_time}


def _figures(info: dict[str, Any]) -> Measurements:
    """Given Redis's INFO as parsed by redis-py, return the measurements it yields."""
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    used, limit = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
    return {
        # A percentage, like every other: the guides write "cache hit rate > 70%".
        "hit_rate": 100.0 * hits / (hits + misses) if hits + misses else None,
        "keyspace_hits": hits,
        "keyspace_misses": misses,
        "used_memory": used,
        "maxmemory": limit,
        "used_memory_percent": 100.0 * used / limit if limit else None,
        "connected_clients": int(info.get("connected_clients", 0)),
        "evicted_keys": int(info.get("evicted_keys", 0)),
        "keys": sum(
            int(v.get("keys", 0))
            for k, v in info.items()
            if k.startswith("db") and isinstance(v, dict)
        ),
        "uptime": float(info.get("uptime_in_seconds", 0)),
        "version": str(info.get("redis_version", "")),
    }


def _has_password(spec: RedisSpec) -> bool:
    try:
        return bool(_password(spec) or urlsplit(spec.url).password)
    except ValueError:
        return bool(_password(spec))


def _password(spec: RedisSpec) -> str:
    return spec.password.get_secret_value() if spec.password is not None else ""


def _without_secrets(message: str, spec: RedisSpec) -> str:
    """Given an error message about ``spec``, return it with every form of its password masked."""
    secrets = {_password(spec)}
    with contextlib.suppress(ValueError):
        raw = urlsplit(spec.url).password or ""
        secrets |= {raw, unquote(raw)}
    # Shorter values are masked too: a password here is known to be one, whatever its length.
    for secret in sorted(secrets - {""}, key=len, reverse=True):
        message = message.replace(secret, REDACTED)
    return Secrets().redact(message)
