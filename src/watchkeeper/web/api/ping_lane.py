"""The ping lane: ASGI middleware answering ``/api/ping/<token>`` (``/start``, ``/fail``) ahead of
the app's routing and middleware, with the same contract as the routes in ``push``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from starlette.types import ASGIApp, Receive, Scope, Send

from watchkeeper.config.specs.push import PingKind
from watchkeeper.web.api.push import accept_ping, push_desk


class PingLane:
    """ASGI middleware that answers the ping endpoints itself, ahead of routing and of the app's
    other middleware (compression, access log …), which cost several times what a ping does.

    The same contract as the routes in ``push``, which document it and answer when the lane is not
    installed; it stays out of the access log the same way, by never reaching it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a ping; pass anything else on."""
        found = _PING_PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if found is None or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        declared = next((v.decode() for k, v in scope["headers"] if k == b"content-length"), None)
        status, text = await accept_ping(
            push_desk(scope["app"].state),
            found["token"],
            PingKind(found["kind"] or PingKind.SUCCESS),
            _chunks(receive) if scope["method"] == "POST" else None,
            declared,
        )
        body = text.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


_PING_PATH = re.compile(r"/api/ping/(?P<token>[^/]+)(?:/(?P<kind>start|fail))?")


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return
        yield message.get("body", b"")
        if not message.get("more_body"):
            return
