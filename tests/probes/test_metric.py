"""Metric checks judge values an app posted, stored in a real store, with the agents guide's
thresholds: execution time > 5 min, memory > 500 MB, QA rejection rate > 30 %, self-critique
iterations > 3 (one check per name, all on the app's one token)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from watchkeeper.config.specs.push import MetricSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.metric import probe_metric
from watchkeeper.results import Status
from watchkeeper.store.push import PostedValue, push_reader, write_pushes
from watchkeeper.store.store import Store
from watchkeeper.store.tables import push_series

TOKEN = "agent-app-token-0123456"
GUIDE = {
    "agent_execution_time": "agent_execution_time > 300",
    "agent_memory_mb": "agent_memory_mb > 500",
    "qa_rejection_rate": "qa_rejection_rate > 30",
    "self_critique_iterations": "self_critique_iterations > 3",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path}/wk.db")
    yield opened
    opened.close()


def post(store: Store, spec: MetricSpec, *values: float, seconds_ago: float = 1) -> None:
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    write_pushes(store.engine, values=[PostedValue(spec.series, at, v) for v in values])


async def measure(store: Store, spec: MetricSpec) -> dict[str, object]:
    return await probe_metric(spec, ProbeContext(push_figures=push_reader(store.engine)), 5)


async def test_the_guides_thresholds_apply_to_posted_values(store: Store) -> None:
    specs = {name: MetricSpec(token=TOKEN, name=name, window="1h") for name in GUIDE}
    post(store, specs["agent_execution_time"], 40.0, 310.0, 12.5)
    post(store, specs["agent_memory_mb"], 480.0, 620.0)
    post(store, specs["qa_rejection_rate"], 12.0)
    post(store, specs["self_critique_iterations"], 2, 4, 3)
    statuses = {}
    for name, spec in specs.items():
        measured = await measure(store, spec)
        statuses[name] = judge(Rules.parse((), critical=[GUIDE[name]]), measured)[0]
    # The latest value is the one judged: one slow run, then a fast one, is fine again.
    assert statuses == {
        "agent_execution_time": Status.OK,
        "agent_memory_mb": Status.CRITICAL,
        "qa_rejection_rate": Status.OK,
        "self_critique_iterations": Status.OK,
    }
    # Over the window, the slow run shows: thresholds on max or p95 catch it.
    measured = await measure(store, specs["agent_execution_time"])
    assert measured["count"] == 3
    assert (measured["max"], measured["p95"], measured["min"]) == (310.0, 310.0, 12.5)
    assert measured["mean"] == pytest.approx(120.833, abs=0.001)
    status, message = judge(Rules.parse((), critical=["max > 300"]), measured)
    assert status is Status.CRITICAL
    assert message == "max > 300 (max = 310)"


async def test_values_outside_the_window_leave_only_the_latest(store: Store) -> None:
    spec = MetricSpec(token=TOKEN, name="agent_execution_time", window="10m")
    post(store, spec, 350.0, seconds_ago=3600)
    measured = await measure(store, spec)
    assert measured["count"] == 0
    assert measured["agent_execution_time"] == 350.0
    assert 3600 <= measured["age"] < 3660  # type: ignore[operator]
    assert judge(Rules.parse((), critical=["age > 30m"]), measured)[0] is Status.CRITICAL


async def test_a_name_never_posted_is_critical_only_after_a_window(store: Store) -> None:
    spec = MetricSpec(token=TOKEN, name="qa_rejection_rate", window="1h")
    rules = Rules.parse(
        (), critical=[GUIDE["qa_rejection_rate"]], default_expect=spec.default_expect
    )
    measured = await measure(store, spec)
    assert measured == {"count": 0, "silent": False}
    assert judge(rules, measured)[0] is Status.OK
    with store.engine.begin() as connection:
        connection.execute(
            push_series.update().values(first_seen_at=datetime.now(UTC) - timedelta(hours=2))
        )
    measured = await measure(store, spec)
    assert measured["silent"] is True
    status, message = judge(rules, measured)
    # Critical, not an error: the check's routes and severities apply, and the cause is named.
    assert status is Status.CRITICAL
    assert message.startswith("expected silent == false (silent = true) — no qa_rejection_rate")
    assert "posted yet: none in the 2h since this check started watching" in message


@pytest.mark.parametrize(
    ("name", "error"),
    [("agent execution", "bad metric name"), ("9lives", "bad metric name"), ("p95", "figures")],
)
def test_bad_names_are_refused(name: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        MetricSpec(token=TOKEN, name=name)


def test_checks_of_one_token_keep_their_values_apart() -> None:
    a = MetricSpec(token=TOKEN, name="agent_memory_mb")
    b = MetricSpec(token=TOKEN, name="qa_rejection_rate", window="1d")
    assert a.series != b.series
    assert a.series.rsplit("/", 1)[0] == b.series.rsplit("/", 1)[0]
    assert TOKEN not in a.figures_key


async def test_without_a_store_it_says_so() -> None:
    spec = MetricSpec(token=TOKEN, name="agent_memory_mb")
    with pytest.raises(ProbeError, match="metric checks read the store"):
        await probe_metric(spec, ProbeContext(), timeout=1)
