"""The alert engine: new results advance each check's state; events become notifications; due
notifications become messages in the outbox.

The database is the work queue. ``process`` reads results past a cursor and writes states, alerts,
notifications and the cursor in one transaction, so a crash or SIGKILL loses nothing and repeats
nothing; ``dispatch`` turns due notifications into outbox messages in another.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from watchkeeper.alerting import queries
from watchkeeper.alerting.channels import NotifyType
from watchkeeper.alerting.messages import EventView, compose
from watchkeeper.alerting.model import (
    AlertEvent,
    AlertStatus,
    CheckInfo,
    CheckState,
    EventKind,
    Phase,
    Severity,
    Suppression,
)
from watchkeeper.alerting.notify import ANNOUNCING, Notifier
from watchkeeper.alerting.outbox import enqueue
from watchkeeper.alerting.state import advance, remind
from watchkeeper.config.schema import Config
from watchkeeper.results import Status

CURSOR = "alerting"
BATCH = 2000
"""Results read per transaction."""


class AlertEngine:
    """Turns stored results into alerts and queued messages, one transaction at a time."""

    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = engine
        self._unsettled: set[str] | None = None
        """Checks whose state is not a plain ok; loaded from the store on the first pass."""
        self.set_config(config)

    def set_config(self, config: Config) -> None:
        """Use this config from the next step on (a reload keeps every alert and state)."""
        self.config = config
        self.checks = {
            c.name: CheckInfo(c.name, c.service, c.tags, c.kind, config.alert_rule(c), c.depends_on)
            for c in config.checks
        }
        self.notifier = Notifier(config, self.checks)
        self._retire_pending = True

    def process(self, now: datetime) -> int:
        """Advance alert states with every new result and send reminders; return results read."""
        read = 0
        while True:
            try:
                with self.engine.begin() as connection:
                    if self._retire_pending:
                        self._retire(connection, now)
                    batch, changed = self._advance(connection, now)
                    if batch == 0:
                        self._remind(connection, now)
            except Exception:
                self._unsettled = None  # what was learnt in the failed transaction did not happen
                raise
            self._note_settled(changed)
            if batch == 0:
                return read
            read += batch

    def dispatch(self, now: datetime) -> int:
        """Group due notifications into one message per channel and group; return messages queued."""
        with self.engine.begin() as connection:
            groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
            for row in queries.due_notifications(connection, now):
                groups[(row.channel, row.group_key)].append(row)
            for (channel, group_key), rows in groups.items():
                events = [_view(row.payload) for row in rows]
                title, body, kind = compose(
                    events, self.config.server.base_url, digest=group_key.startswith("digest")
                )
                enqueue(connection, channel, title, body, NotifyType(kind), now)
                queries.mark_dispatched(connection, [row.id for row in rows], now)
            return len(groups)

    def _advance(self, connection: Connection, now: datetime) -> tuple[int, list[CheckState]]:
        """Advance states with the next window of results; return ids consumed and changed states."""
        cursor = queries.read_cursor(connection, CURSOR)
        last = queries.last_result_id(connection)
        if cursor is None:
            # First run on this store: alert on what happens from now on, not on old history.
            queries.write_cursor(connection, CURSOR, last, new=True)
            return 0, []
        if last <= cursor:
            return 0, []
        if self._unsettled is None:
            self._unsettled = {
                s.check for s in queries.load_states(connection).values() if not _settled(s)
            }
        upto = min(last, cursor + BATCH)
        batch = queries.results_between(connection, cursor, upto, self._unsettled)
        names = {r.check for _, r in batch if r.check in self.checks}
        states = queries.load_states(connection, names | self._dependencies(names))
        stored = set(states)
        changed: dict[str, CheckState] = {}
        for _, result in batch:
            info = self.checks.get(result.check)
            if info is None or not info.rule.enabled:
                continue
            state = states.get(result.check) or CheckState(check=result.check)
            override = Severity(info.rule.severity) if info.rule.severity else None
            state, events = advance(
                state, result, info.rule, self.config.alerting.flapping, override
            )
            states[result.check] = changed[result.check] = state
            for event in events:
                self._handle(connection, info, event, states, now)
            if not events and state.phase is Phase.FIRING and info.depends_on:
                self._release(connection, info, state, states, now)
        queries.save_states(connection, changed.values(), now, stored)
        queries.write_cursor(connection, CURSOR, upto, new=False)
        return upto - cursor, list(changed.values())

    def _retire(self, connection: Connection, now: datetime) -> None:
        """Resolve the alerts of checks no longer configured or alerting, so none fires forever."""
        for alert in queries.firing_alerts(connection):
            info = self.checks.get(alert.check)
            if info is None or not info.rule.enabled:
                queries.update_alert(
                    connection,
                    alert.id,
                    state=AlertStatus.RESOLVED,
                    resolved_at=now,
                    message=f"{alert.message} (check removed from alerting)",
                )
        self._retire_pending = False

    def _note_settled(self, changed: list[CheckState]) -> None:
        """Remember, once committed, which checks a passing result can no longer change."""
        if self._unsettled is None:
            return
        for state in changed:
            if _settled(state):
                self._unsettled.discard(state.check)
            else:
                self._unsettled.add(state.check)

    def _remind(self, connection: Connection, now: datetime) -> None:
        firing = queries.firing_alerts(connection)
        if not firing:
            return
        states = queries.load_states(connection, {a.check for a in firing})
        changed = []
        for alert in firing:
            info, state = self.checks.get(alert.check), states.get(alert.check)
            if info is None or state is None or state.phase is not Phase.FIRING:
                continue
            if alert.caused_by:
                continue  # held for an upstream failure: nobody was told, so nobody is reminded
            state, reminder = remind(state, now, info.rule)
            if reminder is not None:
                changed.append(state)
                self._handle(connection, info, reminder, states, now)
        queries.save_states(connection, changed, now, set(states))

    def _release(
        self,
        connection: Connection,
        info: CheckInfo,
        state: CheckState,
        states: dict[str, CheckState],
        now: datetime,
    ) -> None:
        """Announce a held alert whose upstream failure is over while this check still fails."""
        alert = queries.alert_by_key(connection, state.dedup_key or "")
        if (
            alert is None
            or not alert.caused_by
            or self._failing_dependency(info, states, connection)
        ):
            return
        queries.update_alert(connection, alert.id, caused_by=None)
        event = AlertEvent(
            EventKind.FIRING,
            info.name,
            alert.dedup_key,
            alert.severity,
            now,
            alert.since,
            state.last_message,
            state.last_measurements,
        )
        self.notifier.notify(connection, info, event, alert.id, None, now)

    def _handle(
        self,
        connection: Connection,
        info: CheckInfo,
        event: AlertEvent,
        states: dict[str, CheckState],
        now: datetime,
    ) -> None:
        alert = queries.alert_by_key(connection, event.dedup_key)
        upstream = (
            self._failing_dependency(info, states, connection) if event.kind in ANNOUNCING else None
        )
        if event.kind is EventKind.FIRING and alert is None:
            alert_id = queries.insert_alert(
                connection,
                dedup_key=event.dedup_key,
                check_name=info.name,
                service=info.service,
                severity=event.severity.value,
                state=AlertStatus.FIRING,
                since=event.since,
                fired_at=event.at,
                message=event.message,
                measurements=event.measurements,
                caused_by=upstream,
            )
        elif alert is not None:
            alert_id = alert.id
            changes: dict[str, object] = {}
            if event.kind is EventKind.RESOLVED:
                changes = {"state": AlertStatus.RESOLVED, "resolved_at": event.at}
            elif event.kind is EventKind.ESCALATED:
                changes = {"severity": event.severity.value, "message": event.message}
            elif event.kind in (EventKind.FLAPPING, EventKind.STABLE):
                changes = {"flapping": event.kind is EventKind.FLAPPING}
            if changes:
                queries.update_alert(connection, alert_id, **changes)
        else:
            alert_id = None
        if event.kind is EventKind.STABLE:
            self._close_stale(connection, info, states[info.name], now)
        never_told = alert is not None and alert.last_notified_at is None
        reason: Suppression | None = None
        if upstream:
            reason = Suppression.UPSTREAM
        elif event.kind is EventKind.RESOLVED and (never_told or not info.rule.notify_resolved):
            reason = Suppression.NOT_WANTED
        self.notifier.notify(connection, info, event, alert_id, reason, now)

    def _close_stale(
        self, connection: Connection, info: CheckInfo, state: CheckState, now: datetime
    ) -> None:
        """Resolve this check's open alerts that flapping left behind (it recovered while muted)."""
        for alert in queries.firing_alerts(connection):
            if alert.check != info.name or alert.dedup_key == state.dedup_key:
                continue
            queries.update_alert(connection, alert.id, state=AlertStatus.RESOLVED, resolved_at=now)
            event = AlertEvent(
                EventKind.RESOLVED,
                info.name,
                alert.dedup_key,
                alert.severity,
                now,
                alert.since,
                f"recovered while flapping; now {state.last_status or 'ok'}",
            )
            told = alert.last_notified_at is not None and info.rule.notify_resolved
            self.notifier.notify(
                connection, info, event, alert.id, None if told else Suppression.NOT_WANTED, now
            )

    def _dependencies(self, names: set[str]) -> set[str]:
        return {dep for name in names for dep in self.checks[name].depends_on}

    def _failing_dependency(
        self, info: CheckInfo, states: dict[str, CheckState], connection: Connection
    ) -> str | None:
        missing = [d for d in info.depends_on if d not in states]
        if missing:
            states.update(queries.load_states(connection, missing))
        for dep in info.depends_on:
            state = states.get(dep)
            if state is not None and state.phase is not Phase.OK:
                return dep
        return None


def _settled(state: CheckState) -> bool:
    """Return True when a passing result would change nothing about this state."""
    return state.phase is Phase.OK and state.last_status in (None, Status.OK) and not state.flapping


def _view(payload: dict[str, str]) -> EventView:
    return EventView(
        kind=EventKind(payload["kind"]),
        check=payload["check"],
        service=payload.get("service"),
        severity=Severity(payload["severity"]),
        dedup_key=payload["dedup_key"],
        since=datetime.fromisoformat(payload["since"]),
        at=datetime.fromisoformat(payload["at"]),
        message=payload["message"],
    )
