"""Heartbeat checks judge a job's pings from a real store, as Healthchecks.io does: on time,
late, failed, started and not ended within grace, and never pinged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from watchkeeper.config.specs.push import HeartbeatSpec, PingKind
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.heartbeat import judge_pings, probe_heartbeat
from watchkeeper.results import Status
from watchkeeper.store.push import Ping, push_reader, write_pushes
from watchkeeper.store.store import Store
from watchkeeper.store.tables import push_series

SPEC = HeartbeatSpec(token="backup-job-token-0123", period="1d", grace="1h")
RULES = Rules.parse((), default_expect=HeartbeatSpec.default_expect)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/wk.db")
    yield opened
    opened.close()


def ping(store: Store, seconds_ago: float, kind: PingKind, message: str | None = None) -> None:
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    write_pushes(store.engine, [Ping(SPEC.series, at, kind, message)])


async def measure(store: Store) -> tuple[Status, dict[str, object]]:
    ctx = ProbeContext(push_figures=push_reader(store.engine))
    measured = await probe_heartbeat(SPEC, ctx, timeout=5)
    return judge(RULES, measured)[0], measured


async def test_a_job_on_time_is_up_and_its_run_is_timed(store: Store) -> None:
    ping(store, 3600 + 95, PingKind.START)
    ping(store, 3600, PingKind.SUCCESS, "12 files copied")
    status, measured = await measure(store)
    assert status is Status.OK
    assert measured["down"] is False
    assert measured["running"] is False
    assert measured["last_ping_kind"] == "success"
    assert measured["last_duration"] == pytest.approx(95, abs=0.1)
    assert measured["last_message"] == "12 files copied"
    assert measured["pings_24h"] == 2
    assert 3600 <= measured["last_ping_age"] < 3660  # type: ignore[operator]


async def test_a_job_past_period_and_grace_is_down(store: Store) -> None:
    ping(store, 86400 + 3600 + 60, PingKind.SUCCESS)
    status, measured = await measure(store)
    assert (status, measured["down"], measured["pings_24h"]) == (Status.CRITICAL, True, 0)


async def test_a_failed_job_is_down_with_its_message(store: Store) -> None:
    ping(store, 120, PingKind.SUCCESS)
    ping(store, 60, PingKind.FAIL, "pg_dump: connection refused")
    status, measured = await measure(store)
    assert status is Status.CRITICAL
    assert measured["last_message"] == "pg_dump: connection refused"
    assert "expected down == false" in judge(RULES, measured)[1]


async def test_a_started_run_must_end_within_grace(store: Store) -> None:
    ping(store, 600, PingKind.START)
    status, measured = await measure(store)
    assert (status, measured["running"], measured["down"]) == (Status.OK, True, False)
    ping(store, 3700, PingKind.START)  # an older start changes nothing: the newest counts
    assert (await measure(store))[0] is Status.OK


async def test_a_run_started_longer_than_grace_ago_is_down(store: Store) -> None:
    ping(store, 3700, PingKind.START)
    status, measured = await measure(store)
    assert (status, measured["running"], measured["down"]) == (Status.CRITICAL, True, True)


async def test_never_pinged_is_new_then_critical_after_period_and_grace(store: Store) -> None:
    status, measured = await measure(store)
    assert status is Status.OK
    assert measured == {"down": False, "running": False, "pings_24h": 0}
    # As if the check had started watching a day and two hours ago.
    with store.engine.begin() as connection:
        connection.execute(
            push_series.update().values(first_seen_at=datetime.now(UTC) - timedelta(hours=26))
        )
    status, measured = await measure(store)
    # Critical, not an error: "no ping within period + grace" is what the check is for.
    assert (status, measured["down"]) == (Status.CRITICAL, True)
    assert judge(RULES, measured)[1] == (
        "expected down == false (down = true) — no ping yet: none in the 1d2h since this check "
        "started watching (period 1d + grace 1h)"
    )


def test_judging_pure_figures() -> None:
    assert judge_pings(SPEC, {"last_ping_age": 10, "last_ping_kind": "fail"})["down"] is True
    late = {"last_ping_age": 86400 + 3601, "last_ping_kind": "success"}
    assert judge_pings(SPEC, late)["down"] is True
    assert judge_pings(SPEC, {"first_seen_age": 86400 + 3599}) == {
        "down": False,
        "running": False,
        "pings_24h": 0,
    }


async def test_without_a_store_it_says_so() -> None:
    with pytest.raises(ProbeError, match="read the store"):
        await probe_heartbeat(SPEC, ProbeContext(), timeout=1)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"token": "short", "period": "1d"}, "at least 16 characters"),
        ({"token": "has a space in it!!", "period": "1d"}, "letters, digits"),
        ({"token": "x" * 20, "period": "0s"}, "longer than 0s"),
    ],
)
def test_bad_specs_are_refused(fields: dict[str, str], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        HeartbeatSpec.model_validate(fields)


def test_a_spec_keys_its_pings_by_a_hash_of_the_token() -> None:
    assert SPEC.series.startswith("heartbeat/")
    assert SPEC.token not in SPEC.series
    assert SPEC.grace == 3600.0
