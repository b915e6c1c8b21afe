"""Messages: the title, body and Apprise notify type people receive for a group of alert events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from watchkeeper.alerting.model import EventKind, Severity
from watchkeeper.config.units import format_duration

NotifyTypeName = Literal["info", "success", "warning", "failure"]
"""Apprise's notify types, which channels show as colours or icons."""

_LOUDNESS: dict[NotifyTypeName, int] = {"success": 0, "info": 1, "warning": 2, "failure": 3}
_PROBLEMS = (EventKind.FIRING, EventKind.ESCALATED, EventKind.REMINDER)
_NAMES_IN_TITLE = 5


@dataclass(frozen=True)
class EventView:
    """What a message says about one alert event, as the engine reads it from a notification."""

    kind: EventKind
    check: str
    service: str | None
    severity: Severity
    dedup_key: str
    since: datetime
    at: datetime
    message: str


def notify_type(event: EventView) -> NotifyTypeName:
    """Given an event, return failure (critical), warning, success (recovered) or info (the rest)."""
    if event.kind in (EventKind.RESOLVED, EventKind.STABLE):
        return "success"
    if event.kind is EventKind.FLAPPING or event.severity is Severity.INFO:
        return "info"
    return "failure" if event.severity is Severity.CRITICAL else "warning"


def compose(
    events: Sequence[EventView], base_url: str | None, *, digest: bool = False
) -> tuple[str, str, NotifyTypeName]:
    """Given the events of one group for one channel, return (title, body, notify type).

    Events are listed loudest first; a digest is one line per event under ``Digest: N alerts``.
    """
    if not events:
        raise ValueError("a message needs at least one event")
    ordered = sorted(events, key=_loudness, reverse=True)
    if digest:
        lines = [_digest_line(event, base_url) for event in ordered]
        return f"Digest: {_alerts(len(ordered))}", "\n".join(lines), "info"
    loudest = ordered[0]
    if len(ordered) == 1:
        return _title(loudest), _body(loudest, base_url), notify_type(loudest)
    tag = loudest.severity.name if loudest.kind in _PROBLEMS else loudest.kind.name
    title = f"[{tag}] {_alerts(len(ordered))}: {_names(ordered)}"
    body = "\n\n".join(f"{_title(event)}\n{_body(event, base_url)}" for event in ordered)
    return title, body, notify_type(loudest)


def _loudness(event: EventView) -> tuple[int, int]:
    return _LOUDNESS[notify_type(event)], event.severity.rank


def _alerts(count: int) -> str:
    return f"{count} alert" if count == 1 else f"{count} alerts"


def _names(events: Sequence[EventView]) -> str:
    names = list(dict.fromkeys(event.check for event in events))
    shown = ", ".join(names[:_NAMES_IN_TITLE])
    hidden = len(names) - _NAMES_IN_TITLE
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def _title(event: EventView) -> str:
    check, severity = event.check, event.severity.value
    return {
        EventKind.FIRING: f"[{event.severity.name}] {check} is failing",
        EventKind.ESCALATED: f"[{event.severity.name}] {check} escalated to {severity}",
        EventKind.REMINDER: f"[REMINDER] {check} is still failing ({severity})",
        EventKind.RESOLVED: f"[RESOLVED] {check} recovered",
        EventKind.FLAPPING: f"[FLAPPING] {check} is flapping",
        EventKind.STABLE: f"[STABLE] {check} is stable again",
    }[event.kind]


def _body(event: EventView, base_url: str | None) -> str:
    lines = [event.message] if event.message else []
    if event.service:
        lines.append(f"Service: {event.service}")
    lines.append(_when(event))
    lines.append(f"Dedup key: {event.dedup_key}")
    if base_url:
        lines.append(_link(event.check, base_url))
    return "\n".join(lines)


def _when(event: EventView) -> str:
    since, lasted = _utc(event.since), _lasted(event)
    if event.kind is EventKind.RESOLVED:
        return f"Recovered at {_utc(event.at)} after failing since {since} ({lasted})."
    if event.kind is EventKind.FLAPPING:
        return f"Changing state since {since} ({lasted}); notifications pause until it settles."
    if event.kind is EventKind.STABLE:
        return f"Stable again at {_utc(event.at)}; notifications resume."
    return f"Failing since {since} ({lasted})."


def _digest_line(event: EventView, base_url: str | None) -> str:
    what = f": {event.message}" if event.message else ""
    line = f"- {_title(event)}{what} (since {_utc(event.since)}, {_lasted(event)})"
    return f"{line}\n  {_link(event.check, base_url)}" if base_url else line


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lasted(event: EventView) -> str:
    seconds = round((event.at.astimezone(UTC) - event.since.astimezone(UTC)).total_seconds())
    return f"for {format_duration(seconds)}" if seconds >= 1 else "just now"


def _link(check: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/checks/{quote(check, safe='')}"
