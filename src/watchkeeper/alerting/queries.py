"""The alerting tables, read and written: cursors, check states, alerts, silences, notifications.

Every function takes the caller's connection, so the engine does each step in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from watchkeeper.alerting.model import AlertStatus, CheckState, Severity
from watchkeeper.alerting.silences import Silence
from watchkeeper.alerting.state import from_json, to_json
from watchkeeper.results import Result, Status
from watchkeeper.store.store import result_from_row
from watchkeeper.store.tables import alert_states, alerts, cursors, notifications, results, silences


@dataclass(frozen=True)
class AlertRow:
    """An alert as stored: what fired, since when, and whether anyone was told."""

    id: int
    dedup_key: str
    check: str
    service: str | None
    severity: Severity
    state: AlertStatus
    since: datetime
    fired_at: datetime
    resolved_at: datetime | None
    message: str
    caused_by: str | None
    flapping: bool
    last_notified_at: datetime | None


def read_cursor(connection: Connection, name: str) -> int | None:
    """Return how far consumer ``name`` has read, or None if it never has."""
    position = connection.scalar(select(cursors.c.position).where(cursors.c.name == name))
    return None if position is None else int(position)


def write_cursor(connection: Connection, name: str, position: int, *, new: bool) -> None:
    """Record how far consumer ``name`` has read."""
    if new:
        connection.execute(insert(cursors).values(name=name, position=position))
    else:
        connection.execute(update(cursors).where(cursors.c.name == name).values(position=position))


def last_result_id(connection: Connection) -> int:
    """Return the id of the newest result (0 for none)."""
    return int(connection.scalar(select(func.max(results.c.id))) or 0)


def results_between(
    connection: Connection, after: int, upto: int, checks: Collection[str]
) -> list[tuple[int, Result]]:
    """Return results with ``after < id <= upto`` that failed or belong to ``checks``, oldest first.

    Passing results of checks that are settled at ok change nothing, so they are not read at all.
    """
    relevant = results.c.status != Status.OK.value
    if checks:
        relevant = relevant | results.c.check_name.in_(list(checks))
    rows = connection.execute(
        select(results)
        .where(results.c.id > after, results.c.id <= upto, relevant)
        .order_by(results.c.id)
    )
    return [(row.id, result_from_row(row)) for row in rows]


def load_states(
    connection: Connection, checks: Iterable[str] | None = None
) -> dict[str, CheckState]:
    """Return the stored state of the given checks (all checks when None)."""
    query = select(alert_states.c.data)
    if checks is not None:
        query = query.where(alert_states.c.check_name.in_(list(checks)))
    return {s.check: s for s in (from_json(data) for (data,) in connection.execute(query))}


def save_states(
    connection: Connection, states: Iterable[CheckState], now: datetime, known: set[str]
) -> None:
    """Write check states; ``known`` names those already stored (updated rather than inserted)."""
    for state in states:
        values = {"data": to_json(state), "updated_at": now}
        if state.check in known:
            connection.execute(
                update(alert_states)
                .where(alert_states.c.check_name == state.check)
                .values(**values)
            )
        else:
            connection.execute(insert(alert_states).values(check_name=state.check, **values))
            known.add(state.check)


def firing_alerts(connection: Connection) -> list[AlertRow]:
    """Return every alert still firing."""
    return _alerts(connection, select(alerts).where(alerts.c.state == AlertStatus.FIRING.value))


def recent_alerts(connection: Connection, since: datetime) -> list[AlertRow]:
    """Return alerts firing now or fired or resolved since ``since``, newest first."""
    query = (
        select(alerts)
        .where(
            (alerts.c.state == AlertStatus.FIRING.value)
            | (alerts.c.fired_at >= since)
            | (alerts.c.resolved_at >= since)
        )
        .order_by(alerts.c.fired_at.desc())
    )
    return _alerts(connection, query)


def alerts_for_check(connection: Connection, check: str, limit: int = 20) -> list[AlertRow]:
    """Return the check's newest alerts, firing or resolved."""
    query = (
        select(alerts)
        .where(alerts.c.check_name == check)
        .order_by(alerts.c.fired_at.desc())
        .limit(limit)
    )
    return _alerts(connection, query)


def alerts_by_id(connection: Connection, ids: Collection[int]) -> list[AlertRow]:
    """Return the alerts with these ids, oldest id first (ids of no alert are left out)."""
    if not ids:
        return []
    return _alerts(
        connection, select(alerts).where(alerts.c.id.in_(list(ids))).order_by(alerts.c.id)
    )


