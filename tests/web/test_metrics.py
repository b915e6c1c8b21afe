"""``/metrics`` over real HTTP: per-check status, alerts, scheduler lag and the outbox, as Prometheus reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.web.api_server import Api, running, wait_until
from watchkeeper.alerting import outbox
from watchkeeper.checklists.runs import NewItem, create_run
from watchkeeper.config.incidents import IncidentsConfig
from watchkeeper.config.procedures import StepKind
from watchkeeper.incidents.lifecycle import open_incident, resolve

Figures = dict[str, dict[frozenset[tuple[str, str]], float]]
"""Sample values by name, then by their labels."""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server with public metrics whose ``closed`` check fails and has fired its alert.

    The alert's message cannot be delivered (the channel points at a closed port), so it waits
    in the outbox.
    """
    with running(tmp_path_factory.mktemp("metrics"), public_metrics=True) as server:
        server.wait_for_state("target", "ok")
        server.wait_for_state("closed", "error")
        wait_until(lambda: outbox.pending(server.store.engine), "a message in the outbox")
        yield server


def scrape(api: Api) -> Figures:
    """Return every sample ``/metrics`` shows, fetched without credentials."""
    resp = api.get("/metrics", None)
    assert resp.status_code == 200, resp.text
    figures: Figures = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            figures.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return figures


def value(figures: Figures, name: str, **labels: str) -> float:
    """Return one sample's value."""
    return figures[name][frozenset(labels.items())]


TARGET = {"check": "target", "service": "web", "kind": "http"}
CLOSED = {"check": "closed", "service": "db", "kind": "tcp"}


def test_metrics_are_public_when_configured(api: Api) -> None:
    resp = api.get("/metrics", None)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=")


def test_status_and_up_of_an_ok_and_a_failing_check(api: Api) -> None:
    figures = scrape(api)
    assert value(figures, "watchkeeper_check_status", **TARGET) == 0
    assert value(figures, "watchkeeper_check_up", **TARGET) == 1
    assert value(figures, "watchkeeper_check_status", **CLOSED) == 3  # error: connect refused
    assert value(figures, "watchkeeper_check_up", **CLOSED) == 0


def test_a_check_without_results_has_no_status(api: Api) -> None:
    figures = scrape(api)
    checks = {dict(labels)["check"] for labels in figures["watchkeeper_check_status"]}
    assert checks == {"target", "closed"}  # archive is disabled and has never run


def test_duration_and_last_run_are_those_of_the_latest_result(api: Api) -> None:
    figures = scrape(api)
    for labels in (TARGET, CLOSED):
        started = value(figures, "watchkeeper_check_last_run_timestamp_seconds", **labels)
        run = next(
            r
            for r in api.store.history(labels["check"], limit=50)
            if abs(r.started_at.timestamp() - started) < 1e-5
        )
        duration = value(figures, "watchkeeper_check_duration_seconds", **labels)
        assert duration == pytest.approx(run.duration_ms / 1000)
        assert started <= datetime.now(UTC).timestamp()


def test_alerts_firing_counts_each_severity(api: Api) -> None:
    firing: list[dict[str, Any]] = api.get("/api/alerts", params={"state": "firing"}).json()
    assert [(a["check"], a["severity"]) for a in firing] == [("closed", "critical")]
    figures = scrape(api)
    assert value(figures, "watchkeeper_alerts_firing", severity="critical") == 1
    assert value(figures, "watchkeeper_alerts_firing", severity="warning") == 0
    assert value(figures, "watchkeeper_alerts_firing", severity="info") == 0


def test_scheduler_lag_has_a_median_and_a_99th_percentile(api: Api) -> None:
    figures = scrape(api)
    median = value(figures, "watchkeeper_scheduler_lag_seconds", quantile="0.5")
    p99 = value(figures, "watchkeeper_scheduler_lag_seconds", quantile="0.99")
    assert 0 <= median <= p99 < 5


def test_outbox_pending_counts_undelivered_messages(api: Api) -> None:
    pending = outbox.pending(api.store.engine)
    assert [row.channel for row in pending] == ["pager"]
    assert value(scrape(api), "watchkeeper_outbox_pending") == len(pending)


def test_checks_scheduled_and_writes_pending(api: Api) -> None:
    figures = scrape(api)
    assert value(figures, "watchkeeper_checks") == 2
    assert value(figures, "watchkeeper_results_pending_writes") >= 0


def test_open_incidents_by_severity_and_overdue_checklist_runs(api: Api) -> None:
    now = datetime.now(UTC)
    config = IncidentsConfig()
    with api.store.engine.begin() as connection:
        for severity in ("P1", "P1", "P3"):
            open_incident(connection, config, title="x", severity=severity, actor="ada", now=now)
        resolved = open_incident(connection, config, title="y", severity="P2", actor="ada", now=now)
        resolve(connection, resolved, "ada", now)
        for due in (now - timedelta(hours=1), now + timedelta(hours=1)):
            create_run(
                connection,
                title="daily",
                items=[NewItem(StepKind.MANUAL, "look")],
                scheduled_for=due - timedelta(hours=8),
                created_by="ada",
                now=now,
                due_at=due,
            )
    figures = scrape(api)
    opened = {
        s: value(figures, "watchkeeper_incidents_open", severity=s) for s in config.severities
    }
    assert opened == {"P0": 0, "P1": 2, "P2": 0, "P3": 1}
    assert value(figures, "watchkeeper_checklist_runs_overdue") == 1
