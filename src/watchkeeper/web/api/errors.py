"""Error events from apps: ``POST /api/errors`` (Sentry-like: message, level, stack, tags, time),
for the ``errors`` checks with its token, and ``GET /api/errors``, the patterns they make.

The post is a push: its token is the credential, looked up by SHA-256; an unknown one is a plain
404 naming no check. Secrets are masked before anything is stored, and a refused body is never
echoed.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.exc import SQLAlchemyError

from watchkeeper.analytics.errors import DEFAULT_RULES, ErrorEvent, ErrorLevel, overall, patterns
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.config.specs.errors import ErrorsSpec, errors_series
from watchkeeper.config.specs.push import token_digest
from watchkeeper.probes.errors import counted, rules_of
from watchkeeper.store.errors import PostedError, read_all_errors, read_errors, write_errors
from watchkeeper.web.api.error_models import AcceptedOut, ErrorPatternOut, ErrorsOut
from watchkeeper.web.api.models import problem
from watchkeeper.web.api.params import Since, Viewer, moment
from watchkeeper.web.api.push import push_desk, read_body

router = APIRouter(tags=["errors"])

MAX_BODY = 262_144
"""Bytes of a ``POST /api/errors`` body."""
MAX_EVENTS = 100
"""Events in one post."""
MAX_MESSAGE = 2_000
"""Characters of a message that are kept; the rest is cut."""
MAX_STACK = 16_384
"""Characters of a stack that are kept: its innermost frames, where the error was raised."""
MAX_TAGS = 20
"""Tags of one event."""
MAX_TAG_TEXT = 200
"""Characters of a tag's key or value that are kept."""
FUTURE = timedelta(minutes=5)
"""How far ahead of our clock an event's time may be (clocks drift); later is refused."""
MAX_PATTERNS = 200
"""Patterns ``GET /api/errors`` lists."""

LEVELS = {
    "debug": ErrorLevel.DEBUG,
    "info": ErrorLevel.INFO,
    "warning": ErrorLevel.WARNING,
    "error": ErrorLevel.ERROR,
    "fatal": ErrorLevel.CRITICAL,
    "critical": ErrorLevel.CRITICAL,
}
"""Sentry's levels (and ours), by name."""
_FIELDS = {"message", "level", "stack", "tags", "timestamp"}


@dataclass(frozen=True)
class _Tokens:
    """The ``errors`` tokens of one config, by SHA-256, and all of them to redact."""

    config: Config
    digests: frozenset[str]
    secrets: Secrets


def _tokens(request: Request) -> _Tokens:
    config = request.app.state.wk.config
    known: _Tokens | None = getattr(request.app.state, "error_tokens", None)
    if known is None or known.config is not config:
        specs = [c.spec for c in config.checks if isinstance(c.spec, ErrorsSpec)]
        known = request.app.state.error_tokens = _Tokens(
            config,
            frozenset(token_digest(s.token) for s in specs),
            Secrets([s.token for s in specs]),
        )
    return known


_EVENT = {
    "type": "object",
    "required": ["message"],
    "additionalProperties": False,
    "properties": {
        "message": {"type": "string", "minLength": 1},
        "level": {"enum": list(LEVELS)},
        "stack": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "tags": {
            "type": "object",
            "maxProperties": MAX_TAGS,
            "additionalProperties": {"type": "string"},
        },
        "timestamp": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]},
    },
}
_BODY = {
    "oneOf": [
        {
            "type": "object",
            "required": ["token", "events"],
            "additionalProperties": False,
            "properties": {
                "token": {"type": "string"},
                "events": {"type": "array", "minItems": 1, "maxItems": MAX_EVENTS, "items": _EVENT},
            },
        },
        {
            "allOf": [_EVENT | {"additionalProperties": True}],
            "required": ["token", "message"],
            "properties": {"token": {"type": "string"}},
        },
    ]
}


@router.post(
    "/errors",
    status_code=202,
    responses={
        400: problem("the body is not as described"),
        404: problem("no check has this token"),
        413: problem("the body is longer than 256 kB, or holds more than 100 events"),
        503: problem("the store is unavailable: nothing was stored, send it again"),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY}}}
    },
)
async def post_errors(request: Request) -> AcceptedOut:
    """Post error events for the ``errors`` checks with this token: ``{"token": "…", "events":
    [{"message": "…", "level": "error", "stack": ["…"], "tags": {"release": "1.2"},
    "timestamp": "2026-11-22T12:00:00Z"}]}``, or one event's fields beside ``token``.

    Levels are Sentry's (debug, info, warning, error, fatal); the time defaults to now. Messages
    are cut at 2,000 characters, stacks at 16 kB; secrets are masked before they are stored.
    """
    request.state.access_log = False  # as for every push: the store records what came
    raw = await read_body(request.stream(), request.headers.get("content-length"), MAX_BODY)
    if raw is None:
        raise HTTPException(413, f"the body is longer than {MAX_BODY} bytes")
    token, events = _errors_body(raw)
    digest = token_digest(token)
    tokens = _tokens(request)
    if digest not in tokens.digests:
        raise HTTPException(404, "no check has this token")
    now = datetime.now(UTC)
    desk = push_desk(request.app.state)

    def mask(text: str) -> str:
        # PostgreSQL refuses NUL in text: one such byte would make every resend fail the same way.
        return desk.redact(tokens.secrets.redact(text)).replace("\x00", "\ufffd")

    series = errors_series(digest)
    posted = [PostedError(series, _event(e, now, mask), now) for e in events]
    try:
        await asyncio.to_thread(write_errors, request.app.state.wk.store.engine, posted)
    except SQLAlchemyError:
        raise HTTPException(
            503, "the store is unavailable: nothing was stored, send it again"
        ) from None
    return AcceptedOut(accepted=len(posted))