def alert_by_key(connection: Connection, dedup_key: str) -> AlertRow | None:
    """Return the alert with this dedup key, if any."""
    found = _alerts(connection, select(alerts).where(alerts.c.dedup_key == dedup_key))
    return found[0] if found else None


def insert_alert(connection: Connection, **values: Any) -> int:
    """Insert an alert and return its id."""
    inserted = connection.execute(insert(alerts).values(**values).returning(alerts.c.id))
    return int(inserted.scalar_one())


def update_alert(connection: Connection, alert_id: int, **values: Any) -> None:
    """Change an alert's columns."""
    connection.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))


def active_silences(connection: Connection, now: datetime) -> list[Silence]:
    """Return the silences in force at ``now``."""
    query = select(silences).where(
        silences.c.removed_at.is_(None), silences.c.starts_at <= now, silences.c.ends_at > now
    )
    return [_silence(row) for row in connection.execute(query)]


def all_silences(connection: Connection, now: datetime) -> list[Silence]:
    """Return silences not removed and not yet expired, soonest-ending first."""
    query = (
        select(silences)
        .where(silences.c.removed_at.is_(None), silences.c.ends_at > now)
        .order_by(silences.c.ends_at)
    )
    return [_silence(row) for row in connection.execute(query)]


def add_silence(
    connection: Connection,
    matchers: Mapping[str, tuple[str, ...]],
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    comment: str,
) -> int:
    """Create a silence and return its id."""
    inserted = connection.execute(
        insert(silences)
        .values(
            matchers={k: list(v) for k, v in matchers.items()},
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
            created_at=starts_at,
        )
        .returning(silences.c.id)
    )
    return int(inserted.scalar_one())


def remove_silence(connection: Connection, silence_id: int, now: datetime) -> bool:
    """End a silence now; return False if there is no such active silence."""
    changed = connection.execute(
        update(silences)
        .where(silences.c.id == silence_id, silences.c.removed_at.is_(None))
        .values(removed_at=now)
    )
    return bool(changed.rowcount)


def add_notification(connection: Connection, **values: Any) -> None:
    """Record one notification: waiting to be dispatched, or suppressed with its reason."""
    connection.execute(insert(notifications).values(**values))


def due_notifications(connection: Connection, now: datetime) -> list[Any]:
    """Return the undispatched notifications of every (channel, group) that has one due by ``now``."""
    waiting = (
        notifications.c.dispatched_at.is_(None),
        notifications.c.suppressed.is_(None),
        notifications.c.channel.is_not(None),
    )
    due_groups = (
        select(notifications.c.channel, notifications.c.group_key)
        .where(*waiting, notifications.c.due_at <= now)
        .distinct()
        .subquery()
    )
    query = (
        select(notifications)
        .join(
            due_groups,
            (notifications.c.channel == due_groups.c.channel)
            & (notifications.c.group_key == due_groups.c.group_key),
        )
        .where(*waiting)
        .order_by(notifications.c.id)
    )
    return list(connection.execute(query))


def mark_dispatched(connection: Connection, ids: list[int], now: datetime) -> None:
    """Record that these notifications went into a message."""
    connection.execute(
        update(notifications).where(notifications.c.id.in_(ids)).values(dispatched_at=now)
    )


def last_dispatch(connection: Connection, channel: str, group_key: str) -> datetime | None:
    """Return when a message for this channel and group last went out."""
    value = connection.scalar(
        select(func.max(notifications.c.dispatched_at)).where(
            notifications.c.channel == channel, notifications.c.group_key == group_key
        )
    )
    return value if isinstance(value, datetime) else None


def _alerts(connection: Connection, query: Any) -> list[AlertRow]:
    return [
        AlertRow(
            id=row.id,
            dedup_key=row.dedup_key,
            check=row.check_name,
            service=row.service,
            severity=Severity(row.severity),
            state=AlertStatus(row.state),
            since=row.since,
            fired_at=row.fired_at,
            resolved_at=row.resolved_at,
            message=row.message,
            caused_by=row.caused_by,
            flapping=bool(row.flapping),
            last_notified_at=row.last_notified_at,
        )
        for row in connection.execute(query)
    ]


def _silence(row: Any) -> Silence:
    return Silence(
        id=row.id,
        matchers={k: tuple(v) for k, v in row.matchers.items()},
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_by=row.created_by,
        comment=row.comment,
    )
