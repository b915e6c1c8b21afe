"""Alerting inside ``watchkeeper serve``: run the engine when results are written, and the sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import Engine

from watchkeeper.alerting.channels import AppriseChannel, Channel
from watchkeeper.alerting.engine import AlertEngine
from watchkeeper.alerting.outbox import Sender
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets

log = logging.getLogger("watchkeeper.alerting")

IDLE = 1.0
"""Seconds between engine passes when no results arrive (reminders, group and digest timers)."""


def channels_of(config: Config, secrets: Secrets) -> dict[str, Channel]:
    """Given a config and its secrets, return its notification channels by name."""
    return {
        name: AppriseChannel(name, urls, secrets=secrets)
        for name, urls in config.notifications.channels.items()
    }


class AlertWorker:
    """Runs the alert engine after each write and delivers the outbox."""

    def __init__(self, engine: Engine, config: Config, secrets: Secrets) -> None:
        self.engine = AlertEngine(engine, config)
        self.secrets = secrets
        self.sender = Sender(
            engine,
            channels_of(config, secrets),
            give_up_after=config.notifications.give_up_after,
            secrets=secrets,
        )
        self._wake_sender = asyncio.Event()
        self._one_pass = threading.Lock()

    def set_config(self, config: Config) -> None:
        """Apply a reloaded config; alerts, states and queued messages carry on."""
        self.engine.set_config(config)
        self.sender.set_channels(channels_of(config, self.secrets))

    def wake_sender(self) -> None:
        """Deliver what was just queued in the outbox now rather than at the next poll."""
        self._wake_sender.set()

    async def run(self, written: asyncio.Event) -> None:
        """Pass the engine over new results whenever ``written`` is set (or every IDLE seconds)."""
        sender = asyncio.create_task(self.sender.run(self._wake_sender), name="sender")
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(written.wait(), IDLE)
                written.clear()
                await self.step()
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def step(self) -> None:
        """One engine pass: advance states, queue due messages, and wake the sender if any were."""
        try:
            queued = await asyncio.to_thread(self._step, datetime.now(UTC))
        except Exception:
            # The next pass retries from the same cursor: nothing is lost, nothing is doubled.
            log.exception("alert engine pass failed; retrying")
            return
        if queued:
            self.wake_sender()

    def _step(self, now: datetime) -> int:
        # A thread lock, not an asyncio one: a cancelled await leaves its thread running, and the
        # pass at shutdown must wait for it, or both would read the same cursor and send twice.
        with self._one_pass:
            self.engine.process(now)
            return self.engine.dispatch(now)
