"""Whether and where an alert event is announced: maintenance, silences, inhibition, routing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from watchkeeper.alerting import queries
from watchkeeper.alerting.model import AlertEvent, CheckInfo, EventKind, Suppression
from watchkeeper.alerting.routing import route
from watchkeeper.alerting.silences import active_silence, active_window, inhibited
from watchkeeper.config.schema import Config

log = logging.getLogger("watchkeeper.alerting")

ANNOUNCING = frozenset({EventKind.FIRING, EventKind.ESCALATED, EventKind.REMINDER})
"""Events that tell people something is wrong (as opposed to resolved, flapping, stable)."""


class Notifier:
    """Turns alert events into notification rows, each queued for a channel or suppressed."""

    def __init__(self, config: Config, checks: Mapping[str, CheckInfo]) -> None:
        self.config = config
        self.checks = checks
        self.tz = ZoneInfo(config.defaults.timezone)

    def notify(
        self,
        connection: Connection,
        info: CheckInfo,
        event: AlertEvent,
        alert_id: int | None,
        reason: Suppression | None,
        now: datetime,
    ) -> None:
        """Record the event's notification: queued for its channels, or suppressed with the reason."""
        labels = info.labels(event.severity)
        if reason is None and active_window(self.config.maintenance, labels, now, self.tz):
            reason = Suppression.MAINTENANCE
        if reason is None and active_silence(queries.active_silences(connection, now), labels, now):
            reason = Suppression.SILENCED
        if reason is None and event.kind in ANNOUNCING:
            firing = [
                self.checks[a.check].labels(a.severity)
                for a in queries.firing_alerts(connection)
                if a.check in self.checks and a.check != info.name and not a.caused_by
            ]
            if inhibited(labels, firing, self.config.alerting.inhibit):
                reason = Suppression.INHIBITED
        payload = {
            "kind": event.kind.value,
            "check": info.name,
            "service": info.service,
            "severity": event.severity.value,
            "dedup_key": event.dedup_key,
            "since": event.since.isoformat(),
            "at": event.at.isoformat(),
            "message": event.message,
        }
        common = {
            "alert_id": alert_id,
            "kind": event.kind.value,
            "check_name": info.name,
            "severity": event.severity.value,
            "created_at": now,
            "payload": payload,
        }
        deliveries = (
            []
            if reason
            else route(
                labels,
                info.rule.route,
                self.config.notifications.routes,
                self.config.notifications.channels,
                now,
                self.tz,
                lambda channel, key: queries.last_dispatch(connection, channel, key),
            )
        )
        if reason is None and not deliveries:
            reason = Suppression.UNROUTED
            log.warning("no route matches the alert of %s; add a route or channels", info.name)
        if reason is not None:
            queries.add_notification(
                connection,
                channel=None,
                group_key="",
                due_at=now,
                suppressed=reason.value,
                **common,
            )
            return
        for delivery in deliveries:
            queries.add_notification(
                connection,
                channel=delivery.channel,
                group_key=delivery.group_key,
                due_at=delivery.due_at,
                **common,
            )
        if alert_id is not None and event.kind in ANNOUNCING:
            queries.update_alert(connection, alert_id, last_notified_at=now)
