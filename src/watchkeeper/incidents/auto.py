"""Incidents opened by alerts: a firing alert matching an ``open_when`` rule opens one, or joins
the incident already open for its check; an attached alert's recovery goes on the timeline.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, exists, select, text

from watchkeeper.alerting import queries
from watchkeeper.alerting.matching import matches
from watchkeeper.alerting.model import AlertStatus, Labels
from watchkeeper.alerting.queries import AlertRow
from watchkeeper.alerting.silences import Silence, active_silence, active_window
from watchkeeper.config.schema import Config
from watchkeeper.incidents import lifecycle, records
from watchkeeper.incidents.model import MACHINE, TimelineKind
from watchkeeper.incidents.timeline import add_entry
from watchkeeper.store.tables import alerts, incident_alerts, incident_events, incidents

log = logging.getLogger("watchkeeper.incidents.auto")

TITLE_LENGTH = 120
_LOCK = 0x57494E43
"""Any constant: it names the PostgreSQL lock held by the worker opening incidents from alerts."""


def open_from_alerts(connection: Connection, config: Config, now: datetime) -> list[int]:
    """Open or join incidents for the firing alerts ``open_when`` selects; return the ids opened.

    An alert already attached, held for an upstream failure, of a check no longer configured,
    silenced or in a maintenance window opens nothing (it may once that changes).
    """
    if not _sole_opener(connection):
        return []
    opened: list[int] = []
    if config.incidents.open_when:
        firing = queries.firing_alerts(connection)
        attached = records.attached_among(connection, [a.id for a in firing])
        candidates = [a for a in firing if a.id not in attached and not a.caused_by]
        if candidates:
            choose = _Chooser(config, queries.active_silences(connection, now))
            for alert in candidates:
                severity = choose.severity(alert, now)
                if severity is None:
                    continue
                try:
                    # pysqlite may commit this savepoint alone: fine, each alert's work is separate.
                    with connection.begin_nested():
                        incident_id = _open_or_join(connection, config, alert, severity, now)
                except Exception:
                    log.exception("cannot open an incident for alert %d; skipping it", alert.id)
                    continue
                if incident_id is not None:
                    opened.append(incident_id)
    note_recoveries(connection, now)
    return opened


def note_recoveries(connection: Connection, now: datetime) -> int:
    """Put each attached alert's resolution on its incident's timeline, once; return how many."""
    recorded = exists().where(
        incident_events.c.incident_id == incident_alerts.c.incident_id,
        incident_events.c.kind == TimelineKind.ALERT.value,
        incident_events.c.data["alert_id"].as_integer() == incident_alerts.c.alert_id,
        incident_events.c.data["alert_state"].as_string() == AlertStatus.RESOLVED.value,
    )
    query = (
        select(incident_alerts.c.incident_id, alerts)
        .join(alerts, alerts.c.id == incident_alerts.c.alert_id)
        .join(incidents, incidents.c.id == incident_alerts.c.incident_id)
        .where(
            and_(
                alerts.c.state == AlertStatus.RESOLVED.value,
                incidents.c.state.in_(records.ACTIVE),
                ~recorded,
            )
        )
        .order_by(alerts.c.resolved_at, alerts.c.id)
    )
    rows = list(connection.execute(query))
    for row in rows:
        add_entry(
            connection,
            row.incident_id,
            TimelineKind.ALERT,
            row.resolved_at or now,
            None,
            f"alert {row.check_name} resolved",
            {
                "alert_id": row.id,
                "check": row.check_name,
                "alert_state": AlertStatus.RESOLVED.value,
            },
        )
    return len(rows)


def _sole_opener(connection: Connection) -> bool:
    """Return False while another worker's transaction is opening incidents (PostgreSQL only).

    Two workers opening from the same alert at once would make two incidents, or record one
    recovery twice; the loser of this lock leaves the alerts to the winner, whose commit it sees
    on its next pass.
    """
    if connection.dialect.name != "postgresql":
        return True  # SQLite runs one writer at a time
    return bool(connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK}))


class _Chooser:
    """Decides the severity of the incident an alert opens, if any, under one config."""

    def __init__(self, config: Config, silences: list[Silence]) -> None:
        self.config = config
        self.checks = {check.name: check for check in config.checks}
        self.silences = silences
        self.zone = ZoneInfo(config.defaults.timezone)

    def severity(self, alert: AlertRow, now: datetime) -> str | None:
        """Return the severity the first matching rule gives the alert, or None if it opens nothing."""
        check = self.checks.get(alert.check)
        if check is None:
            return None
        labels = Labels(check.name, check.service, check.tags, alert.severity, check.kind)
        if active_silence(self.silences, labels, now) is not None:
            return None
        if active_window(self.config.maintenance, labels, now, self.zone) is not None:
            return None
        rules = self.config.incidents.open_when
        rule = next((r for r in rules if matches(r.match, labels)), None)
        return None if rule is None else rule.severity


def _open_or_join(
    connection: Connection, config: Config, alert: AlertRow, severity: str, now: datetime
) -> int | None:
    """Attach the alert to its check's active incident, or open one; return the id if opened."""
    source_key = f"check:{alert.check}"
    current = records.active_for_source(connection, source_key)
    if current is not None:
        lifecycle.attach(connection, current.id, alert.id, now)
        return None
    title = f"{alert.check}: {alert.message}"
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1] + "…"
    return lifecycle.open_incident(
        connection,
        config.incidents,
        title=title,
        severity=severity,
        actor=MACHINE,
        now=now,
        source_key=source_key,
        alert_ids=[alert.id],
        base_url=config.server.base_url,
    )
