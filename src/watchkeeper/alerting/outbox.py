"""The durable outbox: messages are rows in the store, and the sender delivers them with retries.

A message is written (``enqueue``) in the same transaction as whatever decided to send it, so a
crash loses nothing. The sender delivers due rows oldest first, in order within each channel, and
records every attempt. Delivery is at-least-once: a row is marked delivered in its own short
transaction right after the channel accepts it, so only a crash inside that tiny window sends a
message twice. A failed row is retried with exponential backoff until ``give_up_after``.

Rows are claimed before sending (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, plus a lease in
``next_attempt_at``) so two senders sharing a database do not both deliver one row; a sender that
dies mid-send leaves its rows to be retried when the lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from watchkeeper.alerting.channels import Channel, DeliveryError, NotifyType
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.tables import delivery_attempts, outbox

log = logging.getLogger("watchkeeper.alerting.outbox")

BATCH = 100
"""The most rows one ``send_due`` claims."""
LEASE = timedelta(seconds=60)
"""How long a claimed row is left to its sender before another may try it (sends time out sooner)."""
POLL = 1.0
"""The longest ``run`` waits between looks at the outbox, by default."""
FIRST_BACKOFF = 5.0
MAX_BACKOFF = 600.0


def now_utc() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class OutboxRow:
    """One message in the outbox, as ``watchkeeper outbox`` shows it."""

    id: int
    channel: str
    title: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    failed_at: datetime | None


def enqueue(
    connection: Connection,
    channel: str,
    title: str,
    body: str,
    notify_type: NotifyType,
    now: datetime,
) -> int:
    """Add a message for ``channel`` inside the caller's transaction; return its id."""
    inserted = connection.execute(
        insert(outbox).values(
            channel=channel,
            title=title,
            body=body,
            notify_type=NotifyType(notify_type).value,
            created_at=now,
            next_attempt_at=now,
        )
    )
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])


def backoff(attempts: int) -> float:
    """Given how many attempts failed, return the seconds to wait: 5, 10, 20, … 600, each ±10%."""
    doublings = min(max(attempts, 1) - 1, 16)
    return min(FIRST_BACKOFF * 2.0**doublings, MAX_BACKOFF) * random.uniform(0.9, 1.1)


def pending(engine: Engine) -> list[OutboxRow]:
    """Return every undelivered message (waiting or given up), oldest first."""
    query = select(outbox).where(outbox.c.delivered_at.is_(None)).order_by(outbox.c.id)
    with engine.connect() as connection:
        return [
            OutboxRow(
                id=row.id,
                channel=row.channel,
                title=row.title,
                created_at=row.created_at,
                attempts=row.attempts,
                next_attempt_at=row.next_attempt_at,
                last_error=row.last_error,
                delivered_at=row.delivered_at,
                failed_at=row.failed_at,
            )
            for row in connection.execute(query)
        ]


_waiting = and_(outbox.c.delivered_at.is_(None), outbox.c.failed_at.is_(None))


def waiting_count(engine: Engine) -> int:
    """Return how many messages are still to be delivered (not given up on)."""
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(outbox).where(_waiting)) or 0)


