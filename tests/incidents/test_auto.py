"""Incidents opened by firing alerts through ``open_when``, and the worker that runs it."""

from __future__ import annotations

from datetime import timedelta

from tests.incidents import T0, channels_told, fire, make_config, minutes
from watchkeeper.alerting import queries
from watchkeeper.config.schema import Config
from watchkeeper.incidents import lifecycle, records
from watchkeeper.incidents.auto import open_from_alerts
from watchkeeper.incidents.model import MACHINE, IncidentState, TimelineKind
from watchkeeper.incidents.timeline import entries
from watchkeeper.incidents.worker import IncidentWorker
from watchkeeper.store.store import Store

OPEN_WHEN = [
    {"match": {"check": "api-*", "severity": "critical"}, "severity": "P1"},
    {"match": {"service": "database"}, "severity": "P2"},
]
CONFIG = make_config({"open_when": OPEN_WHEN})


def auto_open(store: Store, config: Config = CONFIG, minute: float = 1) -> list[int]:
    with store.engine.begin() as connection:
        return open_from_alerts(connection, config, minutes(minute))


def test_a_firing_alert_matching_open_when_opens_an_incident(any_store: Store) -> None:
    with any_store.engine.begin() as connection:
        alert_id = fire(connection, "api-health", message="expected status == 200 (status = 503)")
    (incident_id,) = auto_open(any_store)
    with any_store.engine.connect() as connection:
        incident = lifecycle.require(connection, incident_id)
        attached = records.attached_alerts(connection, incident_id)
        timeline = entries(connection, incident_id)
        told = channels_told(connection)
    assert incident.title == "api-health: expected status == 200 (status = 503)"
    assert (incident.severity, incident.opened_by, incident.source_key) == (
        "P1",
        MACHINE,
        "check:api-health",
    )
    assert incident.opened_at == minutes(1)
    assert [a.id for a in attached] == [alert_id]
    assert [e.kind for e in timeline[:2]] == [TimelineKind.OPENED, TimelineKind.ALERT]
    assert told == ["oncall"]
    assert auto_open(any_store, minute=2) == []  # the alert is attached: it opens nothing more


def test_the_first_matching_rule_decides_the_severity(any_store: Store) -> None:
    with any_store.engine.begin() as connection:
        fire(connection, "db")
        fire(connection, "api-health", severity="warning")  # no rule matches a warning of api-*
    (incident_id,) = auto_open(any_store)
    with any_store.engine.connect() as connection:
        assert lifecycle.require(connection, incident_id).severity == "P2"


def test_a_second_alert_of_the_same_check_joins_the_open_incident(any_store: Store) -> None:
    with any_store.engine.begin() as connection:
        first = fire(connection, "api-health")
    (incident_id,) = auto_open(any_store)
    with any_store.engine.begin() as connection:
        queries.update_alert(connection, first, state="resolved", resolved_at=minutes(3))
        second = fire(connection, "api-health", minutes(5), message="HTTP 502")
    assert auto_open(any_store, minute=6) == []
    with any_store.engine.connect() as connection:
        attached = [a.id for a in records.attached_alerts(connection, incident_id)]
        alert_entries = [
            (e.at, e.text) for e in entries(connection, incident_id) if e.kind is TimelineKind.ALERT
        ]
        assert channels_told(connection) == ["oncall"]
    assert attached == [first, second]
    assert alert_entries == [
        (minutes(1), "alert api-health (critical): HTTP 503"),
        (minutes(3), "alert api-health resolved"),
        (minutes(6), "alert api-health (critical): HTTP 502"),
    ]
    auto_open(any_store, minute=7)
    with any_store.engine.connect() as connection:
        resolved = [e for e in entries(connection, incident_id) if "resolved" in e.text]
    assert len(resolved) == 1  # recorded once


def test_after_resolution_the_next_alert_opens_a_new_incident(any_store: Store) -> None:
    with any_store.engine.begin() as connection:
        fire(connection, "api-health")
    (first,) = auto_open(any_store)
    with any_store.engine.begin() as connection:
        lifecycle.resolve(connection, first, "ana", minutes(10))
        fire(connection, "api-health", minutes(20))
    (second,) = auto_open(any_store, minute=21)
    assert second != first


def test_a_silenced_alert_opens_nothing(any_store: Store) -> None:
    with any_store.engine.begin() as connection:
        fire(connection, "api-health")
        queries.add_silence(
            connection, {"check": ("api-*",)}, T0, T0 + timedelta(hours=1), "ana", "deploying"
        )
    assert auto_open(any_store) == []
    # Once the silence is over, the alert still firing opens its incident.
    assert len(auto_open(any_store, minute=61)) == 1


def test_alerts_in_a_maintenance_window_held_upstream_or_of_unknown_checks_open_nothing(
    any_store: Store,
) -> None:
    window = {"schedule": "0 12 * * *", "duration": "1h", "match": {"service": "database"}}
    config = make_config({"open_when": OPEN_WHEN}, maintenance=[window])
    with any_store.engine.begin() as connection:
        fire(connection, "db")
        fire(connection, "api-health", caused_by="db")
        fire(connection, "api-gone")  # a check no longer in the config
    assert auto_open(any_store, config) == []
    with any_store.engine.connect() as connection:
        assert records.list_incidents(connection) == []


def test_without_open_when_no_alert_opens_an_incident(any_store: Store) -> None:
    with any_store.engine.begin() as connection:
        fire(connection, "api-health")
    assert auto_open(any_store, make_config()) == []


def test_the_worker_opens_and_escalates_and_counts_the_messages(any_store: Store) -> None:
    worker = IncidentWorker(any_store.engine, CONFIG)
    with any_store.engine.begin() as connection:
        fire(connection, "api-health")
    assert worker.step(minutes(1)) == 1  # level 1, at opening
    assert worker.step(minutes(2)) == 0
    assert worker.step(minutes(31)) == 1  # level 2
    with any_store.engine.connect() as connection:
        (incident,) = records.list_incidents(connection)
    assert incident.state is IncidentState.OPEN and incident.level == 2


def test_two_workers_on_postgresql_open_one_incident_per_alert(postgres_url: str) -> None:
    store = Store.open(postgres_url)
    try:
        with store.engine.begin() as connection:
            fire(connection, "api-health")
        with store.engine.begin() as first, store.engine.begin() as second:
            assert len(open_from_alerts(first, CONFIG, minutes(1))) == 1
            assert open_from_alerts(second, CONFIG, minutes(1)) == []  # the first is at it
        assert auto_open(store, minute=2) == []
        with store.engine.connect() as connection:
            assert len(records.list_incidents(connection)) == 1
    finally:
        store.close()
