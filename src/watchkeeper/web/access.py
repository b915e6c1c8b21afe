"""ASGI middleware: a Server-Timing header on every response, and the access log's entries."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchkeeper.auth import access_log
from watchkeeper.auth.access_log import Access
from watchkeeper.auth.model import Principal, Via

log = logging.getLogger("watchkeeper.web")

_REFUSED = frozenset({401, 403, 429})
ANONYMOUS_EVERY = 60.0
"""Seconds between two logged anonymous refusals from one client."""


class AccessMiddleware:
    """Time each request; log sign-ins, refusals and every change to the access log."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self._anonymous: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; write its access-log entry (if it is one worth keeping) before its end."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        logged = False

        async def timed_send(message: Message) -> None:
            nonlocal status, logged
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Before the last byte goes out: whoever got the answer can already read its entry.
                logged = True
                await self._log(scope, status)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            if not logged:
                await self._log(scope, status)

    async def _log(self, scope: Scope, status: int) -> None:
        entry = _entry(scope, status)
        if entry is None or self._repeated_anonymous(entry):
            return
        try:
            await run_in_threadpool(access_log.record, self.engine, [entry])
        except SQLAlchemyError as exc:
            # A store outage must not turn the answer into an error: say so in the log instead.
            log.error("cannot write the access log (%s): %s", exc.__class__.__name__, entry)

    def _repeated_anonymous(self, entry: Access) -> bool:
        """Return True for an anonymous refused read when its client had one logged in the last minute.

        Otherwise anyone could make every GET they send cost a database write; refused attempts
        to change something are each kept.
        """
        if entry.actor is not None or entry.status != 401 or entry.method not in ("GET", "HEAD"):
            return False
        now = time.monotonic()
        client = entry.client or "unknown"
        if now - self._anonymous.get(client, -ANONYMOUS_EVERY) < ANONYMOUS_EVERY:
            return True
        if len(self._anonymous) > 10_000:
            self._anonymous = {
                c: t for c, t in self._anonymous.items() if now - t < ANONYMOUS_EVERY
            }
        self._anonymous[client] = now
        return False


def _entry(scope: Scope, status: int) -> Access | None:
    state: dict[str, Any] = scope.get("state", {})
    if state.get("access_log") is False:
        return None  # the route said so: its path holds a credential (a push token)
    method = scope["method"]
    action = state.get("action")
    if action is None and method in ("GET", "HEAD", "OPTIONS") and status not in _REFUSED:
        return None
    who: Principal | None = state.get("principal")
    via = who.via.value if who else state.get("credential", Via.ANONYMOUS.value)
    client = scope.get("client")
    return Access(
        at=datetime.now(UTC),
        actor=who.user if who else state.get("actor"),
        via=via,
        action=action or f"{method} {scope['path']}",
        method=method,
        path=scope["path"],
        status=status,
        client=client[0] if client else None,
    )
