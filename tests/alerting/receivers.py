"""Real receivers on 127.0.0.1 for alerting tests: a JSON webhook that can go down, and an SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session


class WebhookReceiver:
    """An HTTP server recording every JSON body POSTed to it (Apprise's ``json://`` target).

    ``down()`` makes it answer 503, or with ``refuse=True`` stop listening; ``up()`` restores it on
    the same port.
    """

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.port = 0
        self._unavailable = False
        app = web.Application()
        app.router.add_post("/{path:.*}", self._handle)
        self._runner = web.AppRunner(app)
        self._site: web.TCPSite | None = None

    async def __aenter__(self) -> WebhookReceiver:
        await self._runner.setup()
        await self._listen()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._runner.cleanup()

    def url(self, auth: str = "") -> str:
        """Return the Apprise URL of this receiver, with ``user:password@`` if given."""
        return f"json://{auth}127.0.0.1:{self.port}/hook"

    @property
    def titles(self) -> list[str]:
        """Return the title of every message received, in arrival order."""
        return [message["title"] for message in self.received]

    async def down(self, *, refuse: bool = False) -> None:
        """Answer 503 from now on, or refuse connections altogether."""
        self._unavailable = True
        if refuse and self._site is not None:
            await self._site.stop()
            self._site = None

    async def up(self) -> None:
        """Accept messages again."""
        self._unavailable = False
        if self._site is None:
            await self._listen()

    async def _listen(self) -> None:
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        self.port = self._runner.addresses[0][1]

    async def _handle(self, request: web.Request) -> web.Response:
        if self._unavailable:
            return web.Response(status=503, text="down for maintenance")
        self.received.append(await request.json())
        return web.Response(text="ok")


class SmtpReceiver:
    """An SMTP server (aiosmtpd) on the running event loop that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.port = 0

    async def __aenter__(self) -> SmtpReceiver:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.close()
        await self._server.wait_closed()

    def url(self, to: str = "ops@example.com") -> str:
        """Return the Apprise ``mailto://`` URL for plain, unauthenticated SMTP to this server."""
        return f"mailto://127.0.0.1:{self.port}?from=watchkeeper@example.com&to={to}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the message (aiosmtpd's handler hook)."""
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"
