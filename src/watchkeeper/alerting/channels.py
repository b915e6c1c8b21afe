"""Channels: where messages go. One named channel is one or more Apprise URLs.

The whole transport contract is ``Channel.send``: it returns when the channel accepted the message
and raises ``DeliveryError`` saying why when it did not. Apprise does the talking to each service.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

import apprise
from apprise.result import AppriseResult, AppriseResultStatus

from watchkeeper.config.secrets import Secrets


class NotifyType(StrEnum):
    """How a message looks in the channel (colour, icon); the values are Apprise's."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


class DeliveryError(Exception):
    """The channel did not accept a message; the text says why, with no secrets in it."""


class Channel(Protocol):
    """Something a message can be sent to."""

    async def send(self, title: str, body: str, notify_type: NotifyType) -> None:
        """Deliver one message; raise ``DeliveryError`` if the channel does not accept it."""
        ...


class AppriseChannel:
    """A named channel that sends each message to all of its Apprise URLs."""

    def __init__(
        self, name: str, urls: Sequence[str], timeout: float = 10.0, secrets: Secrets | None = None
    ) -> None:
        self.name = name
        self._timeout = timeout
        self._apprise = apprise.Apprise()
        for number, url in enumerate(urls, 1):
            if not self._apprise.add(url):
                # The config loader validates URLs first, so this is a caller's mistake.
                raise ValueError(f"channel {name!r}: URL {number} is not a valid Apprise URL")
        self._secrets = Secrets(_secret_parts(urls))
        if secrets is not None:
            self._secrets.add(secrets.values)

    async def send(self, title: str, body: str, notify_type: NotifyType) -> None:
        """Send to every URL of the channel; raise ``DeliveryError`` unless all of them accept."""
        with await self._apprise.async_notify(
            body=body, title=title, notify_type=notify_type.value, timeout=self._timeout
        ) as result:
            if result.status != AppriseResultStatus.SUCCESS:
                raise DeliveryError(self._secrets.redact(self._reason(result)))

    def _reason(self, result: AppriseResult) -> str:
        """Given a failed Apprise result, return what each failing URL reported."""
        reasons = []
        for service in result:
            if service:
                continue
            said = [entry.message for entry in service.logs()]
            if service.status == AppriseResultStatus.TIMEOUT:
                said.append(f"no answer within {self._timeout:g}s")
            # Only scheme and host: webhook URLs carry their tokens in the path.
            parts = urlsplit(service.url)
            where = f"{parts.scheme}://{parts.hostname or ''}"
            reasons.append(f"{where}: {' '.join(said) or 'failed'}")
        if not reasons:
            said = [entry.message for entry in result.call_logs()]
            reasons.append(" ".join(said) or f"Apprise reported {result.status.name}")
        return f"channel {self.name}: " + "; ".join(reasons)


def _secret_parts(urls: Sequence[str]) -> list[str]:
    """Given Apprise URLs, return what no error message may show: each URL, its user and password,
    and every path segment and query value long enough to be a token."""
    parts = list(urls)
    for url in urls:
        split = urlsplit(url)
        parts += [p for p in (split.username, split.password) if p]
        parts += [segment for segment in split.path.split("/") if len(segment) >= 6]
        parts += [value for _, value in parse_qsl(split.query) if len(value) >= 6]
    return parts
