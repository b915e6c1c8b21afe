"""How times, lengths of time, uptimes and measurements are shown on the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchkeeper.engine.evaluator import format_value

MEASUREMENTS_SHOWN = 40


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    """Return the time zone called ``name``, UTC if this system does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class Clock:
    """One request's "now" and the configured time zone, to show times as people read them."""

    def __init__(self, now: datetime, tz: ZoneInfo) -> None:
        self.now = now
        self.tz = tz

    def ago(self, moment: datetime | None) -> str:
        """Return ``moment`` relative to now: ``12s ago``, ``3h ago``, ``in 5m``."""
        if moment is None:
            return ""
        seconds = (self.now - moment).total_seconds()
        left = abs(seconds)
        if left < 1:
            return "now"
        if left < 60:
            text = f"{left:.0f}s"
        elif left < 3600:
            text = f"{left // 60:.0f}m"
        elif left < 86400:
            text = f"{left // 3600:.0f}h"
        else:
            text = f"{left // 86400:.0f}d"
        return f"in {text}" if seconds < 0 else f"{text} ago"

    def local(self, moment: datetime | None) -> str:
        """Return ``moment`` as a date and time in the configured zone."""
        if moment is None:
            return ""
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def span_words(seconds: float) -> str:
    """Given a length of time, return it as people say it: ``45 s``, ``20 min``, ``1 h 5 min``, ``3 d``."""
    rest = round(abs(seconds))
    if rest < 60:
        return f"{rest} s"
    if rest < 3600:
        return f"{rest // 60} min"
    hours, minutes = divmod(rest // 60, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if hours < 10 and minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if days < 3 and hours else f"{days} d"


def ago_words(moment: datetime | None, now: datetime) -> str:
    """Given a past moment, return ``12 min ago`` (``just now`` under a second)."""
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    if abs(seconds) < 1:
        return "just now"
    return f"{span_words(seconds)} ago" if seconds > 0 else f"in {span_words(seconds)}"


def due_words(due: datetime | None, now: datetime) -> str:
    """Given a deadline, return ``due in 3 h`` or ``overdue by 20 min`` (empty for none)."""
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    return f"due in {span_words(seconds)}" if seconds >= 0 else f"overdue by {span_words(seconds)}"


def utc(moment: datetime | None) -> str:
    """Given a moment, return it in UTC to the minute: ``2025-03-04 09:15 UTC``."""
    return "" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def percent(ratio: float | None) -> str:
    """Return an uptime ratio as people read it: ``99.95%``, ``100%``, or a dash for no results."""
    if ratio is None:
        return "\N{EN DASH}"
    if ratio >= 1:
        return "100%"
    # Round down, so 99.996% never shows as a perfect 100.00%.
    return f"{int(ratio * 10000) / 100:.2f}%"


def measurements(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Return a result's measurements as (name, value) pairs, nested ones under dotted names."""
    shown: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif len(shown) < MEASUREMENTS_SHOWN:
            shown.append((prefix, format_value(prefix, value)))

    walk("", values)
    return shown
