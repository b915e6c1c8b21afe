"""Push endpoints, for what runs elsewhere: a job's pings (``/api/ping/<token>``, ``/start``,
``/fail``, as Healthchecks.io takes them) and an app's values (``POST /api/metrics``).

No session or bearer token: the push token in the path or body is the credential. A token is
looked up by its SHA-256, never compared as text, so the time an answer takes tells nothing about
how much of a guess was right; an unknown one is a plain 404 that names no check. These requests stay out of the access log (the
path holds the token), and each is answered once its rows are committed.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from starlette.datastructures import State

from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.config.specs.push import (
    HeartbeatSpec,
    MetricSpec,
    PingKind,
    metric_series,
    token_digest,
)
from watchkeeper.secret_rules import mask_secrets
from watchkeeper.service import Watchkeeper
from watchkeeper.store.push import Ping, PostedValue, PushIngest, PushWriteError
from watchkeeper.web.api.models import problem

router = APIRouter(tags=["push"])

MAX_PING_BODY = 10_000
"""Bytes of a ping's body (a job's output or error) that are kept; a longer one is refused."""
MAX_METRICS_BODY = 65_536
"""Bytes of a ``POST /api/metrics`` body."""
MAX_VALUES = 100
"""Values in one ``POST /api/metrics``."""

_PUSH_ERRORS: dict[int | str, dict[str, Any]] = {
    404: problem("no check has this token"),
    413: problem("the body is too long"),
    503: problem("the store is unavailable: nothing was stored, send it again"),
}
_PING_GET: dict[str, Any] = {
    "response_class": PlainTextResponse,
    "responses": {
        404: {"description": "no check has this token (plain text)"},
        413: {"description": "the body is longer than 10 kB (plain text)"},
        503: {"description": "the store is unavailable: nothing was stored, ping again"},
    },
}
_PING_POST: dict[str, Any] = _PING_GET | {
    "openapi_extra": {
        "requestBody": {
            "required": False,
            "content": {"text/plain": {"schema": {"type": "string", "maxLength": MAX_PING_BODY}}},
        }
    },
}


@dataclass(frozen=True)
class _Targets:
    """The push tokens of one config, by SHA-256: heartbeat series, and metric names per token."""

    config: Config
    heartbeats: frozenset[str]
    metrics: dict[str, frozenset[str]]
    tokens: Secrets
    """Every push token, to redact from ping bodies (literal ones are not among the config's
    secrets)."""


def _targets(config: Config) -> _Targets:
    heartbeats: set[str] = set()
    metrics: dict[str, set[str]] = {}
    tokens = []
    for check in config.checks:
        spec = check.spec
        if isinstance(spec, HeartbeatSpec):
            heartbeats.add(token_digest(spec.token))
        elif isinstance(spec, MetricSpec):
            metrics.setdefault(token_digest(spec.token), set()).add(spec.name)
        else:
            continue
        tokens.append(spec.token)
    return _Targets(
        config,
        frozenset(heartbeats),
        {digest: frozenset(names) for digest, names in metrics.items()},
        Secrets(tokens),
    )


class PushDesk:
    """What the push endpoints share in one app: the ingest, and the tokens of the config in
    force (re-read after a reload)."""

    def __init__(self, wk: Watchkeeper) -> None:
        self.wk = wk
        self.ingest = PushIngest(wk.store.engine)
        self._targets = _targets(wk.config)

    @property
    def targets(self) -> _Targets:
        """Return the tokens of the config in force."""
        if self._targets.config is not self.wk.config:
            self._targets = _targets(self.wk.config)
        return self._targets

    def redact(self, text: str) -> str:
        """Given a ping's body, return it without the config's secrets, push tokens, and any
        secret the ``secrets`` probe's rules find (``postgres://app:hunter2@db``, ``password=…``)."""
        return mask_secrets(self.wk.runner.secrets.redact(self.targets.tokens.redact(text)))


def push_desk(state: State) -> PushDesk:
    """Return the app's push desk, made on first use."""
    # Made on first use, so the routes and the ping lane share one ingest with no wiring.
    desk: PushDesk | None = getattr(state, "push_desk", None)
    if desk is None:
        desk = state.push_desk = PushDesk(state.wk)
    return desk


def _quiet(request: Request) -> None:
    # The path holds the token, and a ping is recorded in the store anyway.
    request.state.access_log = False


@router.post("/ping/{token}", **_PING_POST)
@router.get("/ping/{token}", **_PING_GET)
async def ping(token: str, request: Request) -> PlainTextResponse:
    """A job succeeded (or is alive). The body of a POST (≤ 10 kB, e.g. the job's output) is kept
    as the last message, secrets redacted. Answers ``OK`` in plain text, as Healthchecks.io."""
    return await _ping(request, token, PingKind.SUCCESS)


