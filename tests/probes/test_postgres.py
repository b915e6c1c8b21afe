"""The postgres probe reads a real PostgreSQL's statistics, as guide 001 asks: connections, slow
queries from pg_stat_statements, vacuum, indexes and the cache hit ratio."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.probes.test_database import SECRET, with_password
from watchkeeper.config.specs.postgres import PostgresSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.postgres import probe_postgres
from watchkeeper.results import Status


@pytest.fixture
def members(postgres_url: str) -> Iterator[str]:
    """A table of 1,000 members, 400 of them deleted (left as dead tuples: autovacuum is off for
    it), with a primary key, a unique index and an index nothing ever used."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE members (id int PRIMARY KEY, email text UNIQUE, city text)"
            " WITH (autovacuum_enabled = false)"
        )
        conn.execute("CREATE INDEX members_city ON members (city)")
        conn.execute(
            "INSERT INTO members SELECT i, 'm' || i || '@example.org', 'city ' || i % 7"
            " FROM generate_series(1, 1000) i"
        )
        conn.execute("DELETE FROM members WHERE id <= 400")
        if conn.info.server_version >= 150000:
            # Sessions hand their statistics to the server at most once a second; this one, now.
            conn.execute("SELECT pg_stat_force_next_flush()")
    yield postgres_url


def preloaded(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW shared_preload_libraries").fetchone()
    return row is not None and "pg_stat_statements" in row[0]


async def test_the_databases_health_figures(ctx: ProbeContext, members: str) -> None:
    measured = await probe_postgres(PostgresSpec(url=members), ctx, timeout=10)

    assert measured["dead_tuples"] == 400
    assert measured["dead_tuple_ratio"] == pytest.approx(0.4)
    assert measured["unused_indexes"] == 1
    assert measured["unused_index_names"] == ["public.members_city"]
    assert measured["last_autovacuum_age"] is None  # never vacuumed
    assert measured["database_size"] > 1_000_000
    assert 0 < measured["cache_hit_ratio"] <= 1
    assert measured["max_connections"] == 100
    assert measured["connections"] >= 1
    assert measured["connections_used_percent"] == pytest.approx(measured["connections"])
    assert measured["longest_transaction_age"] == 0.0


async def test_an_open_transaction_is_timed(ctx: ProbeContext, postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as idle:
        idle.execute("SELECT now()")  # the transaction stays open, idle

        measured = await probe_postgres(PostgresSpec(url=postgres_url), ctx, timeout=10)

    assert 0 < measured["longest_transaction_age"] < 10


async def test_slow_statements_come_from_pg_stat_statements(
    ctx: ProbeContext, postgres_url: str
) -> None:
    if not preloaded(postgres_url):
        pytest.skip("WATCHKEEPER_TEST_POSTGRES_URL names a server without pg_stat_statements")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("SELECT pg_sleep(0.25)")
        conn.execute("SELECT count(*) FROM pg_class")
        # A utility statement keeps its literals in pg_stat_statements: they are not shown.
        conn.execute(f"DO 'BEGIN PERFORM pg_sleep(0.15); RAISE NOTICE ''{SECRET}''; END'")

    measured = await probe_postgres(
        PostgresSpec(url=postgres_url, slow_query_ms=100), ctx, timeout=10
    )

    assert measured["pg_stat_statements"] is True
    assert measured["slow_queries"] == 2
    slowest, second = measured["slowest"]
    assert slowest["query"] == "SELECT pg_sleep($1)"
    assert slowest["mean_ms"] >= 250
    assert slowest["calls"] == 1
    assert second["query"] == "DO '…'"
    assert SECRET not in repr(measured)


async def test_without_pg_stat_statements_slow_queries_are_absent(
    ctx: ProbeContext, postgres_url: str
) -> None:
    measured = await probe_postgres(PostgresSpec(url=postgres_url), ctx, timeout=10)

    assert measured["pg_stat_statements"] is False
    assert "slow_queries" not in measured
    assert "slowest" not in measured


async def test_the_guides_thresholds_apply(ctx: ProbeContext, members: str) -> None:
    # Guide 001: connections under 50 (alert over 80); dead tuples and unused indexes are the
    # weekly vacuum and index review.
    rules = Rules.parse(
        expect=["connections < 80", "cache_hit_ratio > 0.5"],
        warn=["dead_tuple_ratio > 0.2", "unused_indexes > 0"],
    )

    status, message = judge(rules, await probe_postgres(PostgresSpec(url=members), ctx, 10))

    assert status is Status.WARNING
    assert "dead_tuple_ratio > 0.2" in message
    assert "unused_indexes > 0" in message


async def test_the_timeout_is_kept(ctx: ProbeContext, members: str) -> None:
    # An uncommitted DROP INDEX locks the index, so reading its size waits.
    with psycopg.connect(members) as dropping:
        dropping.execute("DROP INDEX members_city")
        started = time.monotonic()

        with pytest.raises(ProbeError, match=r"timed out after 1s|statement timeout"):
            await probe_postgres(PostgresSpec(url=members), ctx, timeout=1)

        assert time.monotonic() - started < 1.5


async def test_the_password_is_never_in_a_message(ctx: ProbeContext, postgres_url: str) -> None:
    url = with_password(postgres_url, SECRET, database=SECRET)

    with pytest.raises(ProbeError, match=r'database "\*\*\*" does not exist') as err:
        await probe_postgres(PostgresSpec(url=url), ctx, timeout=5)

    assert "hunter2" not in str(err.value)


def test_the_spec_wants_a_postgresql_url() -> None:
    with pytest.raises(ValueError, match="must be a PostgreSQL URL"):
        PostgresSpec(url="sqlite:///app.db")
