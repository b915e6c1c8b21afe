"""Alerting inside ``watchkeeper serve``: run the engine when results are written, and the sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy import Engine

from watchkeeper.alerting.channels import AppriseChannel, Channel
from watchkeeper.alerting.engine import AlertEngine
from watchkeeper.alerting.outbox import Sender
from watchkeeper.config.schema import Config

log = logging.getLogger("watchkeeper.alerting")

IDLE = 1.0
"""Seconds between engine passes when no results arrive (reminders, group and digest timers)."""


def channels_of(config: Config) -> dict[str, Channel]:
    """Given a config, return its notification channels by name."""
    return {
        name: AppriseChannel(name, urls) for name, urls in config.notifications.channels.items()
    }


class AlertWorker:
    """Runs the alert engine after each write and delivers the outbox."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = AlertEngine(engine, config)
        self.sender = Sender(
            engine, channels_of(config), give_up_after=config.notifications.give_up_after
        )
        self._wake_sender = asyncio.Event()

    def set_config(self, config: Config) -> None:
        """Apply a reloaded config; alerts, states and queued messages carry on."""
        self.engine.set_config(config)
        self.sender.set_channels(channels_of(config))

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
            self._wake_sender.set()

    def _step(self, now: datetime) -> int:
        self.engine.process(now)
        return self.engine.dispatch(now)