class Sender:
    """Delivers due outbox rows through the configured channels."""

    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        *,
        give_up_after: float = 3 * 86400,
        clock: Callable[[], datetime] = now_utc,
        poll: float = POLL,
        secrets: Secrets | None = None,
    ) -> None:
        self._engine = engine
        self._poll = poll
        self._channels = dict(channels)
        self._give_up_after = timedelta(seconds=give_up_after)
        self._clock = clock
        self._secrets = secrets or Secrets()

    def set_channels(self, channels: Mapping[str, Channel]) -> None:
        """Use ``channels`` from the next delivery on (after a config reload)."""
        self._channels = dict(channels)

    async def send_due(self) -> int:
        """Deliver every due message, in order within each channel; return how many were delivered."""
        rows = await asyncio.to_thread(self._claim, self._clock())
        by_channel: dict[str, list[Row[Any]]] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(row)
        outcomes = await asyncio.gather(
            *(self._send_channel(name, queue) for name, queue in by_channel.items()),
            return_exceptions=True,
        )
        delivered = 0
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            delivered += outcome
        return delivered

    async def run(self, wake: asyncio.Event | None = None) -> None:
        """Deliver messages until cancelled; setting ``wake`` sends new ones at once."""
        wake = wake or asyncio.Event()
        failing = False
        while True:
            # Cleared before looking, so a message enqueued meanwhile is not waited for.
            wake.clear()
            try:
                await self.send_due()
                delay = await asyncio.to_thread(self._seconds_to_next, self._clock())
            except Exception as exc:
                if not failing:
                    log.error("cannot deliver notifications: %s", exc)
                failing, delay = True, self._poll
            else:
                if failing:
                    log.info("delivering notifications again")
                failing = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=min(max(delay, 0.0), self._poll))

    async def _send_channel(self, name: str, rows: Sequence[Row[Any]]) -> int:
        channel = self._channels.get(name)
        if channel is None:
            reason = f"channel {name} is no longer configured"
            await asyncio.to_thread(self._give_up, [row.id for row in rows], reason)
            return 0
        for done, row in enumerate(rows):
            if not await self._send_one(channel, row):
                # Later messages wait behind this one, so the channel gets them in order.
                await asyncio.to_thread(self._release, [later.id for later in rows[done + 1 :]])
                return done
        return len(rows)

    async def _send_one(self, channel: Channel, row: Row[Any]) -> bool:
        at = self._clock()
        started = time.monotonic()
        error: str | None = None
        try:
            await channel.send(row.title, row.body, NotifyType(row.notify_type))
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:
            # A bug or bad row is this message's failure, retried like any; the round goes on.
            log.exception("unexpected error delivering outbox message %d", row.id)
            error = self._secrets.redact(f"unexpected error: {type(exc).__name__}: {exc}")
        duration_ms = (time.monotonic() - started) * 1000
        await asyncio.to_thread(self._record, row, at, error, duration_ms)
        return error is None

    def _claim(self, now: datetime) -> list[Row[Any]]:
        """Return the due rows (oldest first, none behind a waiting one) and lease them."""
        older = aliased(outbox)
        blocked = exists().where(
            older.c.channel == outbox.c.channel,
            older.c.id < outbox.c.id,
            older.c.delivered_at.is_(None),
            older.c.failed_at.is_(None),
            older.c.next_attempt_at > now,
        )
        query = (
            select(outbox)
            .where(_waiting, outbox.c.next_attempt_at <= now, ~blocked)
            .order_by(outbox.c.id)
            .limit(BATCH)
        )
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=outbox)
            rows = list(connection.execute(query))
            if rows:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(next_attempt_at=now + LEASE)
                )
        return rows

    def _record(self, row: Row[Any], at: datetime, error: str | None, duration_ms: float) -> None:
        """Write one attempt and its outcome, in one short transaction."""
        now = self._clock()
        if error is None:
            outcome: dict[str, Any] = {"delivered_at": now}
        else:
            attempts = row.attempts + 1
            outcome = {
                "attempts": attempts,
                "last_error": error,
                "next_attempt_at": now + timedelta(seconds=backoff(attempts)),
            }
            if now - row.created_at > self._give_up_after:
                outcome["failed_at"] = now
        with self._engine.begin() as connection:
            connection.execute(
                insert(delivery_attempts).values(
                    outbox_id=row.id, at=at, ok=error is None, error=error, duration_ms=duration_ms
                )
            )
            connection.execute(update(outbox).where(outbox.c.id == row.id).values(**outcome))

    def _release(self, ids: list[int]) -> None:
        """Hand leased rows back unsent; they stay behind the row that failed."""
        if ids:
            with self._engine.begin() as connection:
                connection.execute(
                    update(outbox).where(outbox.c.id.in_(ids)).values(next_attempt_at=self._clock())
                )

    def _give_up(self, ids: list[int], reason: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(failed_at=self._clock(), last_error=reason)
            )

    def _seconds_to_next(self, now: datetime) -> float:
        """Return the seconds until the oldest waiting message of some channel is due."""
        heads = select(func.min(outbox.c.id)).where(_waiting).group_by(outbox.c.channel)
        query = select(func.min(outbox.c.next_attempt_at)).where(outbox.c.id.in_(heads))
        with self._engine.connect() as connection:
            earliest = connection.execute(query).scalar()
        if earliest is None:
            return self._poll
        delay: float = (earliest - now).total_seconds()
        return delay
