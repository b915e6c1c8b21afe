"""Push checks in the store: pings and posted values written in group commits, and the figures
``heartbeat`` and ``metric`` checks read back."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from watchkeeper.config.specs.push import PingKind
from watchkeeper.store.tables import push_pings, push_series, push_values

log = logging.getLogger("watchkeeper.store")

MAX_BATCH = 5000
"""The most rows one group commit writes."""
INLINE_LOCK_WAIT = 0.05
"""Seconds an inline SQLite write waits for another writer's lock before it is retried."""
RETRIES = (0.05, 0.2, 0.5, 1.0)
"""Seconds between attempts at one batch; after the last, its callers are told it failed."""
DAY = 86400.0
"""Seconds in a day: the span of ``pings_24h``, and the longest a start may be before its success."""
MESSAGE_SHOWN = 200
"""Characters of a ping's body a check's measurements show (the store keeps all of it)."""


class PushWriteError(Exception):
    """The store did not take a batch of pings or values: none of it is stored."""


@dataclass(frozen=True, slots=True)
class Ping:
    """One ping of a heartbeat series, with the (already redacted) body the job sent, if any."""

    series: str
    at: datetime
    kind: PingKind
    message: str | None = None


@dataclass(frozen=True, slots=True)
class PostedValue:
    """One value posted to a metric series."""

    series: str
    at: datetime
    value: float


def write_pushes(
    engine: Engine,
    pings: Sequence[Ping] = (),
    values: Sequence[PostedValue] = (),
    *,
    wait: float | None = None,
) -> None:
    """Write pings and values in one transaction. The ingest's hot path: rows go to the driver's
    executemany as tuples. ``wait`` bounds a SQLite write's wait for another writer's lock."""
    embedded = engine.dialect.name == "sqlite"
    ping_sql, value_sql = _SQL["?" if embedded else "%s"]
    with engine.begin() as connection:
        if wait is not None and embedded:
            before = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            if pings:
                connection.exec_driver_sql(
                    ping_sql,
                    [(p.series, _at(p.at, embedded), p.kind.value, p.message) for p in pings],
                )
            if values:
                connection.exec_driver_sql(
                    value_sql, [(v.series, _at(v.at, embedded), v.value) for v in values]
                )
        finally:
            if wait is not None and embedded:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(before or 0)}")


@dataclass
class _Pending:
    pings: Sequence[Ping]
    values: Sequence[PostedValue]
    done: asyncio.Future[None] = field(repr=False)

    @property
    def rows(self) -> int:
        return len(self.pings) + len(self.values)


