"""How times, uptimes and measurements are shown on the pages."""

from __future__ import annotations

from datetime import datetime
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
