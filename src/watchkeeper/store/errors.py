"""Error events in the store: what apps post to ``POST /api/errors`` (already masked), read back by
``errors`` checks, by the errors API and by reports, and pruned after a retention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, delete, insert, select

from watchkeeper.analytics.errors import ErrorEvent, ErrorLevel, fingerprint_of
from watchkeeper.store.tables import error_events

KEPT = timedelta(days=30)
"""How long error events are kept at least (longer when raw results are kept longer): a check's
"new" needs its history, 7 days by default, and a monthly report the month."""
MAX_READ = 50_000
"""The most events one read returns (the newest): an app in a loop must not stall a check."""


@dataclass(frozen=True, slots=True)
class PostedError:
    """One error event for a series (``errors/<token's SHA-256>``), and when it was received."""

    series: str
    event: ErrorEvent
    received_at: datetime


def write_errors(engine: Engine, posted: Sequence[PostedError]) -> None:
    """Given error events, store them all in one transaction, each with its fingerprint."""
    if not posted:
        return
    rows = [
        {
            "series": p.series,
            "at": p.event.time,
            "received_at": p.received_at,
            "level": p.event.level.value,
            "fingerprint": fingerprint_of(p.event).key,
            "message": p.event.message,
            "stack": "\n".join(p.event.stack) if p.event.stack else None,
            "tags": dict(p.event.tags) if p.event.tags else None,
        }
        for p in posted
    ]
    with engine.begin() as connection:
        connection.execute(insert(error_events), rows)


def read_errors(
    engine: Engine, series: str, since: datetime, until: datetime | None = None
) -> list[ErrorEvent]:
    """Given a series and a time, return its events from then until ``until`` (default: now),
    oldest first; at most MAX_READ, the newest."""
    c = error_events.c
    query = _between(select(c.at, c.level, c.message, c.stack, c.tags), since, until)
    return [_event(row) for row in _newest(engine, query.where(c.series == series))]


def read_all_errors(
    engine: Engine, since: datetime, until: datetime | None = None, limit: int = MAX_READ
) -> list[tuple[str, ErrorEvent]]:
    """Given a span, return the events of every series in it as ``(series, event)``, oldest
    first; at most ``limit``, the newest."""
    c = error_events.c
    query = _between(select(c.at, c.level, c.message, c.stack, c.tags, c.series), since, until)
    return [(row.series, _event(row)) for row in _newest(engine, query, limit)]


def error_reader(engine: Engine) -> Callable[[str, datetime], Sequence[ErrorEvent]]:
    """Given the store's engine, return what ``errors`` checks read their events with."""

    def read(series: str, since: datetime) -> Sequence[ErrorEvent]:
        return read_errors(engine, series, since)

    return read


def prune_errors(engine: Engine, before: datetime) -> int:
    """Delete the error events that happened before ``before``; return how many."""
    with engine.begin() as connection:
        return int(
            connection.execute(delete(error_events).where(error_events.c.at < before)).rowcount
        )


def _between(query: Select[Any], since: datetime, until: datetime | None) -> Select[Any]:
    c = error_events.c
    return query.where(c.at >= since, c.at <= (until or datetime.now(UTC)))


def _newest(engine: Engine, query: Select[Any], limit: int = MAX_READ) -> list[Any]:
    c = error_events.c
    with engine.begin() as connection:
        rows = list(connection.execute(query.order_by(c.at.desc(), c.id.desc()).limit(limit)))
    rows.reverse()
    return rows


def _event(row: Any) -> ErrorEvent:
    tags = row.tags or {}
    return ErrorEvent(
        time=row.at,
        message=row.message,
        level=ErrorLevel(row.level),
        tags=tuple(sorted((str(k), str(v)) for k, v in tags.items())),
        stack=tuple(row.stack.split("\n")) if row.stack else (),
    )