class PushIngest:
    """Stores pings and posted values as they arrive, many requests to a transaction (a group
    commit). ``record`` returns once its rows are committed, so whatever a caller acknowledged
    is stored, and a stop loses nothing: the requests still waiting finish with their commit.

    Requests that arrive while one batch is written make up the next. A SQLite store is written
    from the event loop (a thread would wait for the interpreter lock once per row while the loop
    is busy); a PostgreSQL store from a thread.
    """

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._embedded = engine.dialect.name == "sqlite"
        self._max_batch = max_batch
        self._queue: deque[_Pending] = deque()
        self._flushing: asyncio.Task[None] | None = None
        self._failing = False

    async def record(self, pings: Sequence[Ping] = (), values: Sequence[PostedValue] = ()) -> None:
        """Store pings and values with the next group commit; raise PushWriteError if it failed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(pings, values, done))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush(), name="push-ingest")
        await done

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch = self._take()
                error = await self._write(
                    [p for b in batch for p in b.pings], [v for b in batch for v in b.values]
                )
                for pending in batch:
                    if pending.done.done():  # its caller went away; its rows are written anyway
                        continue
                    if error is None:
                        pending.done.set_result(None)
                    else:
                        pending.done.set_exception(PushWriteError(error))
                await asyncio.sleep(0)  # let the requests that came meanwhile join the next batch
        finally:
            self._flushing = None

    def _take(self) -> list[_Pending]:
        batch = [self._queue.popleft()]
        rows = batch[0].rows
        while self._queue and rows + self._queue[0].rows <= self._max_batch:
            rows += self._queue[0].rows
            batch.append(self._queue.popleft())
        return batch

    async def _write(self, pings: list[Ping], values: list[PostedValue]) -> str | None:
        """Write one batch, retrying briefly; return None, or why it could not be written."""
        for delay in (*RETRIES, None):
            try:
                if self._embedded:
                    write_pushes(self._engine, pings, values, wait=INLINE_LOCK_WAIT)
                else:
                    await asyncio.to_thread(write_pushes, self._engine, pings, values)
            except SQLAlchemyError as exc:
                if delay is not None:
                    await asyncio.sleep(delay)
                    continue
                reason = " ".join(str(getattr(exc, "orig", None) or exc).split()[:40])
                if not self._failing:
                    log.error("cannot store pings and posted values: %s", reason)
                self._failing = True
                return f"the store is unavailable: {reason}"
            if self._failing:
                log.warning("pings and posted values are stored again")
                self._failing = False
            return None
        raise AssertionError("unreachable")


def heartbeat_figures(connection: Connection, series: str, now: datetime) -> dict[str, Any]:
    """Return a heartbeat series' ping figures: ``first_seen_age``, ``pings_24h`` and, once it
    was pinged, ``last_ping_age``, ``last_ping_kind``, ``last_message`` (if the last ping had a
    body) and ``last_duration`` (from a start to the success right after it)."""
    c = push_pings.c
    figures: dict[str, Any] = {
        "first_seen_age": _age(_first_seen(connection, series, now), now),
        "pings_24h": int(
            connection.execute(
                select(func.count())
                .select_from(push_pings)
                .where(c.series == series, c.at > now - timedelta(seconds=DAY))
            ).scalar_one()
        ),
    }
    newest = select(c.at, c.kind, c.message).where(c.series == series)
    last = connection.execute(newest.order_by(c.at.desc(), c.id.desc()).limit(1)).first()
    if last is None:
        return figures
    figures["last_ping_age"] = _age(last.at, now)
    figures["last_ping_kind"] = last.kind
    if last.message:
        figures["last_message"] = last.message[:MESSAGE_SHOWN]
    success = connection.execute(
        select(c.id, c.at)
        .where(c.series == series, c.kind == PingKind.SUCCESS.value)
        .order_by(c.at.desc(), c.id.desc())
        .limit(1)
    ).first()
    if success is not None:
        # As Healthchecks does: a run's duration runs from the ping just before its success, if
        # that was a start less than a day before (older, the two are taken as unrelated).
        before = connection.execute(
            newest.where((c.at < success.at) | ((c.at == success.at) & (c.id < success.id)))
            .order_by(c.at.desc(), c.id.desc())
            .limit(1)
        ).first()
        if before is not None and before.kind == PingKind.START.value:
            took = (success.at - before.at).total_seconds()
            if took < DAY:
                figures["last_duration"] = took
    return figures


def metric_figures(
    connection: Connection, series: str, name: str, window: float, now: datetime
) -> dict[str, Any]:
    """Return a metric series' figures: ``first_seen_age``, ``count`` over ``window`` seconds and,
    once a value was posted, ``<name>`` (the latest) and its ``age``; with values in the window,
    their ``mean``, ``min``, ``max`` and ``p95``."""
    c = push_values.c
    mine = c.series == series
    window_values = sorted(
        float(v)
        for v in connection.scalars(
            select(c.value).where(mine, c.at > now - timedelta(seconds=window))
        )
    )
    figures: dict[str, Any] = {
        "first_seen_age": _age(_first_seen(connection, series, now), now),
        "count": len(window_values),
    }
    latest = connection.execute(
        select(c.at, c.value).where(mine).order_by(c.at.desc(), c.id.desc()).limit(1)
    ).first()
    if latest is not None:
        figures[name] = latest.value
        figures["age"] = _age(latest.at, now)
    if window_values:
        figures["mean"] = math.fsum(window_values) / len(window_values)
        figures["min"] = window_values[0]
        figures["max"] = window_values[-1]
        # Nearest rank, as the result rollups compute their p95.
        figures["p95"] = window_values[math.ceil(0.95 * len(window_values)) - 1]
    return figures


def push_reader(engine: Engine) -> Callable[[str], dict[str, Any]]:
    """Given the store's engine, return what push checks read their figures with: it takes a
    spec's ``figures_key`` (a series, and for a metric its window)."""

    def read(key: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        with engine.begin() as connection:
            if key.startswith("metric/"):
                series, window = key.rsplit("/", 1)
                name = series.rsplit("/", 1)[1]
                return metric_figures(connection, series, name, float(window), now)
            return heartbeat_figures(connection, key, now)

    return read


def prune_pushes(engine: Engine, before: datetime) -> int:
    """Delete pings and values older than ``before``, but each series' newest ping and value (a
    job pinged once a month must not look never pinged); return how many were deleted."""
    deleted = 0
    with engine.begin() as connection:
        for table in (push_pings, push_values):
            newest = select(func.max(table.c.id)).group_by(table.c.series)
            deleted += int(
                connection.execute(
                    delete(table).where(table.c.at < before, table.c.id.not_in(newest))
                ).rowcount
            )
    return deleted


def _first_seen(connection: Connection, series: str, now: datetime) -> datetime:
    query = select(push_series.c.first_seen_at).where(push_series.c.series == series)
    seen: datetime | None = connection.execute(query).scalar()
    if seen is not None:
        return seen
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    # Another worker may see it first: then its time stands.
    connection.execute(
        dialect.insert(push_series)
        .values(series=series, first_seen_at=now)
        .on_conflict_do_nothing()
    )
    found: datetime = connection.execute(query).scalar_one()
    return found


def _age(at: datetime, now: datetime) -> float:
    return max(0.0, (now - at).total_seconds())


def _at(at: datetime, embedded: bool) -> datetime | str:
    at = at.astimezone(UTC)
    # The text layout SQLAlchemy's DateTime uses on SQLite, so reads compare and parse it alike.
    return at.replace(tzinfo=None).isoformat(" ", "microseconds") if embedded else at


_INSERT_PINGS = "INSERT INTO push_pings (series, at, kind, message) VALUES (?, ?, ?, ?)"
_INSERT_VALUES = "INSERT INTO push_values (series, at, value) VALUES (?, ?, ?)"
_SQL = {
    "?": (_INSERT_PINGS, _INSERT_VALUES),
    "%s": (_INSERT_PINGS.replace("?", "%s"), _INSERT_VALUES.replace("?", "%s")),
}
