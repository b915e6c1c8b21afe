"""Incidents inside ``watchkeeper serve``: open incidents from alerts and escalate them, every few
seconds, each pass in one transaction (safe with several workers on one PostgreSQL store).
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Engine, func, select

from watchkeeper.config.schema import Config
from watchkeeper.incidents.auto import open_from_alerts
from watchkeeper.incidents.escalation import escalate
from watchkeeper.incidents.model import TimelineKind
from watchkeeper.store.tables import incident_events


class IncidentWorker:
    """Opens incidents from firing alerts and notifies escalation levels as they come due."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = engine
        self.config = config
        self._one_pass = threading.Lock()

    def set_config(self, config: Config) -> None:
        """Use this config from the next step on; running escalations keep their snapshot."""
        self.config = config

    def step(self, now: datetime) -> int:
        """Open incidents from alerts, then escalate, in one transaction; return messages queued."""
        config = self.config
        with self._one_pass, self.engine.begin() as connection:
            opened = open_from_alerts(connection, config, now)
            queued = 0
            if opened:
                # Opening notified the levels due at once; count those messages too.
                queued += (
                    connection.scalar(
                        select(func.count())
                        .select_from(incident_events)
                        .where(
                            incident_events.c.incident_id.in_(opened),
                            incident_events.c.kind == TimelineKind.NOTIFIED.value,
                        )
                    )
                    or 0
                )
            return queued + escalate(
                connection,
                now,
                config.server.base_url,
                channels=config.notifications.channels.keys(),
            )
