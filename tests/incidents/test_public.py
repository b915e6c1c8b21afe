"""The status page's view of incidents: only public updates, never titles or internal notes."""

from __future__ import annotations

from datetime import timedelta

from tests.incidents import T0, make_config, minutes
from watchkeeper.incidents.lifecycle import add_note, open_incident, resolve
from watchkeeper.incidents.model import IncidentState
from watchkeeper.incidents.public import public_incidents
from watchkeeper.store.store import Store


def test_only_incidents_with_public_updates_are_shown_with_those_updates(any_store: Store) -> None:
    config = make_config().incidents
    with any_store.engine.begin() as connection:
        quiet = open_incident(
            connection, config, title="db-01 disk", severity="P2", actor="ana", now=T0
        )
        loud = open_incident(
            connection, config, title="10.0.0.3 refused", severity="P1", actor="ana", now=T0
        )
        add_note(connection, quiet, "ana", minutes(1), "internal: restarting db-01")
        add_note(connection, loud, "ana", minutes(2), "internal: 10.0.0.3 is down")
        add_note(
            connection, loud, "ana", minutes(3), "Checkout is failing; we are on it.", public=True
        )
        add_note(connection, loud, "ana", minutes(9), "A fix is rolling out.", public=True)
    with any_store.engine.connect() as connection:
        shown = public_incidents(connection, T0 - timedelta(days=7))
    assert [i.id for i in shown] == [loud]
    assert [u.text for u in shown[0].updates] == [
        "A fix is rolling out.",
        "Checkout is failing; we are on it.",
    ]
    assert shown[0].state_text == "Investigating"


def test_a_resolved_incident_is_shown_only_while_resolved_since_the_cut_off(
    any_store: Store,
) -> None:
    config = make_config().incidents
    with any_store.engine.begin() as connection:
        incident = open_incident(connection, config, title="x", severity="P2", actor="ana", now=T0)
        add_note(connection, incident, "ana", minutes(1), "Investigating slow pages.", public=True)
        resolve(connection, incident, "ana", minutes(30))
    with any_store.engine.connect() as connection:
        week_later = public_incidents(
            connection, minutes(30) + timedelta(days=7) - timedelta(days=7)
        )
        after = public_incidents(connection, minutes(31))
    assert [(i.id, i.state) for i in week_later] == [(incident, IncidentState.RESOLVED)]
    assert week_later[0].state_text == "Resolved"
    assert after == []
