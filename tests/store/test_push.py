"""Push checks in the store, on SQLite and PostgreSQL: group-committed pings and values, the
figures heartbeat and metric checks read, and pruning."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from watchkeeper.config.specs.push import HeartbeatSpec, MetricSpec, PingKind
from watchkeeper.store import connect
from watchkeeper.store.push import (
    Ping,
    PostedValue,
    PushIngest,
    PushWriteError,
    heartbeat_figures,
    metric_figures,
    prune_pushes,
    push_reader,
    write_pushes,
)
from watchkeeper.store.store import Store
from watchkeeper.store.tables import push_pings, push_values

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
JOB = "heartbeat/job"
SERIES = "metric/app/agent_execution_time"


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_a_series_never_pinged_has_only_when_it_was_first_seen(any_store: Store) -> None:
    with any_store.engine.begin() as connection:
        first = heartbeat_figures(connection, JOB, NOW)
    with any_store.engine.begin() as connection:
        later = heartbeat_figures(connection, JOB, NOW + timedelta(hours=2))
    assert first == {"first_seen_age": 0.0, "pings_24h": 0}
    assert later == {"first_seen_age": 7200.0, "pings_24h": 0}


def test_heartbeat_figures_follow_healthchecks(any_store: Store) -> None:
    write_pushes(
        any_store.engine,
        [
            Ping(JOB, ago(90_000), PingKind.SUCCESS),  # more than a day ago
            Ping(JOB, ago(3_700), PingKind.START),
            Ping(JOB, ago(3_600), PingKind.SUCCESS, "copied 12 files"),
            Ping("heartbeat/other", ago(10), PingKind.FAIL, "not mine"),
        ],
    )
    with any_store.engine.begin() as connection:
        figures = heartbeat_figures(connection, JOB, NOW)
    assert figures == {
        "first_seen_age": 0.0,
        "pings_24h": 2,
        "last_ping_age": 3600.0,
        "last_ping_kind": "success",
        "last_message": "copied 12 files",
        "last_duration": 100.0,
    }

    # A success with no start right before it has no duration; a start is the last ping now.
    write_pushes(
        any_store.engine,
        [Ping(JOB, ago(60), PingKind.SUCCESS), Ping(JOB, ago(30), PingKind.START)],
    )
    with any_store.engine.begin() as connection:
        figures = heartbeat_figures(connection, JOB, NOW)
    assert figures["last_ping_kind"] == "start"
    assert figures["last_ping_age"] == 30.0
    assert "last_duration" not in figures
    assert "last_message" not in figures


def test_a_start_a_day_before_a_success_is_not_its_run(any_store: Store) -> None:
    write_pushes(
        any_store.engine,
        [Ping(JOB, ago(90_000), PingKind.START), Ping(JOB, ago(60), PingKind.SUCCESS)],
    )
    with any_store.engine.begin() as connection:
        assert "last_duration" not in heartbeat_figures(connection, JOB, NOW)


def test_metric_figures_over_the_window(any_store: Store) -> None:
    values = [PostedValue(SERIES, ago(7200), 999.0)]  # outside the hour
    values += [PostedValue(SERIES, ago(3000 - i), float(v)) for i, v in enumerate(range(1, 21))]
    values.append(PostedValue("metric/app/memory", ago(5), 1.0))
    write_pushes(any_store.engine, values=values)
    with any_store.engine.begin() as connection:
        figures = metric_figures(connection, SERIES, "agent_execution_time", 3600, NOW)
        stale = metric_figures(connection, SERIES, "agent_execution_time", 60, NOW)
    assert figures == {
        "first_seen_age": 0.0,
        "count": 20,
        "agent_execution_time": 20.0,
        "age": 2981.0,
        "mean": 10.5,
        "min": 1.0,
        "max": 20.0,
        "p95": 19.0,
    }
    # Nothing in the last minute: the latest value and its age, no aggregates.
    assert stale == {
        "first_seen_age": 0.0,
        "count": 0,
        "agent_execution_time": 20.0,
        "age": 2981.0,
    }


def test_the_reader_takes_a_specs_figures_key(any_store: Store) -> None:
    heartbeat = HeartbeatSpec(token="a-token-of-16-chars", period=86400, grace=3600)
    metric = MetricSpec(token="a-token-of-16-chars", name="memory_mb", window=60)
    now = datetime.now(UTC)
    write_pushes(
        any_store.engine,
        [Ping(heartbeat.series, now - timedelta(seconds=5), PingKind.SUCCESS)],
        [PostedValue(metric.series, now - timedelta(seconds=5), 512.0)],
    )
    read = push_reader(any_store.engine)
    assert read(heartbeat.figures_key)["last_ping_kind"] == "success"
    figures = read(metric.figures_key)
    assert (figures["memory_mb"], figures["count"], figures["max"]) == (512.0, 1, 512.0)
    # The token itself is nowhere in the key the store files them under.
    assert "a-token" not in heartbeat.series + metric.series


def test_prune_keeps_each_series_newest_ping_and_value(any_store: Store) -> None:
    write_pushes(
        any_store.engine,
        [Ping(JOB, ago(40 * 86400), PingKind.SUCCESS), Ping(JOB, ago(30 * 86400), PingKind.FAIL)]
        + [Ping("heartbeat/recent", ago(s), PingKind.SUCCESS) for s in (60, 30)],
        [PostedValue(SERIES, ago(s * 86400), 1.0) for s in (40, 30)],
    )
    assert prune_pushes(any_store.engine, NOW - timedelta(days=14)) == 2
    with any_store.engine.begin() as connection:
        assert connection.execute(select(func.count()).select_from(push_pings)).scalar() == 3
        assert connection.execute(select(func.count()).select_from(push_values)).scalar() == 1
        # The once-a-month job still has its last ping: it failed.
        assert heartbeat_figures(connection, JOB, NOW)["last_ping_kind"] == "fail"


async def test_ingest_acknowledges_only_what_is_committed(any_store: Store) -> None:
    ingest = PushIngest(any_store.engine, max_batch=64)
    now = datetime.now(UTC)

    async def one(i: int) -> int:
        await ingest.record(
            pings=[Ping(JOB, now, PingKind.SUCCESS)],
            values=[PostedValue(SERIES, now, float(i))],
        )
        # Acknowledged: it must be readable right away.
        with any_store.engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(push_values)
                    .where(push_values.c.value == float(i))
                ).scalar_one()
            )

    seen = await asyncio.gather(*(one(i) for i in range(500)))
    assert seen == [1] * 500
    with any_store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(push_pings)).scalar() == 500


async def test_ingest_refuses_when_the_store_is_down() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        engine = connect.create(
            connect.normalise_url(f"postgresql://wk@127.0.0.1:{port}/nowhere?connect_timeout=1")
        )
        ingest = PushIngest(engine)
        with pytest.raises(PushWriteError, match="the store is unavailable"):
            await ingest.record(pings=[Ping(JOB, NOW, PingKind.SUCCESS)])
        engine.dispose()
