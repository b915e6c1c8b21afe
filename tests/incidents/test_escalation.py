"""Escalation: levels at their deadlines, the response and status-update SLAs, the policy snapshot,
robustness against a bad row, locking between workers, and delivery to a real receiver."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from tests.alerting.receivers import WebhookReceiver
from tests.incidents import T0, channels_told, kinds, make_config, minutes
from watchkeeper.alerting.channels import AppriseChannel
from watchkeeper.alerting.outbox import Sender
from watchkeeper.incidents import lifecycle
from watchkeeper.incidents.escalation import Plan, escalate, plan
from watchkeeper.incidents.model import Level, Policy, TimelineKind
from watchkeeper.incidents.timeline import entries
from watchkeeper.incidents.worker import IncidentWorker
from watchkeeper.store.store import Store
from watchkeeper.store.tables import incidents

CONFIG = make_config()
P1 = Policy.of(CONFIG.incidents, "P1")
P0 = Policy.of(CONFIG.incidents, "P0")


def open_p1(store: Store, title: str = "api-health: HTTP 503", base_url: str | None = None) -> int:
    with store.engine.begin() as connection:
        return lifecycle.open_incident(
            connection,
            CONFIG.incidents,
            title=title,
            severity="P1",
            actor="ana",
            now=T0,
            base_url=base_url,
        )


def escalate_at(store: Store, minute: float, base_url: str | None = None) -> int:
    with store.engine.begin() as connection:
        return escalate(connection, minutes(minute), base_url)


def test_plan_notifies_each_level_once_its_after_has_passed() -> None:
    def due(minute: float, level: int) -> list[int]:
        found = plan(P1, T0, level, False, True, False, minutes(minute))
        return [lv.level for lv in found.notify]

    assert due(0, 0) == [1]
    assert due(29, 1) == []
    assert due(30, 1) == [2]
    assert due(45, 0) == [1, 2]


def test_plan_at_the_response_deadline_breaches_once_and_brings_the_next_level_forward() -> None:
    at_deadline = plan(P1, T0, 2, False, True, False, minutes(60))
    assert at_deadline == Plan(notify=(Level(3, 7200.0, ("manager",)),), response_breached=True)
    assert plan(P1, T0, 3, True, True, False, minutes(61)) == Plan()
    # Nothing left above the top level: the breach is still recorded.
    assert plan(P1, T0, 3, False, True, False, minutes(60)) == Plan(response_breached=True)


def test_plan_for_a_responded_incident_only_watches_the_status_update() -> None:
    assert plan(P0, T0, 1, False, False, False, minutes(31), responded=True) == Plan(
        status_update_breached=True
    )
    assert plan(P0, T0, 1, False, True, False, minutes(31), responded=True) == Plan()
    assert plan(P0, T0, 1, False, False, False, minutes(29), responded=True) == Plan()


def test_an_unacknowledged_p1_escalates_at_its_deadlines(any_store: Store) -> None:
    incident_id = open_p1(any_store)
    with any_store.engine.connect() as connection:
        assert channels_told(connection) == ["oncall"]

    assert escalate_at(any_store, 29) == 0
    assert escalate_at(any_store, 30) == 1
    assert escalate_at(any_store, 59) == 0
    assert escalate_at(any_store, 60) == 1  # the response SLA: level 3 although its after is 2h
    assert [escalate_at(any_store, m) for m in (61, 120, 180)] == [0, 0, 0]

    with any_store.engine.connect() as connection:
        assert channels_told(connection) == ["oncall", "lead", "manager"]
        incident = lifecycle.require(connection, incident_id)
        timeline = entries(connection, incident_id)
    assert incident.level == 3
    assert incident.response_breached_at == minutes(60)
    breaches = [e for e in timeline if e.kind is TimelineKind.SLA_BREACHED]
    assert [(b.at, b.data) for b in breaches] == [(minutes(60), {"sla": "response"})]
    notified = [e.data for e in timeline if e.kind is TimelineKind.NOTIFIED]
    assert [(n["level"], n["channel"]) for n in notified] == [
        (1, "oncall"),
        (2, "lead"),
        (3, "manager"),
    ]
    escalated = [e.data["level"] for e in timeline if e.kind is TimelineKind.ESCALATED]
    assert escalated == [1, 2, 3]


def test_acknowledging_stops_escalation(any_store: Store) -> None:
    incident_id = open_p1(any_store)
    with any_store.engine.begin() as connection:
        lifecycle.acknowledge(connection, incident_id, "ana", minutes(10), "looking")
    assert [escalate_at(any_store, m) for m in (30, 60, 120)] == [0, 0, 0]
    with any_store.engine.connect() as connection:
        assert channels_told(connection) == ["oncall"]
        incident = lifecycle.require(connection, incident_id)
    assert incident.level == 1 and incident.response_breached_at is None


def test_a_late_acknowledgement_is_a_response_breach_even_with_no_worker_running(
    any_store: Store,
) -> None:
    incident_id = open_p1(any_store)
    with any_store.engine.begin() as connection:
        incident = lifecycle.acknowledge(connection, incident_id, "ana", minutes(75))
        timeline = kinds(connection, incident_id)
    assert incident.response_breached_at == minutes(60)
    assert timeline[-2:] == [TimelineKind.SLA_BREACHED, TimelineKind.ACKNOWLEDGED]
    with any_store.engine.connect() as connection:
        assert channels_told(connection) == ["oncall"]  # acknowledged: nobody more is paged


def test_a_running_escalation_follows_the_policy_it_opened_with(any_store: Store) -> None:
    old = open_p1(any_store, "opened under the old config")
    changed = make_config(
        {
            "escalation": [
                {"level": 1, "notify": "manager"},
                {"level": 2, "after": "5m", "notify": "manager"},
            ]
        }
    )
    worker = IncidentWorker(any_store.engine, CONFIG)
    worker.set_config(changed)
    with any_store.engine.begin() as connection:
        new = lifecycle.open_incident(
            connection,
            changed.incidents,
            title="opened under the new one",
            severity="P1",
            actor="ana",
            now=T0,
        )
    assert worker.step(minutes(5)) == 1  # the new incident's level 2, nothing for the old one
    assert worker.step(minutes(29)) == 0
    assert worker.step(minutes(30)) == 1  # the old incident's level 2, as first configured
    with any_store.engine.connect() as connection:
        assert channels_told(connection) == ["oncall", "manager", "manager", "lead"]
        assert lifecycle.require(connection, old).policy == P1
        assert lifecycle.require(connection, new).level == 2


def test_a_p0_without_a_public_update_breaches_the_status_update_sla_once(
    any_store: Store,
) -> None:
    with any_store.engine.begin() as connection:
        quiet = lifecycle.open_incident(
            connection, CONFIG.incidents, title="outage", severity="P0", actor="ana", now=T0
        )
        told = lifecycle.open_incident(
            connection, CONFIG.incidents, title="outage too", severity="P0", actor="ana", now=T0
        )
        for incident_id in (quiet, told):
            lifecycle.acknowledge(connection, incident_id, "ana", minutes(5))
        lifecycle.add_note(connection, told, "ana", minutes(20), "Investigating", public=True)
        lifecycle.add_note(connection, quiet, "ana", minutes(20), "internal only")
    assert escalate_at(any_store, 29) == 0
    assert escalate_at(any_store, 30) == 0  # breaches are recorded, nobody more is paged
    escalate_at(any_store, 45)
    with any_store.engine.connect() as connection:
        breached = lifecycle.require(connection, quiet)
        kept = lifecycle.require(connection, told)
        quiet_entries = [
            e for e in entries(connection, quiet) if e.kind is TimelineKind.SLA_BREACHED
        ]
    assert breached.status_update_breached_at == minutes(30)
    assert [e.data for e in quiet_entries] == [{"sla": "status_update"}]
    assert kept.status_update_breached_at is None
    assert breached.response_breached_at is None  # acknowledged within 15 minutes


def test_a_bad_incident_row_is_skipped_while_the_others_still_escalate(
    any_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    broken = open_p1(any_store, "broken")
    fine = open_p1(any_store, "fine")
    with any_store.engine.begin() as connection:
        connection.execute(
            update(incidents).where(incidents.c.id == broken).values(policy={"levels": "?"})
        )
    with caplog.at_level(logging.ERROR, "watchkeeper.incidents"):
        assert escalate_at(any_store, 30) == 1
        assert escalate_at(any_store, 31) == 0
    assert f"escalate incident {broken}" in caplog.text
    with any_store.engine.connect() as connection:
        assert lifecycle.require(connection, fine).level == 2


def test_two_workers_on_postgresql_never_escalate_one_incident_twice(
    postgres_url: str,
) -> None:
    store = Store.open(postgres_url)
    try:
        open_p1(store)
        with store.engine.begin() as first, store.engine.begin() as second:
            assert escalate(first, minutes(30), None) == 1
            assert escalate(second, minutes(30), None) == 0  # locked by the first: skipped
        assert escalate_at(store, 30) == 0  # and after the first committed, nothing is left
    finally:
        store.close()


def test_a_level_naming_a_channel_since_removed_is_logged_and_still_queued(
    any_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    incident_id = open_p1(any_store)  # its snapshot pages lead at 30m
    without_lead = make_config(
        {"escalation": [{"level": 1, "notify": "oncall"}]},
        notifications={"channels": {"oncall": ["json://127.0.0.1:9/oncall"]}},
    )
    worker = IncidentWorker(any_store.engine, without_lead)
    with caplog.at_level(logging.WARNING, "watchkeeper.incidents"):
        assert worker.step(minutes(30)) == 1
    assert f"incident {incident_id}: escalation level 2 names channel 'lead'" in caplog.text
    with any_store.engine.connect() as connection:
        assert channels_told(connection) == ["oncall", "lead"]  # the outbox gives it up visibly


def test_escalating_locks_only_the_incidents_with_something_due(
    postgres_url: str,
) -> None:
    store = Store.open(postgres_url)
    try:
        waiting = open_p1(store, "nobody answered")
        answered = open_p1(store, "answered")
        with store.engine.begin() as connection:
            p0, told = (
                lifecycle.open_incident(
                    connection, CONFIG.incidents, title=title, severity="P0", actor="ana", now=T0
                )
                for title in ("down", "down, status page updated")
            )
            for incident_id in (answered, p0, told):
                lifecycle.acknowledge(connection, incident_id, "ana", minutes(5))
            lifecycle.add_note(connection, told, "ana", minutes(6), "We are on it.", public=True)

        def lockable(incident_id: int) -> bool:
            with store.engine.connect() as other:
                try:
                    other.execute(
                        select(incidents.c.id)
                        .where(incidents.c.id == incident_id)
                        .with_for_update(nowait=True)
                    )
                except OperationalError:
                    return False
                return True

        with store.engine.begin() as connection:
            escalate(connection, minutes(10), None)
            # Nothing is due yet: the waiting P1's level 2 comes at 30 min, the P0's status
            # update at 30 min, and the answered P1 has nothing left.
            assert [lockable(i) for i in (waiting, answered, p0, told)] == [True] * 4
        with store.engine.begin() as connection:
            escalate(connection, minutes(30), None)
            # The P0 whose status page was updated in time has nothing due, now or later.
            assert [lockable(i) for i in (waiting, answered, p0, told)] == [
                False,
                True,
                False,
                True,
            ]
    finally:
        store.close()


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as receiver:
        yield receiver


async def test_an_escalation_reaches_a_real_webhook_through_the_outbox(
    any_store: Store, hook: WebhookReceiver
) -> None:
    incident_id = open_p1(any_store, base_url="https://wk.example.com/")
    escalate_at(any_store, 30, "https://wk.example.com/")
    sender = Sender(
        any_store.engine,
        {name: AppriseChannel(name, [hook.url()]) for name in ("oncall", "lead", "manager")},
        clock=lambda: minutes(30),
    )
    assert await sender.send_due() == 2
    title = f"[P1] Incident #{incident_id} needs a response: api-health: HTTP 503"
    assert hook.titles == [title, title]
    # Channels are delivered concurrently: the two messages may arrive in either order.
    bodies = sorted(message["message"] for message in hook.received)
    assert "Escalation level: 1 of 3" in bodies[0]
    assert "Escalation level: 2 of 3" in bodies[1]
    for body in bodies:
        assert "Respond by: 2024-03-01 13:00 UTC" in body
        assert f"https://wk.example.com/incidents/{incident_id}" in body
        assert f"watchkeeper incident ack {incident_id}" in body