@router.post("/ping/{token}/start", **_PING_POST)
@router.get("/ping/{token}/start", **_PING_GET)
async def ping_start(token: str, request: Request) -> PlainTextResponse:
    """A job started: it is down if it does not end (success or fail) within its grace time,
    and its next success measures its duration."""
    return await _ping(request, token, PingKind.START)


@router.post("/ping/{token}/fail", **_PING_POST)
@router.get("/ping/{token}/fail", **_PING_GET)
async def ping_fail(token: str, request: Request) -> PlainTextResponse:
    """A job failed: its check is down until the next success. A POST body (≤ 10 kB, e.g. the
    error) is kept as the last message, secrets redacted."""
    return await _ping(request, token, PingKind.FAIL)


async def _ping(request: Request, token: str, kind: PingKind) -> PlainTextResponse:
    _quiet(request)
    body = request.stream() if request.method == "POST" else None
    status, text = await accept_ping(
        push_desk(request.app.state), token, kind, body, request.headers.get("content-length")
    )
    return PlainTextResponse(text, status_code=status)


async def accept_ping(
    desk: PushDesk,
    token: str,
    kind: PingKind,
    body: AsyncIterator[bytes] | None,
    declared: str | None,
) -> tuple[int, str]:
    """Given a ping's token, kind and body (None: a GET), store it; return the HTTP status and
    the plain-text answer."""
    digest = token_digest(token)
    if digest not in desk.targets.heartbeats:
        return 404, "no check has this token"
    raw = b"" if body is None else await read_body(body, declared, MAX_PING_BODY)
    if raw is None:
        return 413, f"the body is longer than {MAX_PING_BODY} bytes"
    text = raw.decode("utf-8", "replace").replace("\x00", "\ufffd").strip()
    ping = Ping(f"heartbeat/{digest}", datetime.now(UTC), kind, desk.redact(text) if text else None)
    try:
        await desk.ingest.record(pings=[ping])
    except PushWriteError as exc:
        return 503, f"{exc}; nothing was stored, send it again"
    return 200, "OK"


_METRICS_BODY = {
    "type": "object",
    "required": ["token", "values"],
    "additionalProperties": False,
    "properties": {
        "token": {"type": "string"},
        "values": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": MAX_VALUES,
            "additionalProperties": {"type": "number"},
        },
    },
}


@router.post(
    "/metrics",
    responses=_PUSH_ERRORS | {400: problem("the body is not as described")},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _METRICS_BODY}},
        }
    },
)
async def post_metrics(request: Request) -> dict[str, list[str]]:
    """Post named values, e.g. ``{"token": "…", "values": {"agent_execution_time": 12.5}}``.

    Each value goes to the ``metric`` checks with this token and its name; the answer lists the
    names ``stored`` and those ``ignored`` (no check of this token has them).
    """
    _quiet(request)
    desk = push_desk(request.app.state)
    raw = await read_body(request.stream(), request.headers.get("content-length"), MAX_METRICS_BODY)
    if raw is None:
        raise HTTPException(413, f"the body is longer than {MAX_METRICS_BODY} bytes")
    token, values = _metrics_body(raw)
    digest = token_digest(token)
    names = desk.targets.metrics.get(digest)
    if names is None:
        raise HTTPException(404, "no check has this token")
    now = datetime.now(UTC)
    stored = [name for name in values if name in names]
    await _store(
        desk, values=[PostedValue(metric_series(digest, n), now, values[n]) for n in stored]
    )
    return {"stored": stored, "ignored": [name for name in values if name not in names]}


async def _store(desk: PushDesk, **rows: Any) -> None:
    try:
        await desk.ingest.record(**rows)
    except PushWriteError as exc:
        raise HTTPException(503, f"{exc}; nothing was stored, send it again") from None


async def read_body(chunks: AsyncIterator[bytes], declared: str | None, limit: int) -> bytes | None:
    """Return a request's body, or None past ``limit`` bytes (unread when its length says so)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _metrics_body(body: bytes) -> tuple[str, dict[str, float]]:
    """Given a ``POST /api/metrics`` body, return its token and values, or refuse it with 400.

    Checked by hand: a validation error's usual answer would echo the body, token included.
    """
    try:
        data = json.loads(body)
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(data, dict) or set(data) != {"token", "values"}:
        raise HTTPException(400, 'the body must be {"token": "…", "values": {"name": number}}')
    token, values = data["token"], data["values"]
    if not isinstance(token, str) or not isinstance(values, dict) or not values:
        raise HTTPException(400, '"token" must be a string and "values" a non-empty object')
    if len(values) > MAX_VALUES:
        raise HTTPException(400, f"at most {MAX_VALUES} values at once")
    parsed = {}
    for name, value in values.items():
        number = math.nan
        if isinstance(value, int | float) and not isinstance(value, bool):
            with contextlib.suppress(OverflowError):  # an integer of 400 digits
                number = float(value)
        if not math.isfinite(number):
            shown = name if len(name) <= 100 else name[:100] + "…"
            raise HTTPException(400, f"the value of {shown!r} must be a finite number")
        parsed[name] = number
    return token, parsed
