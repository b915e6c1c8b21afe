"""Tests of incidents; the helpers below build configs and alerts the way the tests need them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from watchkeeper.alerting import queries
from watchkeeper.config.schema import Config
from watchkeeper.incidents.model import TimelineKind
from watchkeeper.incidents.timeline import entries
from watchkeeper.store.tables import outbox

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
"""When the tests' incidents open (a Friday noon, UTC)."""


def minutes(n: float) -> datetime:
    """Return the moment ``n`` minutes after T0."""
    return T0 + timedelta(minutes=n)


def make_config(incidents: dict[str, Any] | None = None, **more: Any) -> Config:
    """Return a config with three channels, two HTTP checks and the given incidents section.

    The default escalation: level 1 (oncall) at once, level 2 (lead) after 30m, level 3
    (manager) after 2h.
    """
    section = {
        "escalation": [
            {"level": 1, "notify": "oncall"},
            {"level": 2, "after": "30m", "notify": "lead"},
            {"level": 3, "after": "2h", "notify": "manager"},
        ],
        **(incidents or {}),
    }
    return Config.model_validate(
        {
            "notifications": {
                "channels": {
                    name: [f"json://127.0.0.1:9/{name}"] for name in ("oncall", "lead", "manager")
                }
            },
            "checks": [
                {
                    "name": "api-health",
                    "service": "backend",
                    "http": {"url": "http://127.0.0.1:9/"},
                },
                {"name": "db", "service": "database", "tcp": {"host": "127.0.0.1", "port": 9}},
            ],
            "incidents": section,
            **more,
        }
    )


def fire(
    connection: Connection,
    check: str,
    at: datetime = T0,
    *,
    severity: str = "critical",
    message: str = "HTTP 503",
    caused_by: str | None = None,
) -> int:
    """Insert a firing alert for ``check`` as the alert engine would; return its id."""
    return queries.insert_alert(
        connection,
        dedup_key=f"{check}@{at.isoformat()}",
        check_name=check,
        service=None,
        severity=severity,
        state="firing",
        since=at,
        fired_at=at,
        message=message,
        measurements={},
        caused_by=caused_by,
    )


def channels_told(connection: Connection) -> list[str]:
    """Return the channel of every message in the outbox, oldest first."""
    return list(connection.scalars(select(outbox.c.channel).order_by(outbox.c.id)))


def kinds(connection: Connection, incident_id: int) -> list[TimelineKind]:
    """Return the kinds of the incident's timeline entries, in order."""
    return [entry.kind for entry in entries(connection, incident_id)]
