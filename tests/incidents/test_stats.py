"""Incident figures over a known set of incidents, computed by hand."""

from __future__ import annotations

from datetime import timedelta

from tests.incidents import T0, make_config, minutes
from watchkeeper.incidents import lifecycle
from watchkeeper.incidents.escalation import escalate
from watchkeeper.incidents.stats import SeverityStats, incident_stats
from watchkeeper.store.store import Store

CONFIG = make_config()
DAY = timedelta(days=1)


def test_mtta_mttr_and_breaches_per_severity(any_store: Store) -> None:
    with any_store.engine.begin() as connection:

        def open_(severity: str, at: float) -> int:
            return lifecycle.open_incident(
                connection,
                CONFIG.incidents,
                title=severity,
                severity=severity,
                actor="ana",
                now=minutes(at),
            )

        a = open_("P1", 0)  # acknowledged after 10m, resolved after 60m
        lifecycle.acknowledge(connection, a, "ana", minutes(10))
        lifecycle.resolve(connection, a, "ana", minutes(60))
        b = open_("P1", 60)  # resolved after 30m, never acknowledged: that is its response
        lifecycle.resolve(connection, b, "ana", minutes(90))
        open_("P1", 120)  # still open, past its response SLA at 180
        escalate(connection, minutes(180), None)
        d = open_("P2", 0)  # acknowledged after 30m, still being worked on
        lifecycle.acknowledge(connection, d, "ana", minutes(30))
        f = open_("P0", 0)  # resolved after 45m: late for both P0 SLAs (15m, 30m)
        lifecycle.resolve(connection, f, "ana", minutes(45))
        # Outside [T0, T0 + 1 day): not counted.
        early = lifecycle.open_incident(
            connection, CONFIG.incidents, title="old", severity="P1", actor="ana", now=T0 - DAY
        )
        lifecycle.resolve(connection, early, "ana", T0 - DAY + timedelta(minutes=1))
        lifecycle.open_incident(
            connection, CONFIG.incidents, title="new", severity="P3", actor="ana", now=T0 + DAY
        )

        found = incident_stats(connection, T0, T0 + DAY)

    assert found == [
        SeverityStats("P0", 1, 2700.0, 2700.0, 1, 1, 0),
        SeverityStats("P1", 3, (600 + 1800) / 2, (3600 + 1800) / 2, 1, 0, 1),
        SeverityStats("P2", 1, 1800.0, None, 0, 0, 1),
        SeverityStats(None, 5, (600 + 1800 + 1800 + 2700) / 4, (3600 + 1800 + 2700) / 3, 2, 1, 2),
    ]


def test_a_period_without_incidents_has_nothing_to_average(any_store: Store) -> None:
    with any_store.engine.connect() as connection:
        assert incident_stats(connection, T0, T0 + DAY) == [
            SeverityStats(None, 0, None, None, 0, 0, 0)
        ]
