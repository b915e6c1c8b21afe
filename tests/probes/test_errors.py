"""Errors checks judge the error events an app posted, from a real store, by 003's error review:
a planted burst among a day of background errors is found and escalated, new kinds are told from
old ones, levels and tags filter, and the default conditions alert as the guide's escalation
criteria say."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from watchkeeper.analytics.errors import ErrorEvent, ErrorLevel, fingerprint
from watchkeeper.config.specs.errors import ErrorsSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.errors import judge_errors, probe_errors
from watchkeeper.results import Measurements, Status
from watchkeeper.store.errors import PostedError, error_reader, read_errors, write_errors
from watchkeeper.store.store import Store

TOKEN = "app-errors-token-0123456"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BACKGROUND = [
    "payment gateway timeout",
    "template not found",
    "cache miss storm",
    "mail relay refused",
    "thumbnail render failed",
]
BURST = "database connection refused"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "wk.db"))
    yield opened
    opened.close()


def at(hours: float, now: datetime = NOW) -> datetime:
    return now - timedelta(hours=hours)


def post(store: Store, spec: ErrorsSpec, *events: ErrorEvent) -> None:
    write_errors(store.engine, [PostedError(spec.series, e, NOW) for e in events])


def measure(store: Store, spec: ErrorsSpec, now: datetime = NOW) -> Measurements:
    since = now - timedelta(seconds=spec.window + spec.history)
    return judge_errors(spec, read_errors(store.engine, spec.series, since, now), now)


def status(spec: ErrorsSpec, measured: Measurements) -> Status:
    return judge(Rules.parse((), (), (), spec.default_expect), measured)[0]


def background(days_ago: float = 0) -> list[ErrorEvent]:
    """Six of each background kind over a day, none within an hour of the burst."""
    return [
        ErrorEvent(at(24 * days_ago + k * 0.5 + 4 * i), f"{message} (request {100 * i + k})")
        for k, message in enumerate(BACKGROUND)
        for i in range(6)
    ]


def planted_burst() -> list[ErrorEvent]:
    """Thirty of one new kind in twenty minutes, from 3h10m to 2h50m ago."""
    return [
        ErrorEvent(at(3 + 10 / 60) + timedelta(seconds=40 * n), f"{BURST} to 10.0.0.{n}:5432")
        for n in range(30)
    ]


def test_a_planted_burst_among_background_errors_is_found_and_critical(store: Store) -> None:
    spec = ErrorsSpec(token=TOKEN)
    post(store, spec, *background(days_ago=3), *background(), *planted_burst())
    measured = measure(store, spec)

    burst_key = fingerprint(f"{BURST} to 10.0.0.7:5432").key
    assert measured["error_count"] == 60
    assert measured["kinds"] == 6
    assert measured["burst"] is True
    assert measured["burst_peak_per_hour"] == 30
    # Sixty in a day is the guide's "Error count > 50 in last 24h": critical.
    assert measured["verdict"] == "critical"
    assert measured["new_types"] == [burst_key]
    assert measured["clusters"] == 1
    top = measured["top_errors"]
    assert len(top) == 6
    assert top[0] == {
        "fingerprint": burst_key,
        "text": f"{BURST} to <ip>:<n>",
        "count": 30,
        "example": f"{BURST} to 10.0.0.29:5432",
        "level": "error",
        "verdict": "escalate",
    }
    assert {t["count"] for t in top[1:]} == {6}
    assert {t["verdict"] for t in top[1:]} == {"investigate"}
    assert set(measured["recurring"]) == {t["fingerprint"] for t in top}
    assert status(spec, measured) is Status.CRITICAL


def test_a_day_of_background_errors_asks_for_investigation_only(store: Store) -> None:
    spec = ErrorsSpec(token=TOKEN)
    post(store, spec, *background(days_ago=3), *background())
    measured = measure(store, spec)
    assert measured["error_count"] == 30
    assert measured["burst"] is False
    assert measured["new_types"] == []
    assert measured["clusters"] == 0
    assert measured["verdict"] == "investigate"
    assert status(spec, measured) is Status.OK


def test_a_kind_seen_within_the_history_is_not_new_but_one_seen_before_it_is(
    store: Store,
) -> None:
    spec = ErrorsSpec(token=TOKEN, history="2d")
    post(
        store,
        spec,
        ErrorEvent(at(30), "quota exceeded for tenant 4"),  # within the history
        ErrorEvent(at(24 * 5), "disk write failed on /dev/sdb"),  # before it
        ErrorEvent(at(1), "quota exceeded for tenant 9"),
        ErrorEvent(at(2), "disk write failed on /dev/sdc"),
    )
    measured = measure(store, spec)
    assert measured["new_types"] == [fingerprint("disk write failed on /dev/sdc").key]
    assert measured["error_count"] == 2
    assert measured["verdict"] == "investigate"


def test_a_new_critical_kind_escalates_and_fails_the_check(store: Store) -> None:
    spec = ErrorsSpec(token=TOKEN)
    post(store, spec, ErrorEvent(at(1), "out of memory in worker 3", ErrorLevel.CRITICAL))
    measured = measure(store, spec)
    assert measured["verdict"] == "escalate"
    assert measured["top_errors"][0]["level"] == "critical"
    assert status(spec, measured) is Status.CRITICAL


def test_levels_below_the_check_s_and_other_tags_are_not_counted(store: Store) -> None:
    spec = ErrorsSpec(token=TOKEN, tags={"service": "api"})
    post(
        store,
        spec,
        ErrorEvent(at(1), "slow query", ErrorLevel.WARNING, tags=(("service", "api"),)),
        ErrorEvent(at(1), "broken pipe", tags=(("service", "worker"),)),
        ErrorEvent(at(1), "bad gateway", tags=(("region", "eu"), ("service", "api"))),
        ErrorEvent(at(1), "no tags at all"),
    )
    assert [t["example"] for t in measure(store, spec)["top_errors"]] == ["bad gateway"]
    warnings_too = ErrorsSpec(token=TOKEN, level="warning")
    assert measure(store, warnings_too)["error_count"] == 4


def test_events_outside_the_window_are_not_counted(store: Store) -> None:
    spec = ErrorsSpec(token=TOKEN, window="1h")
    post(store, spec, ErrorEvent(at(2), "early"), ErrorEvent(at(0.5), "late"))
    measured = measure(store, spec)
    assert measured["error_count"] == 1
    assert measured["top_errors"][0]["example"] == "late"


def test_a_quiet_app_is_ok_with_nothing_to_list(store: Store) -> None:
    spec = ErrorsSpec(token=TOKEN)
    measured = measure(store, spec)
    assert measured == {
        "error_count": 0,
        "kinds": 0,
        "top_errors": [],
        "recurring": [],
        "new_types": [],
        "burst": False,
        "burst_peak_per_hour": 0,
        "clusters": 0,
        "verdict": "none",
    }
    assert status(spec, measured) is Status.OK


async def test_the_probe_reads_its_series_from_the_store(store: Store) -> None:
    spec = ErrorsSpec(token=TOKEN)
    other = ErrorsSpec(token="another-app-token-98765")
    now = datetime.now(UTC)
    write_errors(
        store.engine,
        [PostedError(spec.series, ErrorEvent(at(0.1, now), "mine"), now)]
        + [PostedError(other.series, ErrorEvent(at(0.1, now), "theirs"), now)] * 3,
    )
    measured = await probe_errors(spec, ProbeContext(error_events=error_reader(store.engine)), 5)
    assert measured["error_count"] == 1
    assert measured["top_errors"][0]["example"] == "mine"


async def test_without_a_store_the_probe_says_so() -> None:
    with pytest.raises(ProbeError, match="read the store"):
        await probe_errors(ErrorsSpec(token=TOKEN), ProbeContext(), 5)


def test_two_checks_with_one_token_share_a_series() -> None:
    assert ErrorsSpec(token=TOKEN).series == ErrorsSpec(token=TOKEN, window="1h").series
    assert ErrorsSpec(token=TOKEN).series.startswith("errors/")
    assert TOKEN not in ErrorsSpec(token=TOKEN).series


@pytest.mark.parametrize(
    "fields",
    [
        {"token": "short"},
        {"token": "has spaces in the token here"},
        {"token": TOKEN, "window": "0s"},
        {"token": TOKEN, "level": "loud"},
        {"token": TOKEN, "tags": {f"k{n}": "v" for n in range(21)}},
        {"token": TOKEN, "burst_over": -1},
    ],
)
def test_a_bad_spec_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ErrorsSpec.model_validate(fields)


def test_sentry_s_fatal_is_critical() -> None:
    assert ErrorsSpec(token=TOKEN, level="fatal").level == "critical"