@router.get("/errors", responses={404: problem("no errors check has this name")})
def get_errors(
    request: Request, who: Viewer, since: Since = None, check: str | None = None
) -> ErrorsOut:
    """The error patterns since ``since`` (default: a day ago), gravest first: of one ``errors``
    check (with its level, tags and rules), or of every error posted (error level and graver)."""
    now = datetime.now(UTC)
    start = moment(since, "since") or now - timedelta(days=1)
    if start >= now:
        raise HTTPException(422, "since must be in the past")
    engine = request.app.state.wk.store.engine
    if check is None:
        rules, history = DEFAULT_RULES, timedelta(days=7)
        # As a default errors check counts them: errors and graver.
        graver = list(ErrorLevel)[list(ErrorLevel).index(ErrorLevel.ERROR) :]
        events = [e for _, e in read_all_errors(engine, start - history, now) if e.level in graver]
    else:
        found = next((c for c in request.app.state.wk.config.checks if c.name == check), None)
        if found is None or not isinstance(found.spec, ErrorsSpec):
            raise HTTPException(404, "no errors check has this name")
        spec = found.spec
        rules, history = rules_of(spec), timedelta(seconds=spec.history)
        events = counted(spec, read_errors(engine, spec.series, start - history, now))
    window = now - start
    total = overall(events, now, window, rules)
    return ErrorsOut(
        since=start,
        until=now,
        count=total.count,
        kinds=total.kinds,
        patterns=[
            ErrorPatternOut.of(p) for p in patterns(events, now, window, rules)[:MAX_PATTERNS]
        ],
    )


def _errors_body(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """Given a ``POST /api/errors`` body, return its token and raw events, or refuse it (400,
    or 413 past MAX_EVENTS) without echoing any of it."""
    try:
        data = json.loads(body)
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("token"), str):
        raise HTTPException(400, 'the body must be an object with a "token" string')
    token = data.pop("token")
    if "events" in data:
        events = data.pop("events")
        if data:
            raise HTTPException(400, 'the body holds "token" and "events" only')
        if not isinstance(events, list) or not events:
            raise HTTPException(400, '"events" must be a non-empty list')
        if len(events) > MAX_EVENTS:
            raise HTTPException(413, f"at most {MAX_EVENTS} events at once")
    else:
        events = [data]
    for event in events:
        if not isinstance(event, dict) or not set(event) <= _FIELDS:
            raise HTTPException(
                400, "an event is an object of message, level, stack, tags and timestamp"
            )
    return token, events


def _event(data: dict[str, Any], now: datetime, mask: Callable[[str], str]) -> ErrorEvent:
    """Given one raw event, the time it was received and the masking, return it as an error
    event, or refuse it with 400."""
    message = data.get("message")
    if not isinstance(message, str) or not message.strip():
        raise HTTPException(400, '"message" must be a non-empty string')
    name = data.get("level", "error")
    level = LEVELS.get(name) if isinstance(name, str) else None
    if level is None:
        raise HTTPException(400, f'"level" must be one of {", ".join(LEVELS)}')
    return ErrorEvent(
        time=_time(data.get("timestamp"), now),
        message=mask(message)[:MAX_MESSAGE],
        level=level,
        tags=tuple(sorted(_tags(data.get("tags"), mask).items())),
        stack=_stack(data.get("stack"), mask),
    )


def _time(value: object, now: datetime) -> datetime:
    if value is None:
        return now
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise ValueError
            at = datetime.fromtimestamp(value, UTC)
        elif isinstance(value, str):
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        else:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise HTTPException(
            400, '"timestamp" must be ISO 8601 (e.g. 2026-11-22T12:00:00Z) or Unix seconds'
        ) from None
    if at > now + FUTURE:
        raise HTTPException(400, '"timestamp" is more than 5 minutes in the future')
    return at


def _tags(value: object, mask: Callable[[str], str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise HTTPException(400, '"tags" must be an object of strings')
    if len(value) > MAX_TAGS:
        raise HTTPException(400, f"at most {MAX_TAGS} tags an event")
    return {mask(k)[:MAX_TAG_TEXT]: mask(v)[:MAX_TAG_TEXT] for k, v in value.items()}


def _stack(value: object, mask: Callable[[str], str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(f, str) for f in value):
        text = "\n".join(value)
    else:
        raise HTTPException(400, '"stack" must be a string or a list of strings')
    # The innermost frames are kept: the last names where the error was raised (its fingerprint).
    lines = [line for line in mask(text)[-MAX_STACK:].splitlines() if line.strip()]
    return tuple(lines)
