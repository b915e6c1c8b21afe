"""Error events in the store, on SQLite and PostgreSQL: written in one transaction, read back by
series and span (oldest first, newest kept when bounded), across series for reports, and pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from watchkeeper.analytics.errors import ErrorEvent, ErrorLevel, fingerprint_of
from watchkeeper.store.errors import (
    PostedError,
    error_reader,
    prune_errors,
    read_all_errors,
    read_errors,
    write_errors,
)
from watchkeeper.store.store import Store
from watchkeeper.store.tables import error_events

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
APP = "errors/app"
OTHER = "errors/other"


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def posted(series: str, minutes_ago: float, message: str) -> PostedError:
    return PostedError(series, ErrorEvent(ago(minutes_ago), message), NOW)


def test_events_come_back_as_posted_oldest_first(store: Store) -> None:
    crash = ErrorEvent(
        ago(5),
        "KeyError: 'user'",
        ErrorLevel.CRITICAL,
        tags=(("release", "1.2"), ("server", "web-1")),
        stack=('File "app.py", line 10, in main', 'File "views.py", line 42, in show'),
    )
    write_errors(
        store.engine,
        [
            PostedError(APP, crash, NOW),
            posted(APP, 60, "timeout talking to db"),
            posted(OTHER, 1, "not mine"),
        ],
    )
    events = read_errors(store.engine, APP, ago(120), NOW)
    assert [e.message for e in events] == ["timeout talking to db", "KeyError: 'user'"]
    assert events[1] == crash
    assert events[0].level is ErrorLevel.ERROR and events[0].stack == () and events[0].tags == ()
    with store.engine.begin() as connection:
        stored = connection.execute(
            select(error_events.c.fingerprint).where(error_events.c.message == crash.message)
        ).scalar_one()
    assert stored == fingerprint_of(crash).key


def test_a_read_covers_its_span_only(store: Store) -> None:
    write_errors(store.engine, [posted(APP, m, f"error {m}") for m in (300, 90, 30, -10)])
    assert [e.message for e in read_errors(store.engine, APP, ago(120), NOW)] == [
        "error 90",
        "error 30",
    ]
    reader = error_reader(store.engine)
    # The reader runs up to the clock: the test's NOW is in the past, so the "future" one counts.
    assert len(reader(APP, ago(120))) == 3


def test_a_bounded_read_keeps_the_newest(store: Store) -> None:
    write_errors(store.engine, [posted(s, m, f"{s} {m}") for m in range(10) for s in (APP, OTHER)])
    both = read_all_errors(store.engine, ago(60), NOW, limit=4)
    assert [(s, e.message) for s, e in both] == [
        (APP, f"{APP} 1"),
        (OTHER, f"{OTHER} 1"),
        (APP, f"{APP} 0"),
        (OTHER, f"{OTHER} 0"),
    ]


def test_pruning_deletes_what_happened_before_the_cutoff(store: Store) -> None:
    write_errors(store.engine, [posted(APP, m, "old" if m > 60 else "new") for m in (90, 70, 30)])
    assert prune_errors(store.engine, ago(60)) == 2
    assert [e.message for e in read_errors(store.engine, APP, ago(1000), NOW)] == ["new"]


def test_writing_nothing_is_nothing(store: Store) -> None:
    write_errors(store.engine, [])
    assert read_all_errors(store.engine, ago(60), NOW) == []


@pytest.mark.parametrize("count", [1, 250])
def test_a_batch_is_stored_whole(store: Store, count: int) -> None:
    write_errors(store.engine, [posted(APP, i / 100, f"e{i}") for i in range(count)])
    assert len(read_errors(store.engine, APP, ago(60), NOW)) == count
